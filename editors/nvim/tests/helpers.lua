---Test helpers: each case drives a child Neovim (`nvim --embed --headless --clean`) over RPC,
---the way a user would (typed keys, commands), and polls for what the user would see.
local H = {}

local uv = vim.uv

H.plugin_root = vim.fs.dirname(vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p')))
H.repo_root = vim.fs.dirname(vim.fs.dirname(H.plugin_root))

---The daemon command: $ARDAEMON_CMD, the repo's venv, or PATH.
---@return string
function H.ardaemon_bin()
  local env = vim.env.ARDAEMON_BIN
  if env and env ~= '' then
    return env
  end
  local venv = H.repo_root .. '/.venv/bin/ardaemon'
  if vim.fn.executable(venv) == 1 then
    return venv
  end
  return 'ardaemon'
end

---@param msg string
local function fail(msg, level)
  error(msg, (level or 1) + 1)
end

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    fail(
      ('%s\n  expected: %s\n  actual:   %s'):format(what or 'values differ', vim.inspect(expected), vim.inspect(actual)),
      2
    )
  end
end

function H.ok(v, what)
  if not v then
    fail(what or 'expected a true value', 2)
  end
  return v
end

function H.matches(pattern, s, what)
  if type(s) ~= 'string' or not s:find(pattern) then
    fail(('%s\n  pattern: %s\n  actual:  %s'):format(what or 'no match', pattern, vim.inspect(s)), 2)
  end
end

---Minimal HTTP/1.1 POST (JSON) for the gateway stand-in's control API.
---@param url string
---@param body table|nil
---@return integer status, string body
function H.http_post(url, body)
  local host, port, path = url:match('^http://([^:/]+):(%d+)(/.*)$')
  assert(host, 'bad url ' .. url)
  local payload = body and vim.json.encode(body) or ''
  local req = table.concat({
    'POST ' .. path .. ' HTTP/1.1',
    'Host: ' .. host .. ':' .. port,
    'Content-Type: application/json',
    'Content-Length: ' .. #payload,
    'Connection: close',
    '',
    payload,
  }, '\r\n')
  local chunks, done, err = {}, false, nil
  local tcp = uv.new_tcp()
  tcp:connect(host, tonumber(port), function(e)
    if e then
      err, done = e, true
      return
    end
    tcp:write(req)
    tcp:read_start(function(e2, data)
      if e2 or not data then
        err = e2
        done = true
        tcp:close()
        return
      end
      table.insert(chunks, data)
    end)
  end)
  vim.wait(5000, function()
    return done
  end, 5)
  assert(done and not err, 'HTTP POST ' .. url .. ' failed: ' .. tostring(err or 'timeout'))
  local resp = table.concat(chunks)
  local status = tonumber(resp:match('^HTTP/1%.%d (%d+)'))
  return status, resp:match('\r\n\r\n(.*)$') or ''
end

---The gateway stand-in (started by the pytest driver; its URL in $AGENTROUTER_BASE_URL).
H.gateway = {}

function H.gateway.url()
  return assert(vim.env.AGENTROUTER_BASE_URL, 'AGENTROUTER_BASE_URL is not set (run through tests/test_nvim.py)')
end

function H.gateway.control(what, body)
  local status, resp = H.http_post(H.gateway.url():gsub('/v1/?$', ''):gsub('/$', '') .. '/_gateway/' .. what, body)
  assert(status and status < 300, ('gateway control %s: HTTP %s %s'):format(what, tostring(status), resp))
  return resp
end

function H.gateway.reset()
  H.gateway.control('reset', {})
end

---@param rules string[][] {{substring, reply}, ...}
function H.gateway.replies(rules)
  H.gateway.control('replies', { rules = rules, prepend = true })
end

---@param name string fault name (see `ardaemon.gateway`)
---@param opts? table fault options, e.g. { chunk_delay = 0.05 }
function H.gateway.fault(name, opts)
  H.gateway.control('fault', vim.tbl_extend('force', { name = name }, opts or {}))
end

---The request the daemon dropped (the stand-in saw its client leave), or nil.
function H.gateway.wait_disconnect(timeout)
  local body = H.gateway.control('wait_disconnect', { timeout = timeout or 5 })
  local ok, v = pcall(vim.json.decode, body)
  return ok and v ~= vim.NIL and v or nil
end

---@class (exact) ardaemon.test.Child
---@field chan integer
---@field dir string
local Child = {}
Child.__index = Child

---Start a child Neovim with isolated XDG dirs and the plugin on 'runtimepath'.
---@param opts? {setup?: table|false, env?: table}
---@return ardaemon.test.Child
function H.spawn(opts)
  opts = opts or {}
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  local env = {
    XDG_CONFIG_HOME = dir .. '/config',
    XDG_CACHE_HOME = dir .. '/cache',
    XDG_STATE_HOME = dir .. '/state',
    XDG_DATA_HOME = dir .. '/data',
    -- The daemon's files on every platform (platformdirs ignores XDG_* on macOS/Windows).
    ARDAEMON_HOME = dir .. '/ardaemon',
  }
  for k, v in pairs(opts.env or {}) do
    env[k] = v
  end
  local nvim = vim.v.progpath
  local chan = vim.fn.jobstart({ nvim, '--embed', '--headless', '--clean', '-n', '--cmd', 'set shortmess+=I' }, {
    rpc = true,
    env = env,
    cwd = dir,
  })
  assert(chan > 0, 'could not start ' .. nvim)
  local child = setmetatable({ chan = chan, dir = dir }, Child)
  child:lua(
    [[
    local root, opts = ...
    -- Probing for a Python provider costs ~0.7 s per python buffer; tests don't need it.
    vim.g.loaded_python3_provider = 0
    vim.opt.rtp:prepend(root)
    vim.cmd('runtime plugin/ardaemon.lua')
    vim.o.columns, vim.o.lines = 120, 40
    _G.notes = {}
    vim.notify = function(msg, level) table.insert(_G.notes, { msg = msg, level = level }) end
    if opts then require('ardaemon').setup(opts) end
  ]],
    H.plugin_root,
    opts.setup ~= false
        and vim.tbl_deep_extend('force', {
          cmd = { H.ardaemon_bin(), 'serve' },
          inline = { debounce_ms = 10 },
        }, opts.setup or {})
      or nil
  )
  return child
end

---A child editing main.py with the real daemon (`ardaemon serve`), initialized.
---@param opts? {setup?: table|false, env?: table}
---@return ardaemon.test.Child
function H.daemon_child(opts)
  local child = H.spawn(opts)
  child:cmd('edit ' .. child.dir .. '/main.py')
  child:wait_initialized(15000)
  return child
end

---A child editing main.py against the in-process fake server (tests/fake_server.lua), whose
---replies a test injects exactly; `extra` is merged into setup().
---@param extra? table
---@return ardaemon.test.Child
function H.fake_child(extra)
  local child = H.spawn({ setup = false })
  child:lua(
    [[
    local root, extra = ...
    local opts = vim.tbl_deep_extend('force', {
      cmd = dofile(root .. '/tests/fake_server.lua'),
      inline = { debounce_ms = 10 },
    }, extra ~= vim.NIL and extra or {})
    require('ardaemon').setup(opts)
  ]],
    H.plugin_root,
    extra or vim.NIL
  )
  child:cmd('edit ' .. child.dir .. '/main.py')
  child:wait_initialized(5000, 'fake client')
  return child
end

---Run Lua in the child; returns its result.
function Child:lua(code, ...)
  return vim.rpcrequest(self.chan, 'nvim_exec_lua', code, { ... })
end

---Type keys as a user would (`nvim_input`, so mappings and autocmds run).
function Child:input(keys)
  vim.rpcrequest(self.chan, 'nvim_input', keys)
end

function Child:cmd(c)
  return vim.rpcrequest(self.chan, 'nvim_command', c)
end

---Poll `code` (a Lua chunk returning a value) in the child until it is truthy.
---@return any
function Child:wait(code, timeout_ms, what, ...)
  local deadline = uv.hrtime() + (timeout_ms or 10000) * 1e6
  local last
  while true do
    last = self:lua(code, ...)
    if last and last ~= vim.NIL then
      return last
    end
    if uv.hrtime() > deadline then
      error(('timed out waiting for %s'):format(what or code), 2)
    end
    uv.sleep(10)
  end
end

---Wait until the plugin's client has initialized its server.
function Child:wait_initialized(timeout_ms, what)
  return self:wait(
    'local c = require("ardaemon.client").get(); return c and c.initialized',
    timeout_ms,
    what or 'daemon initialized'
  )
end

---What vim.notify showed, in order: { {msg, level} }.
function Child:notes()
  return self:lua('return _G.notes')
end

---Wait for a vim.notify message matching the Lua pattern; returns the message.
function Child:wait_note(pattern, timeout_ms)
  return self:wait(
    'local p = ...; for _, n in ipairs(_G.notes) do if n.msg:find(p) then return n.msg end end',
    timeout_ms,
    'a message matching ' .. pattern,
    pattern
  )
end

---How many vim.notify messages match the Lua pattern.
function Child:count_notes(pattern)
  local n = 0
  for _, note in ipairs(self:notes()) do
    if note.msg:find(pattern) then
      n = n + 1
    end
  end
  return n
end

---Wait until the plugin's log has `times` lines matching the Lua pattern.
function Child:wait_logged(pattern, times, timeout_ms)
  return self:wait(
    [[local p, times = ...; local n = 0
      for _, l in ipairs(require('ardaemon.log').tail) do if l:find(p) then n = n + 1 end end
      return n >= times]],
    timeout_ms,
    ('%d log lines matching %s'):format(times, pattern),
    pattern,
    times
  )
end

---The plugin's log tail as one string.
function Child:log_text()
  return table.concat(self:lua('return require("ardaemon.log").tail'), '\n')
end

---Wait until no ghost text is shown.
function Child:wait_no_ghost(timeout_ms, what)
  return self:wait(
    'return #vim.api.nvim_buf_get_extmarks(0, require("ardaemon.inline").ns, 0, -1, {}) == 0',
    timeout_ms,
    what or 'no ghost text'
  )
end

---Buffer lines of the child's current buffer.
function Child:lines()
  return self:lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
end

---Extmarks of the ghost-text namespace: { {row, col, virt_text_line1 | nil, {virt_line, ...}} }.
function Child:ghost()
  return self:lua([[
    local ns = require('ardaemon.inline').ns
    local out = {}
    for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
      local d = m[4]
      local first
      if d.virt_text then
        first = ''
        for _, chunk in ipairs(d.virt_text) do first = first .. chunk[1] end
      end
      local rest = {}
      for _, vl in ipairs(d.virt_lines or {}) do
        local s = ''
        for _, chunk in ipairs(vl) do s = s .. chunk[1] end
        table.insert(rest, s)
      end
      table.insert(out, { row = m[2], col = m[3], text = first or vim.NIL, lines = rest,
        pos = d.virt_text_pos or vim.NIL, hl = d.virt_text and d.virt_text[1][2] or (d.virt_lines and d.virt_lines[1][1][2]) or vim.NIL })
    end
    return out
  ]])
end

---Wait for ghost text to appear; returns the extmarks.
---Fails at once when the daemon answered with an error instead (no ghost text will come).
function Child:wait_ghost(timeout_ms)
  local res = self:wait(
    [[
    if #vim.api.nvim_buf_get_extmarks(0, require("ardaemon.inline").ns, 0, -1, {}) > 0 then return 'ok' end
    local st = require('ardaemon.status').current
    if st.state == 'error' then return ('daemon error (%s): %s'):format(st.kind or '?', st.message or '') end
  ]],
    timeout_ms or 10000,
    'ghost text'
  )
  if res ~= 'ok' then
    error('no ghost text: ' .. res, 2)
  end
  return self:ghost()
end

function Child:mode()
  return vim.rpcrequest(self.chan, 'nvim_get_mode').mode
end

---What a failing test prints: the plugin's log tail, status, and the tail of Neovim's LSP log.
---@return string
function Child:diagnostics()
  local ok, res = pcall(
    self.lua,
    self,
    [[
    local out = { 'mode: ' .. vim.api.nvim_get_mode().mode }
    local ok, st = pcall(function() return vim.inspect(require('ardaemon.status').current) end)
    table.insert(out, 'status: ' .. tostring(st))
    local ok2, tail = pcall(function() return require('ardaemon.log').tail end)
    if ok2 then vim.list_extend(out, vim.list_slice(tail, math.max(1, #tail - 30))) end
    local lsp = vim.fn.stdpath('log') .. '/lsp.log'
    if vim.fn.filereadable(lsp) == 1 then
      local lines = vim.fn.readfile(lsp)
      table.insert(out, '--- lsp.log')
      vim.list_extend(out, vim.list_slice(lines, math.max(1, #lines - 30)))
    end
    return table.concat(out, '\n')
  ]]
  )
  return ok and res or ('(child unreachable: ' .. tostring(res) .. ')')
end

function Child:close()
  pcall(vim.rpcnotify, self.chan, 'nvim_command', 'qa!')
  if vim.fn.jobwait({ self.chan }, 3000)[1] == -1 then
    vim.fn.jobstop(self.chan)
  end
  vim.fn.delete(self.dir, 'rf')
end

return H
