---Plugin log: a file under `stdpath('log')` plus a short in-memory tail for `:Ardaemon status`.
---Every daemon error lands here; `vim.notify` shows each distinct error only once.
local M = {}

local levels = { debug = 1, info = 2, warn = 3, error = 4 }
local names = { 'DEBUG', 'INFO', 'WARN', 'ERROR' }

M.level = levels.info
---@type string[]
M.tail = {}
local max_tail = 200

---@type table<string, boolean>
local notified = {}

---@return string
function M.path()
  local dir = vim.fn.stdpath('log')
  if type(dir) == 'table' then
    dir = dir[1]
  end
  return vim.fs.joinpath(dir, 'ardaemon.log')
end

---@param level string
function M.set_level(level)
  M.level = levels[level] or levels.info
end

---@param lvl integer
---@param fmt string
local function write(lvl, fmt, ...)
  if lvl < M.level then
    return
  end
  local ok, msg = pcall(string.format, fmt, ...)
  if not ok then
    msg = fmt
  end
  local line = ('[%s] %s %s'):format(names[lvl], os.date('%Y-%m-%d %H:%M:%S'), msg)
  table.insert(M.tail, line)
  if #M.tail > max_tail then
    table.remove(M.tail, 1)
  end
  local path = M.path()
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local f = io.open(path, 'a')
  if f then
    f:write(line, '\n')
    f:close()
  end
end

function M.debug(...)
  write(levels.debug, ...)
end
function M.info(...)
  write(levels.info, ...)
end
function M.warn(...)
  write(levels.warn, ...)
end
function M.error(...)
  write(levels.error, ...)
end

---`msg` as one line that fits the command line (so no "Press ENTER" prompt, even while typing):
---its first line, shortened to the screen width; the whole text stays in the log.
---@param msg string
---@return string
function M.one_line(msg)
  local first = msg:match('^[^\n]*')
  local hint = ' (:Ardaemon log)'
  -- Leave room for "ardaemon: " and the ruler/showcmd at the right.
  local width = math.max(30, vim.o.columns - 23)
  if first == msg and vim.fn.strdisplaywidth(first) <= width then
    return first
  end
  if vim.fn.strdisplaywidth(first) > width - #hint then
    first = vim.fn.strcharpart(first, 0, width - #hint - 1) .. '…'
  end
  return first .. hint
end

---Show a message to the user once per `key` (until `M.rearm(key)`); always log it (in full).
---@param key string
---@param msg string
---@param level? integer vim.log.levels.*
function M.notify_once(key, msg, level)
  level = level or vim.log.levels.ERROR
  write(level == vim.log.levels.ERROR and levels.error or levels.warn, '%s', msg)
  if notified[key] then
    return
  end
  notified[key] = true
  local cfg = require('ardaemon.config').get()
  if cfg.notify then
    vim.schedule(function()
      vim.notify('ardaemon: ' .. M.one_line(msg), level, { title = 'ardaemon' })
    end)
  end
end

---Allow messages whose key starts with `prefix` to be shown again (the feature works again).
---@param prefix string
function M.rearm(prefix)
  for key in pairs(notified) do
    if vim.startswith(key, prefix) then
      notified[key] = nil
    end
  end
end

---A request worked: the next failure is worth showing again.
function M.success()
  M.rearm('error:')
end

---Report a daemon error for `feature` once; cancellations are not errors.
---@param feature string
---@param err table
function M.daemon_error(feature, err)
  local protocol = require('ardaemon.protocol')
  if protocol.is_cancelled(err) then
    return
  end
  local kind = protocol.error_kind(err) or tostring(err.code or 'error')
  local msg = type(err) == 'table' and err.message or tostring(err)
  -- Keyed by kind: one cause (a bad token, a refused client) is shown once, whichever feature hit it.
  M.notify_once('error:' .. kind, ('%s failed (%s): %s'):format(feature, kind, msg))
end

return M
