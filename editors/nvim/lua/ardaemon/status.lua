---What the statusline shows: the model and idle/in-progress/error, fed by
---`ardaemon/didChangeStatus` when the daemon sends it and by the plugin's own requests otherwise.
local M = {}

---@class (exact) ardaemon.StatusInfo
---@field state ardaemon.StatusState|"off"
---@field model string|nil
---@field message string|nil
---@field kind string|nil
---@field selected ardaemon.Selected
---@field fallback {model: string|nil, message: string|nil}|nil the last request was answered by a fallback model
---@field budget {message: string, day: string}|nil today's tokens passed `usage.dailyTokenWarning` (local date)
M.current = { state = 'off', selected = {} }

---True once the daemon sent `ardaemon/didChangeStatus`: from then on it alone says idle/busy/error.
M.from_daemon = false

---Set the state from the plugin's own view of a request, unless the daemon reports it.
---@param s ardaemon.Status|{state: string}
function M.local_set(s)
  if not M.from_daemon then
    M.set(s)
  end
end

local function changed()
  vim.schedule(function()
    pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'ArdaemonStatus', modeline = false })
    pcall(vim.cmd.redrawstatus)
  end)
end

---@param s ardaemon.Status|{state: string}
function M.set(s)
  local cur = M.current
  if s.state == 'off' then
    M.from_daemon = false
    cur.budget = nil
  end
  if s.kind == 'budget' then
    -- News of the day, not a state (a completion may be in progress): shown until the day ends.
    -- The daemon's window/showMessage already popped it up once.
    cur.budget =
      { message = s.message ~= vim.NIL and s.message or 'usage.dailyTokenWarning passed', day = os.date('%F') }
    changed()
    return
  end
  if s.kind == 'fallback' then
    -- A notice, not a state: the model that answered is the fallback's, the one to keep
    -- showing is still the one asked. Kept until the next request starts.
    cur.fallback =
      { model = s.model ~= vim.NIL and s.model or nil, message = s.message ~= vim.NIL and s.message or nil }
    changed()
    return
  end
  if s.state == 'inProgress' or s.state == 'error' or s.state == 'off' then
    cur.fallback = nil
  end
  cur.state = s.state or cur.state
  if s.model and s.model ~= vim.NIL then
    cur.model = s.model
  end
  if cur.state == 'error' then
    cur.message = s.message ~= vim.NIL and s.message or nil
    cur.kind = s.kind ~= vim.NIL and s.kind or nil
  else
    cur.message, cur.kind = nil, nil
  end
  changed()
end

---@param selected ardaemon.Selected
function M.set_selected(selected)
  if type(selected) ~= 'table' then
    return
  end
  local function v(x)
    return x ~= vim.NIL and x or nil
  end
  M.current.selected = { completion = v(selected.completion), chat = v(selected.chat) }
  if M.current.selected.completion then
    M.current.model = M.current.selected.completion
  end
  changed()
end

---The budget warning, while it is about today (the daemon counts tokens per local day).
---@return string|nil
function M.budget_message()
  local budget = M.current.budget
  return budget and budget.day == os.date('%F') and budget.message or nil
end

---A new chat request starts: an older fallback notice no longer describes the last answer.
function M.clear_fallback()
  if M.current.fallback then
    M.current.fallback = nil
    changed()
  end
end

---Statusline component: `ardaemon glm-4.6`, with ` …` while working, ` ✗ <kind>` on error and
---` (fallback: <model>)` when a fallback model answered the last request, ` ⚠ budget` once
---today's tokens passed `usage.dailyTokenWarning`.
---@return string
function M.statusline()
  local cur = M.current
  if cur.state == 'off' then
    return ''
  end
  local text = 'ardaemon'
  -- In the chat buffer the model that matters is the chat model (the one that answered last).
  local chat_model = vim.b.ardaemon_chat and (vim.b.ardaemon_chat_model or cur.selected.chat)
  local model = chat_model or cur.model
  if model then
    text = text .. ' ' .. model
  end
  if cur.state == 'inProgress' then
    text = text .. ' …'
  elseif cur.state == 'error' then
    text = text .. ' ✗ ' .. (cur.kind or 'error')
  end
  local fallback = cur.fallback
  if fallback and cur.state ~= 'inProgress' then
    text = text
      .. ((fallback.model and fallback.model ~= model) and (' (fallback: ' .. fallback.model .. ')') or ' (fallback)')
  end
  if M.budget_message() then
    text = text .. ' ⚠ budget'
  end
  return text
end

return M
