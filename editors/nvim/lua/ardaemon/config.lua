---Defaults and validation. Bad options are reported with one clear message each and replaced by
---their defaults; they never stop the plugin from loading.
local M = {}

---@class (exact) ardaemon.Keymaps
---@field accept string|false accept the whole suggestion
---@field accept_word string|false accept the next word
---@field accept_line string|false accept up to the end of the current suggestion line
---@field next string|false next suggestion
---@field prev string|false previous suggestion
---@field dismiss string|false hide the suggestion
---@field trigger string|false ask for a suggestion now

---@class (exact) ardaemon.InlineConfig
---@field enabled boolean ghost text on/off
---@field auto_trigger boolean request after typing pauses (false: only on `trigger`)
---@field debounce_ms integer|nil pause after the last keystroke before a request; the daemon
---waits it (its `completion.debounceMs`, adaptive to the typing rhythm), nil: the daemon's default
---@field hl_group string highlight group of the ghost text
---@field filetypes table<string, boolean> allow/deny per filetype; `["*"]` is the default
---@field keymaps ardaemon.Keymaps
---@field native boolean use `vim.lsp.inline_completion` when Neovim has it (0.12+)

---@class (exact) ardaemon.ChatConfig
---@field open string Ex command that opens the chat window
---@field model string|nil model for chat requests (nil: the daemon's selection)
---@field max_tokens integer|nil

---@class (exact) ardaemon.Config
---@field cmd string[]|fun(dispatchers: vim.lsp.rpc.Dispatchers): vim.lsp.rpc.PublicClient command that starts the daemon
---@field cmd_env table<string, string>|nil extra environment for the daemon
---@field settings table the daemon's `ardaemon` settings section (sent as init_options)
---@field inline ardaemon.InlineConfig
---@field chat ardaemon.ChatConfig
---@field notify boolean show errors with vim.notify (once each)
---@field log_level "debug"|"info"|"warn"|"error"

---@type ardaemon.Config
M.defaults = {
  cmd = { 'ardaemon', 'serve' },
  cmd_env = nil,
  settings = {},
  inline = {
    enabled = true,
    auto_trigger = true,
    debounce_ms = nil,
    hl_group = 'ArdaemonSuggestion',
    filetypes = {
      ['*'] = true,
      help = false,
      gitrebase = false,
      TelescopePrompt = false,
      ['ardaemon-chat'] = false,
    },
    keymaps = {
      accept = '<M-l>',
      accept_word = '<M-Right>',
      accept_line = '<M-C-Right>',
      next = '<M-]>',
      prev = '<M-[>',
      dismiss = '<C-]>',
      trigger = '<M-\\>',
    },
    native = true,
  },
  chat = {
    open = 'botright vsplit',
    model = nil,
    max_tokens = nil,
  },
  notify = true,
  log_level = 'info',
}

---@type ardaemon.Config
local current = vim.deepcopy(M.defaults)

---Messages from the last `setup()` (shown by :checkhealth).
---@type string[]
M.errors = {}

local function is_key(v)
  return v == false or (type(v) == 'string' and v ~= '')
end

---Schema: dotted path → {check, expected}. Tables not listed here are recursed into.
local checks = {
  cmd = {
    function(v)
      return type(v) == 'function'
        or (type(v) == 'table' and #v > 0 and vim.iter(v):all(function(s)
          return type(s) == 'string'
        end))
        or (type(v) == 'string' and v ~= '')
    end,
    'a non-empty list of strings, e.g. { "ardaemon", "serve" } (or a vim.lsp cmd function)',
  },
  cmd_env = {
    function(v)
      return v == nil or type(v) == 'table'
    end,
    'a table of strings',
  },
  settings = {
    function(v)
      return type(v) == 'table'
    end,
    'a table (the daemon settings, e.g. { models = { completion = "gpt-5" } })',
  },
  ['inline.enabled'] = {
    function(v)
      return type(v) == 'boolean'
    end,
    'a boolean',
  },
  ['inline.auto_trigger'] = {
    function(v)
      return type(v) == 'boolean'
    end,
    'a boolean',
  },
  ['inline.native'] = {
    function(v)
      return type(v) == 'boolean'
    end,
    'a boolean',
  },
  ['inline.debounce_ms'] = {
    function(v)
      return v == nil or (type(v) == 'number' and v >= 0 and v == math.floor(v))
    end,
    'a whole number of milliseconds >= 0, or nil',
  },
  ['inline.hl_group'] = {
    function(v)
      return type(v) == 'string' and v ~= ''
    end,
    'a highlight group name',
  },
  ['inline.filetypes'] = {
    function(v)
      if type(v) ~= 'table' then
        return false
      end
      for k, b in pairs(v) do
        if type(k) ~= 'string' or type(b) ~= 'boolean' then
          return false
        end
      end
      return true
    end,
    'a table of filetype = boolean, e.g. { ["*"] = true, markdown = false }',
  },
  ['chat.open'] = {
    function(v)
      return type(v) == 'string'
    end,
    'an Ex command such as "botright vsplit"',
  },
  ['chat.model'] = {
    function(v)
      return v == nil or type(v) == 'string'
    end,
    'a model id or nil',
  },
  ['chat.max_tokens'] = {
    function(v)
      return v == nil or (type(v) == 'number' and v > 0)
    end,
    'a positive number or nil',
  },
  notify = {
    function(v)
      return type(v) == 'boolean'
    end,
    'a boolean',
  },
  log_level = {
    function(v)
      return v == 'debug' or v == 'info' or v == 'warn' or v == 'error'
    end,
    'one of "debug", "info", "warn", "error"',
  },
}
for name in pairs(M.defaults.inline.keymaps) do
  checks['inline.keymaps.' .. name] = { is_key, 'a key such as "<M-l>", or false to disable it' }
end

local function describe(v)
  if type(v) == 'string' then
    return ('"%s" (string)'):format(v)
  end
  return ('%s (%s)'):format(vim.inspect(v), type(v))
end

---Walk `opts` against the defaults; collect messages, drop bad values.
---@param opts table
---@param defaults table
---@param prefix string
---@param errors string[]
---@return table cleaned
local function walk(opts, defaults, prefix, errors)
  local out = {}
  for key, value in pairs(opts) do
    local path = prefix == '' and tostring(key) or (prefix .. '.' .. tostring(key))
    local check = checks[path]
    if check then
      if check[1](value) then
        out[key] = value
      else
        table.insert(errors, ('`%s` must be %s, got %s'):format(path, check[2], describe(value)))
      end
    elseif type(defaults) == 'table' and defaults[key] ~= nil and type(defaults[key]) == 'table' then
      if type(value) == 'table' then
        out[key] = walk(value, defaults[key], path, errors)
      else
        table.insert(errors, ('`%s` must be a table, got %s'):format(path, describe(value)))
      end
    elseif
      type(defaults) == 'table'
      and (defaults[key] ~= nil or path == 'cmd_env' or path == 'chat.model' or path == 'chat.max_tokens')
    then
      out[key] = value
    else
      table.insert(errors, ('unknown option `%s` (ignored)'):format(path))
    end
  end
  return out
end

---Validate user options without applying them.
---@param opts table|nil
---@return table cleaned options (bad values removed)
---@return string[] errors one message per problem
function M.validate(opts)
  local errors = {}
  if opts == nil then
    return {}, errors
  end
  if type(opts) ~= 'table' then
    return {}, { ('setup() expects a table, got %s'):format(describe(opts)) }
  end
  local cleaned = walk(opts, M.defaults, '', errors)
  if type(cleaned.cmd) == 'string' then
    cleaned.cmd = { cleaned.cmd }
  end
  return cleaned, errors
end

---Merge user options over the defaults (after validation). Messages go to vim.notify.
---@param opts table|nil
---@return ardaemon.Config
---@return string[] errors
function M.set(opts)
  local cleaned, errors = M.validate(opts)
  -- filetypes and keymaps merge key by key; cmd and settings replace/merge as tables.
  current = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), cleaned)
  if cleaned.cmd then
    current.cmd = cleaned.cmd
  end
  require('ardaemon.log').set_level(current.log_level)
  M.errors = errors
  -- Only a `cmd` the user gave beats the private daemon of `:Ardaemon install`.
  M.cmd_from_user = cleaned.cmd ~= nil
  if #errors > 0 then
    vim.notify('ardaemon.setup: ' .. table.concat(errors, '\n  '), vim.log.levels.ERROR, { title = 'ardaemon' })
  end
  return current, errors
end

---@return ardaemon.Config
function M.get()
  return current
end

---The settings section sent to the daemon: `{ ardaemon = settings }`. The daemon owns the
---debounce (one owner, as for VS Code): `inline.debounce_ms` becomes its `completion.debounceMs`
---unless `settings` names that key itself.
---@return table
function M.daemon_settings()
  local settings = vim.deepcopy(current.settings)
  local ms = current.inline.debounce_ms
  if ms ~= nil and (settings.completion == nil or type(settings.completion) == 'table') then
    settings.completion = settings.completion or {}
    if settings.completion.debounceMs == nil then
      settings.completion.debounceMs = ms
    end
  end
  return require('ardaemon.protocol').object({ ardaemon = settings })
end

---Is ghost text allowed in `bufnr`?
---@param bufnr integer
---@return boolean
function M.buf_enabled(bufnr)
  if not current.inline.enabled then
    return false
  end
  if vim.b[bufnr].ardaemon_enabled == false then
    return false
  end
  if vim.bo[bufnr].buftype ~= '' then
    return false
  end
  local ft = vim.bo[bufnr].filetype
  local fts = current.inline.filetypes
  if fts[ft] ~= nil then
    return fts[ft]
  end
  if fts['*'] ~= nil then
    return fts['*']
  end
  return true
end

return M
