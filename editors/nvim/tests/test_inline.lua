---Ghost text and its keymaps against an in-process fake server (exact injected replies).

local function set_items(child, items)
  child:lua('_G.fake.items = ...', items)
end

local function inline_requests(child)
  return child:lua([[
    local n = 0
    for _, r in ipairs(_G.fake.requests) do
      if r.method == 'textDocument/inlineCompletion' then n = n + 1 end
    end
    return n
  ]])
end

return {
  {
    'ghost text shows first line inline and the rest as virtual lines',
    function(h)
      local child = h.fake_child()
      set_items(child, { { insertText = 'b):\n    return a + b\n' } })
      child:input('idef add(a, ')
      local marks = child:wait_ghost()
      h.eq(1, #marks, 'one extmark')
      h.eq({
        row = 0,
        col = 11,
        text = 'b):',
        lines = { '    return a + b', '' },
        pos = 'inline',
        hl = 'ArdaemonSuggestion',
      }, marks[1])
      h.eq({ 'def add(a, ' }, child:lines(), 'buffer unchanged by ghost text')
      local req = child:lua(
        'for _, r in ipairs(_G.fake.requests) do if r.method == "textDocument/inlineCompletion" then return r.params end end'
      )
      h.eq({ line = 0, character = 11 }, req.position, 'request position')
      h.eq(2, req.context.triggerKind, 'automatic trigger')
      h.matches('main%.py$', req.textDocument.uri)
    end,
  },
  {
    'accept inserts the whole suggestion and leaves no ghost text',
    function(h)
      local child = h.fake_child()
      set_items(child, { { insertText = 'b):\n    return a + b' } })
      child:input('idef add(a, ')
      child:wait_ghost()
      set_items(child, {})
      child:input('<M-l>')
      child:wait('return vim.api.nvim_buf_line_count(0) == 2', 10000, 'accepted text')
      h.eq({ 'def add(a, b):', '    return a + b' }, child:lines())
      h.eq({ 2, 16 }, child:lua('return vim.api.nvim_win_get_cursor(0)'), 'cursor at end of insertion')
      h.eq({}, child:ghost(), 'no ghost text after accept')
      h.eq('i', child:mode(), 'still in insert mode')
      child:input('X<Esc>')
      child:wait('return vim.api.nvim_get_mode().mode == "n"', 10000)
      h.eq({ 'def add(a, b):', '    return a + bX' }, child:lines(), 'typing continues after the insertion')
    end,
  },
  {
    'accept word and accept line insert exactly one word / one line',
    function(h)
      local child = h.fake_child()
      set_items(child, { { insertText = 'total = compute(items)\nprint(total)' } })
      child:input('i')
      child:input('x = 1<CR>')
      child:wait_ghost()
      child:input('<M-Right>')
      child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "total"', 10000, 'first word')
      h.eq({ 'x = 1', 'total' }, child:lines())
      local marks = child:ghost()
      h.eq(' = compute(items)', marks[1].text, 'rest of the line still shown')
      h.eq({ 'print(total)' }, marks[1].lines, 'following lines still shown')
      child:input('<M-Right>')
      child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "total ="', 10000, 'second word')
      child:input('<M-C-Right>')
      child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "total = compute(items)"', 10000, 'line')
      h.eq({ 'x = 1', 'total = compute(items)' }, child:lines())
      marks = child:ghost()
      h.eq(1, #marks)
      h.eq(vim.NIL, marks[1].text, 'nothing left on this line')
      h.eq({ 'print(total)' }, marks[1].lines)
      child:input('<M-C-Right>')
      child:wait('return vim.api.nvim_buf_line_count(0) == 3', 10000, 'next line')
      h.eq({ 'x = 1', 'total = compute(items)', 'print(total)' }, child:lines())
      h.eq({}, child:ghost(), 'suggestion used up')
      h.eq(1, inline_requests(child), 'partial accepts do not send new requests')
    end,
  },
  {
    'typing the suggested characters keeps the rest without a new request',
    function(h)
      local child = h.fake_child()
      set_items(child, { { insertText = 'hello world' } })
      child:input('iecho ')
      child:wait_ghost()
      child:input('hel')
      child:wait(
        'local m = vim.api.nvim_buf_get_extmarks(0, require("ardaemon.inline").ns, 0, -1, {details=true})[1]; return m and m[3] == 8',
        3000
      )
      h.eq('lo world', child:ghost()[1].text)
      h.eq(1, inline_requests(child))
    end,
  },
  {
    'dismiss, leaving insert mode and moving the cursor leave nothing behind',
    function(h)
      local child = h.fake_child()
      set_items(child, { { insertText = 'suggested()' } })
      child:input('ifoo = ')
      child:wait_ghost()
      child:input('<C-]>')
      child:wait_no_ghost(10000, 'dismiss')
      h.eq({ 'foo = ' }, child:lines())
      h.eq('i', child:mode(), 'dismiss stays in insert mode')

      child:input('x')
      child:wait_ghost()
      child:input('<Esc>')
      child:wait('return vim.api.nvim_get_mode().mode == "n"', 10000)
      h.eq({}, child:ghost(), 'no ghost text in normal mode')
      h.eq({ 'foo = x' }, child:lines())

      child:input('A')
      child:input('y')
      child:wait_ghost()
      child:input('<Left>')
      child:wait_no_ghost(10000, 'cursor move clears')
      h.eq({ 'foo = xy' }, child:lines())
    end,
  },
  {
    'a cursor move cancels the in-flight request',
    function(h)
      local child = h.fake_child()
      child:lua('_G.fake.delay = 400')
      set_items(child, { { insertText = 'late' } })
      child:input('iabc')
      child:wait('return require("ardaemon.inline")._state.req ~= nil', 10000, 'request in flight')
      child:input('<Left>')
      child:wait(
        'for _, r in ipairs(_G.fake.requests) do if r.method == "$/cancelRequest" then return true end end',
        3000,
        '$/cancelRequest'
      )
      vim.uv.sleep(500) -- the delayed reply would have arrived by now
      h.eq({}, child:ghost(), 'a cancelled reply is never shown')
    end,
  },
  {
    'next and previous cycle through the items',
    function(h)
      local child = h.fake_child()
      set_items(
        child,
        { { insertText = 'one' }, { insertText = 'two' }, { insertText = { kind = 'snippet', value = 'three' } } }
      )
      child:input('ix = ')
      h.eq('one  1/3', child:wait_ghost()[1].text, 'the counter ends the ghost text')
      child:input('<M-]>')
      child:wait('return require("ardaemon.inline").current() == "two"', 10000)
      h.eq('two  2/3', child:ghost()[1].text)
      child:input('<M-]>')
      child:wait('return require("ardaemon.inline").current() == "three"', 10000)
      child:input('<M-]>')
      child:wait('return require("ardaemon.inline").current() == "one"', 10000)
      child:input('<M-[>')
      child:wait('return require("ardaemon.inline").current() == "three"', 10000)
      child:input('<M-l>')
      child:wait('return vim.api.nvim_get_current_line() == "x = three"', 10000)
    end,
  },
  {
    'keys fall back to their normal meaning when nothing is shown; <Tab> is untouched',
    function(h)
      local child = h.fake_child()
      set_items(child, {})
      local lhs = child:lua([[
        local out = {}
        for _, m in ipairs(vim.api.nvim_get_keymap('i')) do
          if (m.desc or ''):find('^ardaemon') then table.insert(out, m.lhs) end
        end
        table.sort(out)
        return out
      ]])
      h.eq(
        { '<C-]>', '<M-Bslash>', '<M-C-Right>', '<M-Right>', '<M-[>', '<M-]>', '<M-l>' },
        lhs,
        'insert-mode keys (no <Tab>)'
      )
      -- <C-]> falls back to expanding the abbreviation, in order with the keys typed after it.
      child:cmd('iabbrev teh the')
      child:input('iteh<C-]>x<Esc>')
      child:wait('return vim.api.nvim_get_mode().mode == "n"', 10000)
      h.eq({ 'thex' }, child:lines())
    end,
  },
  {
    'denied filetypes, auto_trigger = false and the manual trigger',
    function(h)
      local child = h.fake_child({ inline = { auto_trigger = false, filetypes = { markdown = false } } })
      set_items(child, { { insertText = 'manual' } })
      child:input('ihello ')
      vim.uv.sleep(150)
      h.eq(0, inline_requests(child), 'no automatic request')
      child:input('<M-\\>')
      h.eq('manual', child:wait_ghost()[1].text)
      h.eq(
        1,
        child:lua(
          'for _, r in ipairs(_G.fake.requests) do if r.method == "textDocument/inlineCompletion" then return r.params.context.triggerKind end end'
        )
      )
      child:input('<Esc>')
      child:cmd('edit ' .. child.dir .. '/notes.md')
      child:input('ihello <M-\\>')
      vim.uv.sleep(150)
      h.eq(1, inline_requests(child), 'markdown is denied')
      h.eq({}, child:ghost())
    end,
  },
  {
    'daemon errors are notified once, logged every time, and shown in the statusline',
    function(h)
      local child = h.fake_child()
      child:lua(
        [[_G.fake.error = { code = -32803, message = 'The gateway refused this client; set headers.', data = { kind = 'unauthorized_client' } }]]
      )
      child:input('ia')
      child:wait('return require("ardaemon.status").current.state == "error"', 15000, 'error status')
      child:input('b')
      child:wait_logged('unauthorized_client', 2, 15000)
      child:input('c')
      vim.uv.sleep(100)
      local notes = child:notes()
      local n = 0
      for _, note in ipairs(notes) do
        if note.msg:find('unauthorized_client') then
          n = n + 1
          h.matches('set headers', note.msg)
        end
      end
      h.eq(1, n, 'one notification for repeated errors')
      h.eq('ardaemon fake-model ✗ unauthorized_client', child:lua('return require("ardaemon").statusline()'))
    end,
  },
  {
    'settings go to the daemon as init_options and again when setup() changes them',
    function(h)
      local child =
        h.fake_child({ settings = { models = { completion = 'glm-4.6' }, completion = { maxTokens = 64 } } })
      local init = child:lua(
        'for _, r in ipairs(_G.fake.requests) do if r.method == "initialize" then return r.params.initializationOptions end end'
      )
      h.eq(
        { ardaemon = { models = { completion = 'glm-4.6' }, completion = { maxTokens = 64, debounceMs = 10 } } },
        init,
        'inline.debounce_ms travels as completion.debounceMs'
      )
      -- Issue 15's settings pass through as the daemon spells them (docs/protocol.md), nested.
      local issue15 = {
        models = { completion = 'gpt-5', fallback = { chat = { 'claude-haiku-4-5' }, completion = { 'glm-4.6' } } },
        completion = {
          models = { automatic = 'glm-4.6', invoked = 'gpt-5' },
          languages = { python = { model = 'deepseek-coder' }, deny = { 'markdown' } },
          fim = false,
          exclude = { '*.secret' },
          prefixChars = 3000,
        },
        usage = { dailyTokenWarning = 100000 },
      }
      child:lua([[require('ardaemon').setup({ cmd = require('ardaemon.config').get().cmd, settings = ... })]], issue15)
      local pushed = child:wait(
        'local last; for _, n in ipairs(_G.fake.notifications) do if n.method == "workspace/didChangeConfiguration" then last = n.params end end; return last and vim.inspect(last):find("gpt%-5") and vim.json.encode(last)',
        3000,
        'didChangeConfiguration'
      )
      h.eq({ settings = { ardaemon = issue15 } }, vim.json.decode(pushed))
      h.eq(1, child:lua('return #vim.lsp.get_clients({ name = "ardaemon" })'), 'still one client')
    end,
  },
  {
    'one client is shared by all buffers',
    function(h)
      local child = h.fake_child()
      child:cmd('edit ' .. child.dir .. '/other.lua')
      child:cmd('edit ' .. child.dir .. '/third.txt')
      local res = child:lua([[
        local clients = vim.lsp.get_clients({ name = 'ardaemon' })
        return { #clients, vim.tbl_count(clients[1].attached_buffers) }
      ]])
      h.eq({ 1, 3 }, res)
    end,
  },
  {
    '<C-o> from insert mode clears the ghost text',
    function(h)
      local child = h.fake_child()
      set_items(child, { { insertText = 'rest' } })
      child:input('iabc')
      child:wait_ghost()
      child:input('<C-o>')
      child:wait_no_ghost(10000, 'cleared on <C-o>')
    end,
  },
  {
    'statusline follows ardaemon/didChangeStatus; :Ardaemon status and :Ardaemon log',
    function(h)
      local child = h.fake_child()
      child:wait('return require("ardaemon").statusline() == "ardaemon fake-model"', 10000, 'idle statusline')
      child:lua([[_G.fake.send('ardaemon/didChangeStatus', { state = 'inProgress', model = 'gpt-5' })]])
      child:wait('return require("ardaemon").statusline() == "ardaemon gpt-5 …"', 10000, 'in progress')
      child:lua([[_G.fake.send('ardaemon/didChangeStatus', { state = 'idle', model = 'gpt-5' })]])
      child:wait('return require("ardaemon").statusline() == "ardaemon gpt-5"', 10000, 'idle again')
      child:cmd('Ardaemon status')
      local note = child:lua('return _G.notes[#_G.notes].msg')
      h.matches(
        '^daemon: fake 0%.0%.0, client %d+, ready\nbuffers attached: 1\nstate: idle\nmodels: completion = fake%-model, chat = %(daemon default%)',
        note
      )
      child:cmd('Ardaemon log')
      h.matches('ardaemon%.log$', child:lua('return vim.api.nvim_buf_get_name(0)'))
      h.matches('daemon started: fake', table.concat(child:lines(), '\n'))
    end,
  },
  {
    'one owner of debounce: the daemon waits inline.debounce_ms, the plugin asks at once',
    function(h)
      -- A plugin-side timer of 60 s would time out the wait below.
      local child = h.fake_child({ inline = { debounce_ms = 60000 } })
      child:input('ix')
      child:wait(
        'for _, r in ipairs(_G.fake.requests) do if r.method == "textDocument/inlineCompletion" then return true end end',
        5000,
        'a request without a plugin-side wait'
      )
      local init = child:lua([[
        for _, r in ipairs(_G.fake.requests) do
          if r.method == 'initialize' then return r.params.initializationOptions end
        end
      ]])
      h.eq(60000, init.ardaemon.completion.debounceMs, 'inline.debounce_ms is the daemon setting')
      local explicit = child:lua([[
        local config = require('ardaemon.config')
        config.set({ inline = { debounce_ms = 10 }, settings = { completion = { debounceMs = 0, maxTokens = 9 } } })
        local a = config.daemon_settings().ardaemon.completion
        config.set({})
        return { a, config.daemon_settings().ardaemon.completion or vim.NIL }
      ]])
      h.eq({ debounceMs = 0, maxTokens = 9 }, explicit[1], 'settings.completion.debounceMs wins')
      h.eq(vim.NIL, explicit[2], 'unset: the daemon keeps its own default')
    end,
  },
}
