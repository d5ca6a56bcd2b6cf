---End to end: the real `ardaemon serve` and the gateway stand-in (started by tests/test_nvim.py).

---Pick `model` and then `role_label` in the two vim.ui.select prompts; record what was offered.
local function stub_select(child, model, role_label)
  child:lua(
    [[
    local model, role_label = ...
    _G.offered = {}
    vim.ui.select = function(items, opts, on_choice)
      local shown = {}
      for _, it in ipairs(items) do table.insert(shown, opts.format_item(it)) end
      table.insert(_G.offered, { kind = opts.kind, prompt = opts.prompt, items = shown })
      for i, it in ipairs(items) do
        if (opts.kind == 'ardaemon.model' and it.id == model) or (opts.kind == 'ardaemon.role' and it.label == role_label) then
          return vim.schedule(function() on_choice(it, i) end)
        end
      end
      vim.schedule(function() on_choice(nil, nil) end)
    end
  ]],
    model,
    role_label
  )
end

local function list_models(child)
  child:lua([[
    _G.listed = nil
    require('ardaemon.models').list(function(err, result) _G.listed = { err = err, result = result } end)
  ]])
  return child:wait('return _G.listed', 10000, 'listModels')
end

local function checkhealth(child)
  child:cmd('checkhealth ardaemon')
  return child:wait(
    [[
    local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    local text = table.concat(lines, '\n')
    if text:find('this session') then return text end
  ]],
    30000,
    'checkhealth output'
  )
end

---A child whose chat streams a long reply slowly; `_G.chat_done` gets ArdaemonChatDone's data.
local function streaming_chat(h)
  h.gateway.replies({ { 'long-story', string.rep('word ', 200) } })
  local child = h.daemon_child()
  h.gateway.fault('slow', { chunk_delay = 0.05 })
  child:lua([[
    _G.chat_done = nil
    vim.api.nvim_create_autocmd('User', { pattern = 'ArdaemonChatDone', callback = function(ev) _G.chat_done = ev.data end })
  ]])
  child:cmd('Ardaemon chat tell me a long-story')
  child:wait('local s = require("ardaemon.chat").session; return s and s.deltas >= 2', 15000, 'first deltas')
  return child
end

return {
  {
    'ghost text from the daemon; accept puts exactly the reply in the buffer',
    function(h)
      h.gateway.replies({ { 'def area_of_circle(', 'r):\n    return 3.14159 * r * r' } })
      local child = h.daemon_child()
      child:input('idef area_of_circle(')
      local marks = child:wait_ghost(15000)
      h.eq({
        {
          row = 0,
          col = 19,
          text = 'r):',
          lines = { '    return 3.14159 * r * r' },
          pos = 'inline',
          hl = 'ArdaemonSuggestion',
        },
      }, marks)
      child:input('<M-l>')
      child:wait('return vim.api.nvim_buf_line_count(0) == 2', 10000, 'accept')
      h.eq({ 'def area_of_circle(r):', '    return 3.14159 * r * r' }, child:lines())
      child:input('<Esc>')
      child:wait('return vim.api.nvim_get_mode().mode == "n"', 10000)
      h.eq({}, child:ghost(), 'nothing left after leaving insert mode')
    end,
  },
  {
    'accept word and accept line with the daemon reply (fences stripped)',
    function(h)
      local child = h.daemon_child()
      -- A default rule of the stand-in answers inside a markdown fence.
      child:input('idef fibonacci(n):<CR>')
      local marks = child:wait_ghost(15000)
      -- Python's indent script already indented the new line: the daemon must not repeat it.
      h.eq({ 'def fibonacci(n):', '    ' }, child:lines())
      h.eq('if n < 2:', marks[1].text)
      h.eq({ '        return n', '    return fibonacci(n - 1) + fibonacci(n - 2)' }, marks[1].lines)
      child:input('<M-Right>')
      child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    if"', 10000, 'accept word')
      child:input('<M-C-Right>')
      child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    if n < 2:"', 10000, 'accept line')
      h.eq({ 'def fibonacci(n):', '    if n < 2:' }, child:lines())
      h.eq({ '        return n', '    return fibonacci(n - 1) + fibonacci(n - 2)' }, child:ghost()[1].lines)
      child:input('<C-]>')
      child:wait_no_ghost(10000, 'dismiss')
      h.eq({ 'def fibonacci(n):', '    if n < 2:' }, child:lines())
    end,
  },
  {
    'model picker shows wire formats and the choice persists in the daemon',
    function(h)
      local child = h.daemon_child()
      stub_select(child, 'glm-4.6', 'completion (ghost text)')
      child:cmd('Ardaemon models')
      child:wait_note('now uses', 10000)
      local offered = child:lua('return _G.offered')
      h.eq('ardaemon.model', offered[1].kind)
      h.eq('ardaemon.role', offered[2].kind)
      local function line_for(id)
        for _, l in ipairs(offered[1].items) do
          if vim.startswith(l, id .. '  ') then
            return l
          end
        end
      end
      h.matches('^glm%-4%.6  %[openai · ', line_for('glm-4.6'))
      h.matches('^claude%-sonnet%-4%-5%-20250929  %[anthropic · ', line_for('claude-sonnet-4-5-20250929'))
      h.eq({ 'completion and chat', 'completion (ghost text)', 'chat' }, offered[2].items)
      local listed = list_models(child)
      h.eq('glm-4.6', listed.result.selected.completion, 'daemon has the selection')
      h.matches('glm%-4%.6', child:lua('return require("ardaemon").statusline()'))
      -- A restarted daemon keeps it.
      child:lua('require("ardaemon.client").stop()')
      child:wait(
        'return require("ardaemon.client").get() == nil and #vim.lsp.get_clients({ name = "ardaemon" }) == 0',
        10000,
        'stopped'
      )
      child:lua('require("ardaemon.client").start()')
      child:wait_initialized(15000, 'restarted')
      listed = list_models(child)
      h.eq('glm-4.6', listed.result.selected.completion, 'persisted across restarts')
    end,
  },
  {
    'chat streams the reply into the buffer in order',
    function(h)
      local reply =
        'Ghost text is a suggestion drawn after the cursor.\nAccept it with one key; keep typing to ignore it.'
      h.gateway.replies({ { 'what-is-ghost-text', reply } })
      local child = h.daemon_child()
      -- Chunks further apart than the daemon's one-frame coalescing, as from a real model.
      h.gateway.fault('slow', { chunk_delay = 0.05 })
      child:lua([[
        _G.snaps, _G.chat_done = {}, nil
        vim.api.nvim_create_autocmd('User', { pattern = 'ArdaemonChatDelta', callback = function(ev)
          table.insert(_G.snaps, { delta = ev.data.delta, text = table.concat(vim.api.nvim_buf_get_lines(require('ardaemon.chat').session.bufnr, 0, -1, false), '\n') })
        end })
        vim.api.nvim_create_autocmd('User', { pattern = 'ArdaemonChatDone', callback = function(ev) _G.chat_done = ev.data end })
      ]])
      child:cmd('Ardaemon chat what-is-ghost-text, briefly')
      local done = child:wait('return _G.chat_done', 15000, 'chat reply')
      h.eq(reply, done.result.content)
      h.eq({
        '## You',
        'what-is-ghost-text, briefly',
        '',
        '## Assistant (' .. done.result.model .. ')',
        'Ghost text is a suggestion drawn after the cursor.',
        'Accept it with one key; keep typing to ignore it.',
        '',
        '## You',
        '',
      }, child:lines())
      local snaps = child:lua('return _G.snaps')
      h.ok(#snaps >= 3, ('streamed in several deltas, got %d'):format(#snaps))
      local joined = ''
      for i, s in ipairs(snaps) do
        joined = joined .. s.delta
        if i > 1 then
          h.ok(vim.startswith(s.text, snaps[i - 1].text), 'each delta appends to the previous text')
        end
        h.ok(vim.endswith(s.text, joined), 'buffer ends with the deltas so far, in order')
      end
      h.eq(reply, joined)
    end,
  },
  {
    'chat: write under ## You, <CR> sends; the second turn carries the history',
    function(h)
      h.gateway.replies({ { 'second-turn', 'Second answer.' }, { 'first-turn', 'First answer.' } })
      local child = h.daemon_child()
      child:lua([[
        _G.chat_done = 0
        vim.api.nvim_create_autocmd('User', { pattern = 'ArdaemonChatDone', callback = function() _G.chat_done = _G.chat_done + 1 end })
      ]])
      child:cmd('Ardaemon chat')
      h.eq({ '## You', '' }, child:lines())
      child:input('ifirst-turn<Esc><CR>')
      child:wait('return _G.chat_done == 1', 15000, 'first reply')
      child:input('Gisecond-turn<Esc><CR>')
      child:wait('return _G.chat_done == 2', 15000, 'second reply')
      local model = child:lua('return vim.b.ardaemon_chat_model')
      h.ok(type(model) == 'string' and model ~= '', 'the chat buffer knows the model that answered')
      h.eq({
        '## You',
        'first-turn',
        '',
        '## Assistant (' .. model .. ')',
        'First answer.',
        '',
        '## You',
        'second-turn',
        '',
        '## Assistant (' .. model .. ')',
        'Second answer.',
        '',
        '## You',
        '',
      }, child:lines())
      h.eq(
        { 'user', 'assistant', 'user', 'assistant' },
        child:lua([[
        return vim.tbl_map(function(m) return m.role end, require('ardaemon.chat').session.messages)
      ]])
      )
    end,
  },
  {
    'chat from the fallback chain: the header names both models, the statusline says so',
    function(h)
      h.gateway.replies({ { 'fallback-turn', 'Answered anyway.' }, { 'plain-turn', 'Plain answer.' } })
      -- The model asked fails before any output; the fallback (another wire format) answers.
      h.gateway.fault('overloaded', { paths = { '/v1/chat/completions' } })
      local child = h.daemon_child({
        setup = {
          chat = { model = 'gpt-4o' },
          settings = { models = { fallback = { chat = { 'claude-sonnet-4-5-20250929' } } } },
        },
      })
      child:lua([[
        _G.chat_done = 0
        vim.api.nvim_create_autocmd('User', { pattern = 'ArdaemonChatDone', callback = function() _G.chat_done = _G.chat_done + 1 end })
      ]])
      child:cmd('Ardaemon chat fallback-turn')
      child:wait('return _G.chat_done == 1', 30000, 'reply from the fallback')
      h.eq({
        '## You',
        'fallback-turn',
        '',
        '## Assistant (claude-sonnet-4-5-20250929, fallback from gpt-4o)',
        'Answered anyway.',
        '',
        '## You',
        '',
      }, child:lines())
      child:wait('return require("ardaemon").statusline():find("(fallback)", 1, true)', 10000, 'statusline')
      h.eq('ardaemon claude-sonnet-4-5-20250929 (fallback)', child:lua('return require("ardaemon").statusline()'))
      local status = table.concat(child:lua('return require("ardaemon").status_lines()'), '\n')
      h.matches('last answer: gpt%-4o failed %(overloaded%); answered by the fallback [%w_]+:claude%-sonnet', status)
      -- The asked model is back: a plain header, and the notice is gone.
      h.gateway.control('clear', {})
      child:input('Giplain-turn<Esc><CR>')
      child:wait('return _G.chat_done == 2', 15000, 'plain reply')
      h.eq('## Assistant (gpt-4o)', child:lines()[10])
      h.eq('ardaemon gpt-4o', child:lua('return require("ardaemon").statusline()'))
    end,
  },
  {
    'dailyTokenWarning crossed: one vim.notify, then statusline and :Ardaemon status keep it',
    function(h)
      h.gateway.replies({
        { 'first-turn', 'Few.' },
        { 'second-turn', 'More tokens.' },
        { 'third-turn', 'Still more.' },
      })
      -- The stand-in counts a few tokens per turn: the first stays below 4, the second crosses it.
      local child = h.daemon_child({
        setup = { chat = { model = 'gpt-4o' }, settings = { usage = { dailyTokenWarning = 4 } } },
      })
      child:lua([[
        _G.chat_done = 0
        vim.api.nvim_create_autocmd('User', { pattern = 'ArdaemonChatDone', callback = function() _G.chat_done = _G.chat_done + 1 end })
      ]])
      local function turn(keys, n)
        child:input(keys)
        child:wait('return _G.chat_done == ' .. n, 30000, 'reply ' .. n)
      end
      child:cmd('Ardaemon chat first-turn')
      child:wait('return _G.chat_done == 1', 30000, 'reply 1')
      vim.uv.sleep(300)
      h.eq(0, child:count_notes('dailyTokenWarning'), 'below the limit: no warning')
      h.eq('ardaemon gpt-4o', child:lua('return require("ardaemon").statusline()'))
      turn('Gisecond-turn<Esc><CR>', 2)
      local note = child:wait_note('dailyTokenWarning', 10000)
      h.matches("today's usage is [%d,]+ tokens, past your usage%.dailyTokenWarning of 4", note)
      child:wait('return require("ardaemon").statusline():find("budget", 1, true)', 10000, 'statusline')
      h.eq('ardaemon gpt-4o ⚠ budget', child:lua('return require("ardaemon").statusline()'))
      local status = table.concat(child:lua('return require("ardaemon").status_lines()'), '\n')
      h.matches('\nstate: idle\n', status)
      h.matches("\nusage: today's usage is [%d,]+ tokens, past your usage%.dailyTokenWarning of 4", status)
      -- A third answer, still past the limit: no second pop-up, the warning stays shown.
      turn('Githird-turn<Esc><CR>', 3)
      vim.uv.sleep(300)
      h.eq(1, child:count_notes('dailyTokenWarning'))
      h.eq('ardaemon gpt-4o ⚠ budget', child:lua('return require("ardaemon").statusline()'))
    end,
  },
  {
    '<C-c> cancels a streaming chat reply',
    function(h)
      local child = streaming_chat(h)
      child:input('<C-c>')
      child:wait('return _G.chat_done and _G.chat_done.cancelled', 15000, 'cancelled')
      local lines = child:lines()
      h.eq({ '> [cancelled]', '', '## You', '' }, vim.list_slice(lines, #lines - 3, #lines))
      vim.uv.sleep(300)
      h.eq(lines, child:lines(), 'no text arrives after the cancel')
      h.eq(false, child:lua('return require("ardaemon.chat").busy()'))
      h.ok(h.gateway.wait_disconnect(5), 'the daemon closed the upstream stream')
    end,
  },
  {
    '<C-c> cancels a streaming chat reply even when Neovim is busy as the key arrives',
    function(h)
      -- Neovim turns a mapped <C-c> into a key only while it waits for input. One that arrives
      -- while a command runs (a slow mapping, :sleep, a long search; here a mapping in vim.wait)
      -- sets the interrupt flag: vim.wait returns -2 and the chat mapping's function never runs.
      local child = streaming_chat(h)
      child:lua([[
        _G.waiting, _G.wait_code = nil, nil
        vim.keymap.set('n', '<F12>', function()
          _G.waiting = true
          _G.wait_code = select(2, vim.wait(10000, function() return false end))
          _G.waiting = false
        end)
      ]])
      child:input('<F12>')
      child:wait('return _G.waiting', 15000, 'Neovim busy in a mapping')
      child:input('<C-c>')
      h.eq(
        -2,
        child:wait('return _G.waiting == false and _G.wait_code', 15000, 'wait over'),
        'the <C-c> came as an interrupt'
      )
      child:wait('return _G.chat_done and _G.chat_done.cancelled', 15000, 'cancelled')
      local lines = child:lines()
      h.eq({ '> [cancelled]', '', '## You', '' }, vim.list_slice(lines, #lines - 3, #lines))
      h.eq(false, child:lua('return require("ardaemon.chat").busy()'))
      h.ok(h.gateway.wait_disconnect(5), 'the daemon closed the upstream stream')
    end,
  },
  {
    ':checkhealth ardaemon reports OK with a working gateway',
    function(h)
      local child = h.daemon_child()
      local text = checkhealth(child)
      h.matches('OK Neovim 0%.', text)
      h.matches('OK [^\n]*ardaemon[^\n]*%d+%.%d+', text)
      h.matches('OK token: from AGENTROUTER_API_KEY', text)
      h.matches('OK daemon answers initialize: ardaemon %d', text)
      h.matches('OK catalog: %d+ models %(network', text)
      h.ok(not text:find('ERROR'), 'no errors:\n' .. text)
    end,
  },
  {
    ':checkhealth ardaemon reports the unauthorized client with its fix',
    function(h)
      local child = h.daemon_child()
      h.gateway.fault('unauthorized_client')
      local text = checkhealth(child)
      h.matches('OK daemon answers initialize', text)
      h.matches('ERROR catalog unreachable %(unauthorized_client%)', text)
      h.matches('ADVICE:%s*\n%s*%- [^\n]*refused this client[^\n]*`settings%.headers` in setup%(%)', text)
    end,
  },
  {
    'a daemon error while typing is notified once and shown in the statusline',
    function(h)
      local child = h.daemon_child()
      h.gateway.fault('unauthorized_client')
      child:input('iprint(')
      child:wait('return require("ardaemon.status").current.state == "error"', 15000, 'error state')
      child:input('1')
      child:wait_logged('unauthorized_client', 2, 15000)
      h.eq(1, child:count_notes('unauthorized_client'), 'one notification')
      h.matches('✗ unauthorized_client$', child:lua('return require("ardaemon").statusline()'))
      h.eq({}, child:ghost())
    end,
  },
  {
    ':Ardaemon usage shows the ledger (tokens as the daemon recorded them)',
    function(h)
      h.gateway.replies({ { 'def area_of_circle(', 'r):\n    return 3.14159 * r * r' } })
      local child = h.daemon_child()
      child:input('idef area_of_circle(')
      child:wait_ghost(15000)
      child:input('<Esc>')
      child:cmd('Ardaemon usage 7d purpose')
      local text = child:wait_note('usage since', 10000)
      h.matches('usage since 7d, by purpose:', text)
      h.matches('\n  completion: 1 requests, [%d,]+ in / [%d,]+ out tokens, cost unknown', text)
      h.matches('\ntotal: 1 requests %(0 failed%)', text)
    end,
  },
}
