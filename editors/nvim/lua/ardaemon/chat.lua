---`:Ardaemon chat`: a scratch markdown buffer; the reply streams in as `$/progress` deltas arrive.
---`<CR>` (normal mode) sends what is under the last `## You`; `<C-c>` cancels.
local api = vim.api
local protocol = require('ardaemon.protocol')
local client = require('ardaemon.client')
local config = require('ardaemon.config')
local log = require('ardaemon.log')

local M = {}

M.you = '## You'

---@class (exact) ardaemon.ChatSession
---@field bufnr integer
---@field messages ardaemon.ChatMessage[]
---@field req {client: vim.lsp.Client, id: integer}|nil
---@field token string|nil
---@field reply string text received so far for the current reply
---@field deltas integer deltas received for the current reply

---@type ardaemon.ChatSession|nil
M.session = nil

local function buf_valid()
  return M.session and api.nvim_buf_is_valid(M.session.bufnr)
end

---Append `text` at the end of the chat buffer (newlines start new lines).
---@param bufnr integer
---@param text string
local function append(bufnr, text)
  local last = api.nvim_buf_line_count(bufnr) - 1
  local line = api.nvim_buf_get_lines(bufnr, last, last + 1, false)[1] or ''
  api.nvim_buf_set_text(bufnr, last, #line, last, #line, vim.split(text, '\n', { plain = true }))
  for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
    if win ~= api.nvim_get_current_win() or api.nvim_get_mode().mode:sub(1, 1) ~= 'i' then
      pcall(api.nvim_win_set_cursor, win, { api.nvim_buf_line_count(bufnr), 0 })
    end
  end
end

---A <C-c> that reaches Neovim while it polls for input outside its input wait (vim.wait,
---:sleep, a long search, a busy handler) sets the interrupt flag instead, and Neovim then skips
---the mapping's function. `vim.on_key` still sees the typed key: cancel from there.
local function cancel_on_interrupt()
  vim.on_key(function(_, typed)
    local s = M.session
    if typed ~= '\3' or not (s and s.req) or api.nvim_get_current_buf() ~= s.bufnr then
      return
    end
    local token = s.token
    vim.schedule(function()
      if M.session == s and s.req and s.token == token then
        M.cancel() -- the mapping did not run
      end
    end)
  end, api.nvim_create_namespace('ardaemon.chat.cancel'))
end

local function event(name, data)
  pcall(api.nvim_exec_autocmds, 'User', { pattern = name, modeline = false, data = data })
end

---Open (or focus) the chat buffer.
---@return integer bufnr
function M.open()
  if buf_valid() then
    local bufnr = M.session.bufnr
    local wins = vim.fn.win_findbuf(bufnr)
    if #wins > 0 then
      api.nvim_set_current_win(wins[1])
    else
      vim.cmd(config.get().chat.open)
      api.nvim_win_set_buf(0, bufnr)
    end
    return bufnr
  end
  local bufnr = api.nvim_create_buf(false, true)
  api.nvim_buf_set_name(bufnr, 'ardaemon://chat')
  vim.bo[bufnr].buftype = 'nofile'
  vim.bo[bufnr].bufhidden = 'hide'
  vim.bo[bufnr].swapfile = false
  vim.b[bufnr].ardaemon_enabled = false
  vim.b[bufnr].ardaemon_chat = true
  vim.bo[bufnr].filetype = 'markdown'
  api.nvim_buf_set_lines(bufnr, 0, -1, false, { M.you, '' })
  vim.cmd(config.get().chat.open)
  api.nvim_win_set_buf(0, bufnr)
  api.nvim_win_set_cursor(0, { 2, 0 })
  M.session = { bufnr = bufnr, messages = {}, reply = '', deltas = 0 }
  vim.keymap.set('n', '<CR>', function()
    M.send()
  end, { buffer = bufnr, desc = 'ardaemon: send the message under the last "## You"' })
  vim.keymap.set({ 'n', 'i' }, '<C-c>', function()
    if not M.cancel() then
      api.nvim_feedkeys(vim.keycode('<C-c>'), 'ni', false)
    end
  end, { buffer = bufnr, desc = 'ardaemon: cancel the reply' })
  cancel_on_interrupt()
  return bufnr
end

---The prompt: the lines after the last `## You` heading.
---@param bufnr integer
---@return string
local function pending_prompt(bufnr)
  local lines = api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local start
  for i = #lines, 1, -1 do
    if lines[i] == M.you then
      start = i
      break
    end
  end
  if not start then
    return ''
  end
  return vim.trim(table.concat(lines, '\n', start + 1, #lines))
end

---Is a reply streaming?
---@return boolean
function M.busy()
  return M.session ~= nil and M.session.req ~= nil
end

local function finish(s, footer)
  if s.token then
    client.unwatch(s.token)
  end
  s.req, s.token = nil, nil
  if api.nvim_buf_is_valid(s.bufnr) then
    append(s.bufnr, footer .. '\n\n' .. M.you .. '\n')
  end
end

---Send `text` (or the pending prompt in the chat buffer) and stream the reply into the buffer.
---@param text? string
---@return boolean sent
function M.send(text)
  local bufnr = M.open()
  local s = M.session --[[@as ardaemon.ChatSession]]
  if s.req then
    vim.notify('ardaemon: a reply is still streaming (<C-c> cancels it)', vim.log.levels.WARN)
    return false
  end
  if text and text ~= '' then
    local lines = api.nvim_buf_get_lines(bufnr, 0, -1, false)
    if lines[#lines] ~= '' or lines[#lines - 1] ~= M.you then
      append(bufnr, (lines[#lines] == '' and '' or '\n') .. M.you .. '\n')
    end
    append(bufnr, text)
  end
  local prompt = pending_prompt(bufnr)
  if prompt == '' then
    vim.notify('ardaemon: write a message under "' .. M.you .. '" first', vim.log.levels.WARN)
    return false
  end
  table.insert(s.messages, { role = 'user', content = prompt })
  require('ardaemon.status').clear_fallback()
  local cfg = config.get().chat
  append(bufnr, '\n\n## Assistant\n')
  local header = api.nvim_buf_line_count(bufnr) - 2 -- 0-based row of "## Assistant"
  s.reply, s.deltas = '', 0
  local token = client.watch_progress(function(value)
    if type(value.delta) ~= 'string' or not api.nvim_buf_is_valid(bufnr) then
      return
    end
    s.reply = s.reply .. value.delta
    s.deltas = s.deltas + 1
    append(bufnr, value.delta)
    event('ArdaemonChatDelta', { delta = value.delta })
  end)
  s.token = token
  local params = {
    messages = vim.deepcopy(s.messages),
    model = cfg.model,
    maxTokens = cfg.max_tokens,
    partialResultToken = token,
  }
  local started = client.when_ready(function(c)
    if s.token ~= token then
      return -- cancelled before the daemon was ready
    end
    local id = client.request(c, protocol.methods.chat, params, function(err, result)
      if s.token ~= token then
        return -- cancelled
      end
      if err then
        log.daemon_error('chat', err)
        table.remove(s.messages)
        finish(s, ('\n> error (%s): %s'):format(protocol.error_kind(err) or err.code, err.message))
        event('ArdaemonChatDone', { error = err })
        return
      end
      log.success()
      if type(result.model) == 'string' and api.nvim_buf_is_valid(bufnr) then
        -- Name the model that answered (the daemon resolved it; settings may not say), and
        -- the one first asked when a fallback (`models.fallback.chat`) answered instead.
        api.nvim_buf_set_lines(bufnr, header, header + 1, false, { M.header(result) })
        vim.b[bufnr].ardaemon_chat_model = result.model
        pcall(vim.cmd.redrawstatus)
      end
      if s.deltas == 0 and result.content then
        s.reply = result.content -- the daemon did not stream: show the whole reply
        append(bufnr, result.content)
      elseif result.content and result.content ~= s.reply then
        log.warn('chat: streamed text differs from the final content (%d vs %d bytes)', #s.reply, #result.content)
      end
      table.insert(s.messages, { role = 'assistant', content = s.reply })
      finish(s, '')
      event('ArdaemonChatDone', { result = result })
    end)
    if id then
      s.req = { client = c, id = id }
    else
      finish(s, '\n> error: the daemon is not running')
    end
  end)
  if not started then
    finish(s, '\n> error: the daemon could not start; see :checkhealth ardaemon')
    return false
  end
  -- Mark busy before the daemon is ready so <C-c> works from the start.
  if s.token == token then
    s.req = s.req or { client = nil, id = nil }
  end
  return true
end

---The header over a reply: `## Assistant (<model>)`, or `## Assistant (<model>, fallback from
---<first asked>)` when the daemon's fallback chain answered.
---@param result ardaemon.ChatResult
---@return string
function M.header(result)
  local from = result.fallbackFrom
  if type(from) == 'string' and from ~= '' then
    return ('## Assistant (%s, fallback from %s)'):format(result.model, from)
  end
  return '## Assistant (' .. result.model .. ')'
end

---Cancel the streaming reply.
---@return boolean cancelled
function M.cancel()
  local s = M.session
  if not s or not s.req then
    return false
  end
  client.cancel(s.req.client, s.req.id)
  table.remove(s.messages) -- the unanswered question is not history
  finish(s, '\n> [cancelled]')
  event('ArdaemonChatDone', { cancelled = true })
  return true
end

return M
