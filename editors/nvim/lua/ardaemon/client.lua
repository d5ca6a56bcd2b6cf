---The one daemon process (`ardaemon serve`) shared by every buffer, started with vim.lsp.
local protocol = require('ardaemon.protocol')
local log = require('ardaemon.log')
local status = require('ardaemon.status')

local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

---@type integer|nil
M.client_id = nil
---@type table|nil serverInfo from initialize
M.server_info = nil
---@type fun(client: vim.lsp.Client)[] callbacks waiting for `initialize` to finish
local waiting = {}
---@type table<string|integer, fun(value: table)>
local progress = {}
local token_seq = 0

---@return vim.lsp.Client|nil
function M.get()
  if not M.client_id then
    return nil
  end
  local c = vim.lsp.get_client_by_id(M.client_id)
  if not c or (c.is_stopped and c:is_stopped()) then
    return nil
  end
  return c
end

---A fresh `partialResultToken`; `fn` gets each `$/progress` value for it until `M.unwatch`.
---@param fn fun(value: table)
---@return string
function M.watch_progress(fn)
  token_seq = token_seq + 1
  local token = ('ardaemon-%d-%d'):format(vim.fn.getpid(), token_seq)
  progress[token] = fn
  return token
end

---@param token string|integer
function M.unwatch(token)
  progress[token] = nil
end

local handlers = {}

handlers['$/progress'] = function(err, result, ctx, config)
  local fn = result and progress[result.token]
  if fn then
    fn(result.value or {})
    return
  end
  return vim.lsp.handlers['$/progress'](err, result, ctx, config)
end

handlers[protocol.methods.didChangeStatus] = function(_, result)
  if type(result) ~= 'table' then
    return
  end
  status.from_daemon = true
  status.set(result)
  if result.state == 'error' then
    log.notify_once(
      'error:' .. tostring(result.kind or 'error'),
      ('%s%s'):format(result.kind and (result.kind .. ': ') or '', result.message or 'request failed')
    )
  else
    log.debug('status %s %s', result.state, result.model or '')
  end
end

handlers['window/logMessage'] = function(_, result)
  if result and result.message then
    log.info('daemon: %s', result.message)
  end
end

handlers['window/showMessage'] = function(_, result)
  if result and result.message then
    local lvl = ({ vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO })[result.type] or vim.log.levels.INFO
    log.notify_once('show:' .. result.message, result.message, lvl)
  end
end

---The daemon command: `cmd` from setup(), else the private daemon installed by the build hook
---or `:Ardaemon install`, else the default (`ardaemon` on PATH); and where it came from.
---@return string[]|function cmd, "setup"|"private"|"default" source
function M.resolve_cmd()
  local config = require('ardaemon.config')
  local cfg = config.get()
  if type(cfg.cmd) == 'function' then
    return cfg.cmd, 'setup'
  end
  if not config.cmd_from_user then
    local private = require('ardaemon.install').installed()
    if private then
      return { private, 'serve' }, 'private'
    end
  end
  return vim.deepcopy(cfg.cmd), config.cmd_from_user and 'setup' or 'default'
end

---What to update when the daemon speaks another protocol version than this plugin, else nil.
---@param result table|nil the initialize result
---@param source string where the command came from (M.resolve_cmd)
---@return string|nil
function M.protocol_mismatch(result, source)
  local caps = result and result.capabilities or {}
  local own = type(caps.experimental) == 'table' and caps.experimental.ardaemon or nil
  local theirs = type(own) == 'table' and type(own.protocolVersion) == 'number' and own.protocolVersion or 0
  if theirs == protocol.version then
    return nil
  end
  local info = result and result.serverInfo or {}
  local head = ('the daemon (ardaemon %s) speaks protocol %d, this plugin protocol %d: '):format(
    info.version or '?',
    theirs,
    protocol.version
  )
  if theirs > protocol.version then
    return head .. 'update the plugin'
  end
  return head .. (source == 'setup' and 'update the daemon that `cmd` names' or 'run :Ardaemon install')
end

---Client capabilities plus inline completion (LSP 3.18).
local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = { dynamicRegistration = false }
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  caps.experimental = { ardaemon = { protocolVersion = protocol.version } }
  return caps
end
M._capabilities = capabilities

---Start the daemon unless it runs; returns the client (maybe not yet initialized) or nil.
---@return vim.lsp.Client|nil
function M.start()
  local c = M.get()
  if c then
    return c
  end
  local cfg = require('ardaemon.config').get()
  local cmd, source = M.resolve_cmd()
  if type(cmd) == 'table' and vim.fn.executable(cmd[1]) ~= 1 then
    log.notify_once(
      'cmd',
      ('daemon executable `%s` not found: run :Ardaemon install (or set `cmd` in setup()); see :checkhealth ardaemon'):format(
        cmd[1]
      )
    )
    return nil
  end
  local settings = require('ardaemon.config').daemon_settings()
  ---@type vim.lsp.ClientConfig
  local lsp_config = {
    name = 'ardaemon',
    cmd = cmd,
    cmd_env = cfg.cmd_env,
    root_dir = vim.fn.getcwd(),
    init_options = settings,
    settings = settings,
    capabilities = capabilities(),
    handlers = handlers,
    flags = { debounce_text_changes = 50 },
    on_init = function(client, result)
      M.server_info = result and result.serverInfo or nil
      log.info(
        'daemon started: %s %s (client %d)',
        M.server_info and M.server_info.name or '?',
        M.server_info and M.server_info.version or '?',
        client.id
      )
      local mismatch = M.protocol_mismatch(result, source)
      if mismatch then
        log.notify_once('protocol', mismatch, vim.log.levels.WARN)
      end
      status.set({ state = 'idle' })
      local queued = waiting
      waiting = {}
      -- vim.lsp sends didOpen for buffers attached before `initialize` only after this
      -- callback returns: a request sent from here would reach the daemon first ("not open").
      vim.schedule(function()
        for _, fn in ipairs(queued) do
          fn(client)
        end
      end)
      M.refresh_selected()
    end,
    on_exit = function(code, signal, client_id)
      if client_id == M.client_id then
        M.client_id = nil
        M.server_info = nil
        waiting = {}
        vim.schedule(function()
          status.set({ state = 'off' })
        end)
        if code ~= 0 then
          log.notify_once(
            'exit',
            ('daemon exited with code %d%s; see :Ardaemon log'):format(
              code,
              signal ~= 0 and (' (signal ' .. signal .. ')') or ''
            )
          )
        else
          log.info('daemon exited')
        end
      end
    end,
  }
  local id
  if has_011 then
    id = vim.lsp.start(lsp_config, { attach = false })
  else
    id = vim.lsp.start_client(lsp_config)
  end
  if not id then
    log.notify_once('start', ('could not start `%s`; see :Ardaemon log'):format(vim.inspect(cmd)))
    return nil
  end
  M.client_id = id
  log.info('starting %s', type(cmd) == 'table' and table.concat(cmd, ' ') or 'in-process server')
  return M.get()
end

---Run `fn(client)` once the daemon answered `initialize` (starting it if needed).
---@param fn fun(client: vim.lsp.Client)
---@return boolean started false when the daemon cannot start
function M.when_ready(fn)
  local c = M.start()
  if not c then
    return false
  end
  if c.initialized then
    fn(c)
  else
    table.insert(waiting, fn)
  end
  return true
end

---Attach `bufnr` so the daemon gets didOpen/didChange for it.
---@param bufnr integer
function M.attach(bufnr)
  local c = M.start()
  if c and not c.attached_buffers[bufnr] then
    vim.lsp.buf_attach_client(bufnr, c.id)
  end
end

---Send a request; `handler(err, result, ctx)`. Returns the request id, or nil.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: table|nil, result: any, ctx: table)
---@param bufnr? integer
---@return integer|nil
function M.request(client, method, params, handler, bufnr)
  local ok, id
  params = protocol.object(params)
  if has_011 then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  if not ok then
    return nil
  end
  return id
end

---Cancel an in-flight request (`$/cancelRequest`).
---@param client vim.lsp.Client|nil
---@param id integer|nil
function M.cancel(client, id)
  if not (client and id) then
    return
  end
  if has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

---Request once the daemon is ready. Errors are logged and shown once per kind.
---@param method string
---@param params table
---@param handler fun(err: table|nil, result: any)
---@param feature? string name used in error messages
function M.call(method, params, handler, feature)
  local started = M.when_ready(function(c)
    M.request(c, method, params, function(err, result)
      if err then
        log.daemon_error(feature or method, err)
      else
        log.success()
      end
      handler(err, result)
    end)
  end)
  if not started then
    handler({ code = -1, message = 'the ardaemon daemon is not running' }, nil)
  end
end

---Ask for the catalog (cached) to learn the selected models for the statusline.
function M.refresh_selected()
  local c = M.get()
  if not c then
    return
  end
  M.request(c, protocol.methods.listModels, {}, function(err, result)
    if err then
      log.daemon_error('listModels', err)
      if not protocol.is_cancelled(err) then
        status.set({ state = 'error', kind = protocol.error_kind(err), message = err.message })
      end
    elseif result then
      status.set_selected(result.selected)
    end
  end)
end

---Push the current settings (`workspace/didChangeConfiguration`).
function M.push_settings()
  local c = M.get()
  if not c then
    return
  end
  local settings = require('ardaemon.config').daemon_settings()
  c.settings = settings
  if has_011 then
    c:notify('workspace/didChangeConfiguration', { settings = settings })
  else
    c.notify('workspace/didChangeConfiguration', { settings = settings })
  end
end

---Stop the daemon (shutdown + exit).
---@param force? boolean
function M.stop(force)
  local c = M.get()
  if not c then
    return
  end
  M.client_id = nil
  if has_011 then
    c:stop(force)
  else
    c.stop(force)
  end
  status.set({ state = 'off' })
end

return M
