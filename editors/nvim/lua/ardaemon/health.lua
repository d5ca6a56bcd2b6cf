---`:checkhealth ardaemon`
local protocol = require('ardaemon.protocol')
local config = require('ardaemon.config')

local M = {}

local health = vim.health

---The `--version` command for a `serve` command line: `{ "ardaemon", "serve" }` → `{ "ardaemon", "--version" }`.
---@param cmd string[]
---@return string[]
function M.version_cmd(cmd)
  local out = {}
  for _, a in ipairs(cmd) do
    if a == 'serve' then
      break
    end
    table.insert(out, a)
  end
  table.insert(out, '--version')
  return out
end

---Talk to a fresh daemon: initialize, then list the models (forcing a network call).
---@param cmd string[]
---@param env table|nil
---@param settings table
---@param timeout_ms integer
---@return {init: table|nil, init_err: any, models: table|nil, models_err: table|nil, stderr: string}
function M.probe(cmd, env, settings, timeout_ms)
  local out = { stderr = '' }
  local exited = false
  local ok, rpc = pcall(vim.lsp.rpc.start, cmd, {
    notification = function() end,
    server_request = function()
      return nil, vim.lsp.rpc.rpc_response_error(-32601) -- MethodNotFound
    end,
    on_exit = function()
      exited = true
    end,
    on_error = function(code, err)
      out.stderr = out.stderr .. tostring(code) .. ' ' .. vim.inspect(err) .. '\n'
    end,
  }, { env = env })
  if not ok or not rpc then
    out.init_err = tostring(rpc)
    return out
  end
  local done = false
  rpc.request('initialize', {
    processId = vim.fn.getpid(),
    clientInfo = { name = 'ardaemon.nvim checkhealth' },
    rootUri = vim.NIL,
    capabilities = { experimental = { ardaemon = { protocolVersion = protocol.version } } },
    initializationOptions = settings,
  }, function(err, result)
    out.init, out.init_err, done = result, err, true
  end)
  vim.wait(timeout_ms, function()
    return done or exited
  end, 20)
  if not done then
    out.init_err = out.init_err or (exited and 'the daemon exited during initialize' or 'no answer to initialize')
  elseif out.init then
    rpc.notify('initialized', vim.empty_dict())
    done = false
    rpc.request(protocol.methods.listModels, { refresh = true }, function(err, result)
      out.models, out.models_err, done = result, err, true
    end)
    vim.wait(timeout_ms, function()
      return done or exited
    end, 20)
    if not done then
      out.models_err = { message = 'no answer to ' .. protocol.methods.listModels }
    end
    done = false
    rpc.request('shutdown', vim.NIL, function()
      done = true
    end)
    vim.wait(2000, function()
      return done or exited
    end, 20)
    rpc.notify('exit', vim.NIL)
    vim.wait(2000, function()
      return exited
    end, 20)
  end
  if not exited then
    rpc.terminate()
  end
  return out
end

function M.check()
  local cfg = config.get()
  health.start('ardaemon: Neovim')
  local v = vim.version()
  local vs = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. vs)
  else
    health.error('Neovim ' .. vs .. ' is too old', 'Upgrade to Neovim 0.10 or newer.')
  end
  if vim.lsp.inline_completion and cfg.inline.native then
    health.info('ghost text: vim.lsp.inline_completion (native)')
  else
    health.info('ghost text: ardaemon extmarks')
  end
  if require('ardaemon')._setup_done then
    health.ok('setup() called')
  else
    health.warn(
      'setup() was not called: ghost text is off',
      'Call require("ardaemon").setup({}) (lazy.nvim: `opts = {}`).'
    )
  end
  for _, e in ipairs(config.errors or {}) do
    health.error('setup(): ' .. e)
  end

  health.start('ardaemon: daemon')
  local cmd, source = require('ardaemon.client').resolve_cmd()
  if type(cmd) == 'function' then
    health.info('`cmd` is a function (custom transport): skipping the executable and start-up checks')
    return
  end
  local install = require('ardaemon.install')
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    health.error(('`%s` not found'):format(cmd[1]), {
      'Install the daemon with :Ardaemon install (lazy.nvim runs it as the build hook).',
      'Or set `cmd` in setup(), e.g. cmd = { "/path/to/ardaemon", "serve" }.',
    })
    return
  end
  health.info(({
    setup = 'using `cmd` from setup(): ',
    private = 'using the private daemon installed by :Ardaemon install / the build hook: ',
    default = 'using `ardaemon` from PATH (:Ardaemon install puts a private one under stdpath("data")): ',
  })[source] .. exe)
  if source ~= 'private' and install.installed() then
    health.info('a private daemon is also installed (' .. install.installed() .. '), unused because `cmd` is set')
  end
  local vcmd = M.version_cmd(cmd)
  local ok, res = pcall(function()
    return vim.system(vcmd, { text = true, env = cfg.cmd_env }):wait(10000)
  end)
  if ok and res.code == 0 then
    health.ok(('daemon version: %s'):format(vim.trim(res.stdout ~= '' and res.stdout or res.stderr)))
  else
    health.warn(
      ('`%s` failed: %s'):format(table.concat(vcmd, ' '), ok and vim.trim(res.stderr or '') or tostring(res)),
      'Reinstall the daemon or fix `cmd`.'
    )
  end

  local env_token = (cfg.cmd_env and cfg.cmd_env.AGENTROUTER_API_KEY) or vim.env.AGENTROUTER_API_KEY
  if env_token and env_token ~= '' then
    health.ok('token: from AGENTROUTER_API_KEY (environment)')
  else
    health.info('token: AGENTROUTER_API_KEY is not set; the daemon uses its stored token (`ardaemon login`)')
  end
  local base = cfg.settings.baseUrl
    or (cfg.cmd_env and cfg.cmd_env.AGENTROUTER_BASE_URL)
    or vim.env.AGENTROUTER_BASE_URL
    or 'https://agentrouter.org (default)'
  health.info('base URL: ' .. base)

  local timeout = ((cfg.settings.requestTimeout or 30) + 5) * 1000
  local probe = M.probe(cmd, cfg.cmd_env, config.daemon_settings(), timeout)
  if not probe.init then
    health.error(
      ('`%s` did not answer initialize: %s'):format(table.concat(cmd, ' '), vim.inspect(probe.init_err)),
      'Run `' .. table.concat(cmd, ' ') .. '` in a terminal to see why, and see :Ardaemon log.'
    )
    return
  end
  local info = probe.init.serverInfo or {}
  health.ok(('daemon answers initialize: %s %s'):format(info.name or '?', info.version or '?'))
  local mismatch = require('ardaemon.client').protocol_mismatch(probe.init, source)
  if mismatch then
    health.warn(mismatch)
  else
    health.ok(('protocol version %d, as this plugin'):format(protocol.version))
  end
  if probe.init.capabilities and probe.init.capabilities.inlineCompletionProvider ~= nil then
    health.ok('inline completion provider advertised')
  else
    health.warn('the daemon does not advertise inlineCompletionProvider', 'Upgrade ardaemon.')
  end

  health.start('ardaemon: gateway')
  local err = probe.models_err
  if err then
    local kind = protocol.error_kind(err)
    -- The daemon writes the advice, in Neovim's words (it knows this client by clientInfo).
    local msg = 'catalog unreachable' .. (kind and (' (' .. kind .. ')') or '')
    health.error(msg, { err.message or vim.inspect(err), 'See :Ardaemon log.' })
  elseif probe.models then
    local m = probe.models
    local line = ('catalog: %d models (%s, fetched %s)'):format(#(m.models or {}), m.source, m.fetchedAt or '?')
    if m.stale then
      health.warn(line .. ' is stale: the gateway could not be reached', 'See :Ardaemon log.')
    else
      health.ok(line)
    end
    local sel = m.selected or {}
    local function s(x)
      return (x and x ~= vim.NIL) and x or '(daemon default)'
    end
    health.info(('selected: completion = %s, chat = %s'):format(s(sel.completion), s(sel.chat)))
  end

  health.start('ardaemon: this session')
  local c = require('ardaemon.client').get()
  if c then
    health.ok(('client %d running, %d buffer(s) attached'):format(c.id, vim.tbl_count(c.attached_buffers)))
  else
    health.info('no daemon running in this session yet (it starts with the first eligible buffer)')
  end
  local st = require('ardaemon.status').current
  if st.state == 'error' then
    health.warn(('last status: error (%s)'):format(st.kind or '?'), st.message)
  end
  health.info('log: ' .. require('ardaemon.log').path())
end

return M
