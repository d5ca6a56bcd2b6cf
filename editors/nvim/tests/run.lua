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

local failed, ran = 0, 0
for _, c in ipairs(cases) do
  if next(wanted) == nil or wanted[c.id] then
    ran = ran + 1
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
if ran == 0 then
  io.stdout:write('no test matched\n')
  os.exit(2)
end
io.stdout:write(('%d passed, %d failed\n'):format(ran - failed, failed))
os.exit(failed == 0 and 0 or 1)
