---A new user's first minutes: typing at once, keys that never type by accident, one-line
---messages, several candidates with acceptance feedback, log/restart/chat-model details.

---The ghost text on screen as one string (first line, then the virtual lines).
local function ghost_text(child)
  local marks = child:ghost()
  if #marks == 0 then
    return nil
  end
  local m = marks[1]
  local parts = { m.text ~= vim.NIL and m.text or '' }
  vim.list_extend(parts, m.lines)
  return table.concat(parts, '\n')
end

local ALTERNATIVES = {
  'r):\n    return 3.14159 * r * r',
  'r):\n    return math.pi * r ** 2',
  'radius):\n    return math.pi * radius * radius',
}

return {
  {
    'typing right after :edit gets ghost text, never a "not open" error',
    function(h)
      h.gateway.replies({ { 'def area_of_circle(', 'r):\n    return 3.14159 * r * r' } })
      local child = h.spawn()
      -- No wait for the daemon: the first keystrokes come while it is still starting.
      child:cmd('edit ' .. child.dir .. '/first.py')
      child:input('idef area_of_circle(')
      local marks = child:wait_ghost(20000)
      h.eq('r):', marks[1].text)
      for _, note in ipairs(child:notes()) do
        h.ok(not note.msg:find('failed'), 'no error shown: ' .. note.msg)
      end
      local tail = child:log_text()
      h.ok(not tail:find('not open'), 'the daemon never answered "not open":\n' .. tail)
    end,
  },
  {
    '<M-]> and <M-[> with one suggestion type nothing and keep it',
    function(h)
      local child = h.fake_child()
      child:lua('_G.fake.items = ...', { { insertText = 'b):' } })
      child:input('idef add(a, ')
      child:wait_ghost()
      child:input('<M-]>')
      child:input('<M-[>')
      child:wait('return vim.api.nvim_get_mode().blocking == false', 10000)
      h.eq({ 'def add(a, ' }, child:lines(), 'no bracket typed')
      h.eq('b):', ghost_text(child), 'the one suggestion stays, without a counter')
      h.eq('i', child:mode())
      child:input('<Esc>')
      child:wait('return vim.api.nvim_get_mode().mode == "n"', 10000)
      child:input('a<M-]>')
      child:wait(
        'return vim.api.nvim_buf_get_lines(0, 0, -1, false)[1] == "def add(a, ]"',
        2000,
        'key types itself with nothing shown'
      )
    end,
  },
  {
    'several candidates: <M-]>/<M-[> cycle showing 2/3; accepting runs the item command',
    function(h)
      local child = h.fake_child()
      local cmd = { title = 'accepted', command = 'ardaemon.accepted', arguments = { { model = 'm' } } }
      child:lua('_G.fake.items = ...', {
        { insertText = 'b):', command = cmd },
        { insertText = 'b, c):', command = cmd },
        { insertText = '*args):', command = cmd },
      })
      child:input('idef add(a, ')
      child:wait_ghost()
      h.eq('b):  1/3', ghost_text(child))
      child:input('<M-]>')
      child:wait('return true', 100)
      h.eq('b, c):  2/3', ghost_text(child))
      child:input('<M-]><M-]>')
      child:wait('return true', 100)
      h.eq('b):  1/3', ghost_text(child), 'wraps around')
      child:input('<M-[>')
      child:wait('return true', 100)
      h.eq('*args):  3/3', ghost_text(child), 'previous wraps too')
      child:lua('_G.fake.items = {}')
      child:input('<M-l>')
      child:wait('return vim.api.nvim_buf_get_lines(0, 0, -1, false)[1] == "def add(a, *args):"', 10000, 'accepted')
      local sent = child:wait(
        [[for _, r in ipairs(_G.fake.requests) do if r.method == 'workspace/executeCommand' then return r.params end end]],
        3000,
        'executeCommand'
      )
      h.eq({ command = 'ardaemon.accepted', arguments = { { model = 'm' } } }, sent)
    end,
  },
  {
    'candidates through the daemon: invoked request shows 1/3, accept is counted per model',
    function(h)
      local rules = {}
      for _, r in ipairs(ALTERNATIVES) do
        table.insert(rules, { 'def area_of_circle(', r })
      end
      h.gateway.replies(rules)
      local child = h.daemon_child({ setup = { settings = { completion = { candidates = 3 } } } })
      child:input('idef area_of_circle(')
      child:wait_ghost(15000)
      h.eq(ALTERNATIVES[1], ghost_text(child), 'automatic: one candidate, no counter')
      child:input('<M-\\>')
      child:wait(
        'local m = vim.api.nvim_buf_get_extmarks(0, require("ardaemon.inline").ns, 0, -1, { details = true })[1]; return m and vim.inspect(m[4]):find("1/3")',
        15000,
        'three candidates'
      )
      child:input('<M-]>')
      child:wait('return true', 100)
      local second = ghost_text(child)
      h.matches('  2/3$', second)
      child:input('<M-l>')
      local expected = vim.split(second:gsub('  2/3$', ''), '\n')
      expected[1] = 'def area_of_circle(' .. expected[1]
      child:wait('return #vim.api.nvim_buf_get_lines(0, 0, -1, false) == 2', 10000, 'accepted')
      h.eq(expected, child:lines())
      local status = child:wait(
        [[
        local c = require('ardaemon.client').get()
        local res = c:request_sync('ardaemon/status', {}, 5000)
        local a = res and res.result and res.result.acceptance
        if a and a[1] and a[1].accepted == 1 then return res.result end
      ]],
        5000,
        'accept counted'
      )
      h.eq(1, #status.acceptance)
      h.ok(status.acceptance[1].shown >= 2, 'both answers counted as shown')
    end,
  },
  {
    'messages while typing are one short line; the details are in the log',
    function(h)
      local child = h.daemon_child()
      h.gateway.fault('unauthorized_client')
      child:input('iprint(')
      child:wait('return #_G.notes > 0', 15000, 'a message')
      local columns = child:lua('return vim.o.columns')
      for _, note in ipairs(child:notes()) do
        h.ok(not note.msg:find('\n'), 'one line: ' .. note.msg)
        h.ok(vim.fn.strdisplaywidth(note.msg) < columns - 12, 'fits beside the ruler: ' .. note.msg)
      end
      local tail = child:log_text()
      h.matches('unauthorized_client', tail)
      h.eq('i', child:mode(), 'still typing, no prompt')
      -- The "not found" message at start-up is one line too.
      local other = h.spawn({ setup = { cmd = { 'ardaemon-not-installed-here', 'serve' } } })
      other:cmd('edit ' .. other.dir .. '/x.py')
      other:wait('return #_G.notes > 0', 10000, 'not found message')
      for _, note in ipairs(other:notes()) do
        h.ok(not note.msg:find('\n'), 'one line: ' .. note.msg)
      end
      other:close()
    end,
  },
  {
    ':Ardaemon log opens at the newest line; :Ardaemon restart says it restarted',
    function(h)
      local child = h.daemon_child()
      child:lua([[for i = 1, 200 do require('ardaemon.log').info('filler line %d', i) end]])
      child:cmd('Ardaemon log')
      local at = child:lua('return { vim.fn.line("."), vim.fn.line("$") }')
      h.eq(at[2], at[1], 'cursor on the last line')
      h.ok(at[2] > 200, 'the log is long')
      child:cmd('close')
      child:cmd('Ardaemon restart')
      child:wait_note('restarted', 15000)
    end,
  },
  {
    'the statusline shows the chat model in the chat buffer, the completion model elsewhere',
    function(h)
      h.gateway.replies({ { 'status-model', 'Fine.' } })
      local child = h.daemon_child({
        setup = { settings = { models = { completion = 'glm-4.6', chat = 'claude-haiku-4-5-20251001' } } },
      })
      child:wait('return require("ardaemon.status").current.selected.chat', 10000, 'selection known')
      h.eq('ardaemon glm-4.6', child:lua('return require("ardaemon").statusline()'))
      child:lua(
        [[_G.chat_done = nil
        vim.api.nvim_create_autocmd('User', { pattern = 'ArdaemonChatDone', callback = function(ev) _G.chat_done = ev.data end })]]
      )
      child:cmd('Ardaemon chat status-model')
      child:wait('return _G.chat_done', 15000, 'chat reply')
      h.eq('ardaemon claude-haiku-4-5-20251001', child:lua('return require("ardaemon").statusline()'))
      h.eq('## Assistant (claude-haiku-4-5-20251001)', child:lines()[4])
      child:cmd('wincmd p')
      h.eq('ardaemon glm-4.6', child:lua('return require("ardaemon").statusline()'))
    end,
  },
}
