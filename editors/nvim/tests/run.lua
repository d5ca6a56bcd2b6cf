---Plain Lua test runner: `nvim -l editors/nvim/tests/run.lua [--list] [file::case ...]`.
---Each `test_*.lua` returns a list of `{ name, fn(h) }`; each case gets fresh children.
local here = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p'))
package.path = here .. '/?.lua;' .. package.path
local H = require('helpers')

local files = {}
for name, type_ in vim.fs.dir(here) do
  if type_ == 'file' and name:match('^test_.*%.lua$') then
    table.insert(files, name)
  end
end
table.sort(files)

local cases = {}
for _, f in ipairs(files) do
  local mod = dofile(here .. '/' .. f)
  for _, c in ipairs(mod) do
    table.insert(cases, { id = f:gsub('%.lua$', '') .. '::' .. c[1], fn = c[2] })
  end
end

local args = _G.arg or {}
if args[1] == '--list' then
  for _, c in ipairs(cases) do
    io.stdout:write(c.id, '\n')
  end
  os.exit(0)
end

local wanted = {}
for _, a in ipairs(args) do
  wanted[a] = true
end

-- Run alone (not from tests/test_nvim.py), daemon cases need a gateway stand-in: start one.
local gateway_proc
local function ensure_gateway()
  if vim.env.AGENTROUTER_BASE_URL or gateway_proc then
    return
  end
  local python = H.repo_root .. '/.venv/bin/python'
  if vim.fn.executable(python) ~= 1 then
    python = 'python3'
  end
  local url
  gateway_proc = vim.system({ python, '-m', 'ardaemon.gateway', '--port', '0', '--token', 'sk-nvim-test' }, {
    cwd = H.repo_root,
    stdout = function(_, data)
      url = url or (data and data:match('listening on (http://[%d%.]+:%d+)'))
    end,
  })
  vim.wait(10000, function()
    return url ~= nil
  end, 20)
  assert(url, 'could not start the gateway stand-in (python -m ardaemon.gateway)')
  vim.env.AGENTROUTER_BASE_URL = url
  vim.env.AGENTROUTER_API_KEY = 'sk-nvim-test'
end

local failed, ran = 0, 0
for _, c in ipairs(cases) do
  if next(wanted) == nil or wanted[c.id] then
    ran = ran + 1
    if c.id:match('^test_daemon::') or c.id:match('^test_install::') then
      ensure_gateway()
      H.gateway.reset() -- faults and reply rules of earlier cases
    end
    local children = {}
    local h = setmetatable({
      spawn = function(opts)
        local child = H.spawn(opts)
        table.insert(children, child)
        return child
      end,
    }, { __index = H })
    local t0 = vim.uv.hrtime()
    local ok, err = xpcall(c.fn, debug.traceback, h)
    if not ok then
      for i, child in ipairs(children) do
        err = err .. ('\n--- child %d\n%s'):format(i, child:diagnostics())
      end
    end
    for _, child in ipairs(children) do
      pcall(child.close, child)
    end
    local ms = (vim.uv.hrtime() - t0) / 1e6
    if ok then
      io.stdout:write(('ok   %s (%.0f ms)\n'):format(c.id, ms))
    else
      failed = failed + 1
      io.stdout:write(('FAIL %s (%.0f ms)\n%s\n'):format(c.id, ms, err))
    end
  end
end
if gateway_proc then
  gateway_proc:kill(15)
end
if ran == 0 then
  io.stdout:write('no test matched\n')
  os.exit(2)
end
io.stdout:write(('%d passed, %d failed\n'):format(ran - failed, failed))
os.exit(failed == 0 and 0 or 1)
