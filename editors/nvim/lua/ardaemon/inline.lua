---Ghost text: `textDocument/inlineCompletion` after typing pauses, shown with extmarks
---(`virt_text` inline for the first line, `virt_lines` for the rest).
local api = vim.api
local protocol = require('ardaemon.protocol')
local client = require('ardaemon.client')
local config = require('ardaemon.config')
local log = require('ardaemon.log')
local status = require('ardaemon.status')

local M = {}

M.ns = api.nvim_create_namespace('ardaemon.inline')

---@class (exact) ardaemon.InlineState
---@field bufnr integer|nil buffer showing the suggestion
---@field row integer|nil 0-based row of the anchor (the cursor when shown)
---@field col integer|nil 0-based byte column of the anchor
---@field items string[] texts to insert at the anchor
---@field commands (table|false)[] each item's `command` (run on accept: acceptance feedback)
---@field model string|nil model that answered
---@field index integer current item
---@field text string|nil remaining text of the current item
---@field extmark integer|nil
---@field req {client: vim.lsp.Client, id: integer}|nil in-flight request
---@field seq integer request generation; stale responses are dropped
---@field tick_seen integer|nil changedtick already handled
---@field cursor_seen integer[]|nil cursor at tick_seen
local st = { items = {}, commands = {}, index = 1, seq = 0 }
M._state = st

local function cursor()
  local c = api.nvim_win_get_cursor(0)
  return { c[1] - 1, c[2] }
end

local function in_insert()
  local m = api.nvim_get_mode().mode
  return m:sub(1, 1) == 'i'
end

---Is a suggestion on screen?
---@return boolean
function M.visible()
  return st.text ~= nil and st.extmark ~= nil and st.bufnr ~= nil and api.nvim_buf_is_valid(st.bufnr)
end

---Cancel the in-flight request, if any.
function M.cancel()
  st.seq = st.seq + 1
  if st.req then
    local req = st.req
    st.req = nil
    client.cancel(req.client, req.id)
    if status.current.state == 'inProgress' then
      status.local_set({ state = 'idle' })
    end
  end
end

local function delete_extmark()
  if st.extmark and st.bufnr and api.nvim_buf_is_valid(st.bufnr) then
    pcall(api.nvim_buf_del_extmark, st.bufnr, M.ns, st.extmark)
  end
  st.extmark = nil
end

---Hide the suggestion and cancel whatever is pending.
function M.clear()
  M.cancel()
  delete_extmark()
  if st.bufnr and api.nvim_buf_is_valid(st.bufnr) then
    api.nvim_buf_clear_namespace(st.bufnr, M.ns, 0, -1)
  end
  st.text, st.items, st.index, st.bufnr, st.row, st.col = nil, {}, 1, nil, nil, nil
  st.commands, st.model = {}, nil
end

local function render()
  delete_extmark()
  if not st.text or st.text == '' or not st.bufnr then
    return
  end
  local hl = config.get().inline.hl_group
  local lines = vim.split(st.text, '\n', { plain = true })
  local opts = { hl_mode = 'combine', priority = 1000, right_gravity = false }
  if lines[1] ~= '' then
    opts.virt_text = { { lines[1], hl } }
    opts.virt_text_pos = 'inline'
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      table.insert(opts.virt_lines, { { lines[i], hl } })
    end
  end
  if #st.items > 1 then
    -- Which candidate this is, at the end of the ghost text: "2/3".
    local counter = { ('  %d/%d'):format(st.index, #st.items), 'ArdaemonSuggestionCount' }
    if opts.virt_lines then
      table.insert(opts.virt_lines[#opts.virt_lines], counter)
    else
      opts.virt_text = opts.virt_text or {}
      table.insert(opts.virt_text, counter)
      opts.virt_text_pos = 'inline'
    end
  end
  st.extmark = api.nvim_buf_set_extmark(st.bufnr, M.ns, st.row, st.col, opts)
end

---Text to insert at the cursor from one item (an item's `range` may cover typed text).
---@param item table
---@param row integer
---@param col integer
---@param bufnr integer
---@param encoding string
---@return string|nil
local function item_text_at_cursor(item, row, col, bufnr, encoding)
  local text = protocol.item_text(item)
  if not text or not item.range then
    return text
  end
  local s, e = item.range.start, item.range['end']
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  if s.line ~= row or e.line ~= row then
    return text
  end
  local start_col
  if vim.fn.has('nvim-0.11') == 1 then
    start_col = vim.str_byteindex(line, encoding, s.character, false)
  else
    start_col = vim.lsp.util._str_byteindex_enc(line, s.character, encoding)
  end
  local typed = line:sub(start_col + 1, col)
  if start_col <= col and vim.startswith(text, typed) then
    return text:sub(#typed + 1)
  end
  return text
end

---Send `textDocument/inlineCompletion` for the cursor now.
---@param trigger_kind? integer 1 invoked (manual), 2 automatic
---@param retried? boolean this is the one retry after a "not open" answer
function M.request(trigger_kind, retried)
  M.cancel()
  local bufnr = api.nvim_get_current_buf()
  if not config.buf_enabled(bufnr) then
    return
  end
  local c = client.get()
  if not c or not c.initialized then
    client.attach(bufnr)
    client.when_ready(function()
      if api.nvim_get_current_buf() == bufnr and in_insert() then
        M.request(trigger_kind)
      end
    end)
    return
  end
  if not c.attached_buffers[bufnr] then
    vim.lsp.buf_attach_client(bufnr, c.id) -- sends didOpen before the request below
  end
  st.seq = st.seq + 1
  local seq = st.seq
  local pos = cursor()
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local params = vim.lsp.util.make_position_params(0, c.offset_encoding)
  params.context = { triggerKind = trigger_kind or protocol.trigger_kind.Automatic }
  log.debug('inlineCompletion %s:%d:%d', api.nvim_buf_get_name(bufnr), pos[1], pos[2])
  local id = client.request(c, protocol.methods.inlineCompletion, params, function(err, result)
    if seq ~= st.seq then
      return -- superseded or cancelled
    end
    st.req = nil
    if err then
      if
        protocol.error_kind(err) == 'invalid_params'
        and (err.message or ''):find('not open', 1, true)
        and not retried
      then
        -- The daemon had not seen didOpen yet (a race at start-up): ask once more, quietly.
        log.debug('inlineCompletion before didOpen; retrying once')
        vim.schedule(function()
          if seq == st.seq and in_insert() then
            M.request(trigger_kind, true)
          end
        end)
        return
      end
      if not protocol.is_cancelled(err) then
        log.daemon_error('completion', err)
        status.local_set({ state = 'error', kind = protocol.error_kind(err), message = err.message })
      end
      return
    end
    log.success()
    if status.current.state ~= 'idle' then
      status.local_set({ state = 'idle' })
    end
    local now = cursor()
    if
      api.nvim_get_current_buf() ~= bufnr
      or api.nvim_buf_get_changedtick(bufnr) ~= tick
      or now[1] ~= pos[1]
      or now[2] ~= pos[2]
      or not in_insert()
    then
      return -- the user moved on
    end
    local texts, commands = {}, {}
    for _, item in ipairs(protocol.inline_items(result)) do
      local t = item_text_at_cursor(item, pos[1], pos[2], bufnr, c.offset_encoding)
      if t and t ~= '' and not vim.tbl_contains(texts, t) then
        table.insert(texts, t)
        table.insert(commands, type(item.command) == 'table' and item.command or false)
      end
    end
    delete_extmark()
    if #texts == 0 then
      st.text, st.items = nil, {}
      return
    end
    st.bufnr, st.row, st.col = bufnr, pos[1], pos[2]
    st.items, st.index, st.text = texts, 1, texts[1]
    st.model = result and result.model or nil
    st.commands = commands
    render()
    pcall(api.nvim_exec_autocmds, 'User', { pattern = 'ArdaemonSuggestion', modeline = false })
  end, bufnr)
  if id then
    st.req = { client = c, id = id }
    status.local_set({ state = 'inProgress' })
  end
end

---Ask after a text change. The daemon owns the debounce (`completion.debounceMs`, adaptive to
---the typing rhythm, which it can only measure when every change reaches it): the request goes
---now, and the next keystroke cancels it.
function M.schedule()
  if config.get().inline.auto_trigger then
    M.request(protocol.trigger_kind.Automatic)
  end
end

---Run an accepted item's `command` on the daemon (`workspace/executeCommand`): it counts
---accepted suggestions per model, locally. Once per suggestion, however it is accepted.
---@param command table
local function run_command(command)
  local c = client.get()
  if c and c.initialized then
    client.request(c, 'workspace/executeCommand', {
      command = command.command,
      arguments = command.arguments,
    }, function(err)
      if err then
        log.debug('executeCommand %s: %s', command.command, err.message or '?')
      end
    end)
  end
end

---Insert `part` of the suggestion at the anchor and keep showing the rest.
---@param part string
local function insert(part)
  local bufnr, row, col = st.bufnr, st.row, st.col
  local rest = st.text:sub(#part + 1)
  local lines = vim.split(part, '\n', { plain = true })
  M.cancel()
  delete_extmark()
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local new_row = row + #lines - 1
  local new_col = #lines == 1 and col + #part or #lines[#lines]
  api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  -- Our own edit: the TextChangedI/CursorMovedI it causes must neither clear nor re-request.
  st.tick_seen = api.nvim_buf_get_changedtick(bufnr)
  st.cursor_seen = { new_row, new_col }
  if rest == '' then
    M.clear()
    return
  end
  st.row, st.col, st.text, st.items, st.index = new_row, new_col, rest, { rest }, 1
  st.commands = { false } -- counted already
  render()
end

---@alias ardaemon.AcceptKind "all"|"word"|"line"

---Accept the whole suggestion, its next word, or the rest of its current line.
---@param kind? ardaemon.AcceptKind
---@return boolean accepted false when nothing was visible
function M.accept(kind)
  if not M.visible() or st.bufnr ~= api.nvim_get_current_buf() then
    return false
  end
  local text = st.text
  local part
  if kind == 'word' then
    part = text:match('^%s*[%w_]+') or text:match('^%s*[^%w_%s]+') or text
  elseif kind == 'line' then
    if text:sub(1, 1) == '\n' then
      part = '\n' .. text:sub(2):match('^[^\n]*')
    else
      part = text:match('^[^\n]*')
    end
  else
    part = text
  end
  local command = st.commands[st.index]
  insert(part)
  if command then
    run_command(command)
  end
  return true
end

---Hide the suggestion until the next keystroke.
---@return boolean dismissed
function M.dismiss()
  local was = M.visible() or st.req ~= nil
  M.clear()
  return was
end

---Cycle through the suggestions of the last response (with one, nothing changes).
---@param delta integer 1 next, -1 previous
---@return boolean handled false only when no suggestion is shown (the key then types itself)
function M.cycle(delta)
  if not M.visible() then
    return false
  end
  if #st.items < 2 then
    return true
  end
  st.index = (st.index - 1 + delta) % #st.items + 1
  st.text = st.items[st.index]
  render()
  return true
end

---The current suggestion's remaining text (nil when nothing is shown).
---@return string|nil
function M.current()
  return M.visible() and st.text or nil
end

local function on_text_changed(bufnr)
  local tick = api.nvim_buf_get_changedtick(bufnr)
  if tick == st.tick_seen then
    return
  end
  st.tick_seen, st.cursor_seen = tick, cursor()
  -- Typing the characters the suggestion shows keeps the rest of it on screen.
  if M.visible() and st.bufnr == bufnr then
    local pos = st.cursor_seen
    if pos[1] == st.row and pos[2] > st.col then
      local line = api.nvim_buf_get_lines(bufnr, st.row, st.row + 1, false)[1] or ''
      local typed = line:sub(st.col + 1, pos[2])
      if vim.startswith(st.text, typed) and #typed < #st.text then
        M.cancel()
        st.text = st.text:sub(#typed + 1)
        st.commands = { st.commands[st.index] or false }
        st.items, st.index, st.col = { st.text }, 1, pos[2]
        render()
        return
      end
    end
  end
  M.clear()
  if config.buf_enabled(bufnr) then
    M.schedule()
  end
end

local function on_cursor_moved(bufnr)
  local tick = api.nvim_buf_get_changedtick(bufnr)
  if tick ~= st.tick_seen then
    return -- a text change: TextChangedI decides
  end
  local pos = cursor()
  if st.cursor_seen and pos[1] == st.cursor_seen[1] and pos[2] == st.cursor_seen[2] then
    return
  end
  st.cursor_seen = pos
  M.clear()
end

local group = api.nvim_create_augroup('ardaemon.inline', { clear = true })
local attached = {} ---@type table<integer, boolean>

api.nvim_create_autocmd('ModeChanged', {
  group = group,
  pattern = 'i*:[^i]*', -- leaving insert mode, also for <C-o> (insert → niI)
  callback = function()
    if st.bufnr or st.req then
      M.clear()
    end
  end,
})

---Watch `bufnr` for typing, cursor moves, leaving insert mode and leaving the buffer.
---@param bufnr integer
function M.attach(bufnr)
  if attached[bufnr] then
    return
  end
  attached[bufnr] = true
  api.nvim_create_autocmd('TextChangedI', {
    group = group,
    buffer = bufnr,
    callback = function(ev)
      on_text_changed(ev.buf)
    end,
  })
  api.nvim_create_autocmd('TextChangedP', {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear() -- the popup menu is open: stay out of its way
    end,
  })
  api.nvim_create_autocmd('CursorMovedI', {
    group = group,
    buffer = bufnr,
    callback = function(ev)
      on_cursor_moved(ev.buf)
    end,
  })
  api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear()
    end,
  })
  api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = group,
    buffer = bufnr,
    callback = function(ev)
      attached[ev.buf] = nil
      if st.bufnr == ev.buf then
        M.clear()
      end
    end,
  })
end

---Insert-mode keymaps. When no suggestion is shown a key does what it did before.
function M.set_keymaps()
  local keys = config.get().inline.keymaps
  local function fallback(key)
    api.nvim_feedkeys(vim.keycode(key), 'ni', false)
  end
  local actions = {
    accept = function()
      return M.accept('all')
    end,
    accept_word = function()
      return M.accept('word')
    end,
    accept_line = function()
      return M.accept('line')
    end,
    next = function()
      return M.cycle(1)
    end,
    prev = function()
      return M.cycle(-1)
    end,
    dismiss = function()
      return M.dismiss()
    end,
  }
  for name, fn in pairs(actions) do
    local key = keys[name]
    if key then
      vim.keymap.set('i', key, function()
        if not fn() then
          fallback(key)
        end
      end, { desc = 'ardaemon: ' .. name:gsub('_', ' '), silent = true })
    end
  end
  if keys.trigger then
    vim.keymap.set('i', keys.trigger, function()
      M.request(protocol.trigger_kind.Invoked)
    end, { desc = 'ardaemon: suggest now', silent = true })
  end
end

---Neovim 0.12+ ships `vim.lsp.inline_completion`; use it instead of our own rendering.
---@return boolean
function M.native_available()
  return vim.lsp.inline_completion ~= nil and config.get().inline.native
end

---Enable the native engine for the daemon's client (0.12+); the keymaps drive it.
function M.enable_native()
  local ic = vim.lsp.inline_completion
  client.when_ready(function(c)
    pcall(ic.enable, true, { client_id = c.id })
  end)
  local keys = config.get().inline.keymaps
  if keys.accept then
    vim.keymap.set('i', keys.accept, function()
      if not ic.get() then
        api.nvim_feedkeys(vim.keycode(keys.accept), 'ni', false)
      end
    end, { desc = 'ardaemon: accept' })
  end
  if keys.next then
    vim.keymap.set('i', keys.next, function()
      ic.select({ count = 1 })
    end, { desc = 'ardaemon: next' })
  end
  if keys.prev then
    vim.keymap.set('i', keys.prev, function()
      ic.select({ count = -1 })
    end, { desc = 'ardaemon: previous' })
  end
end

return M
