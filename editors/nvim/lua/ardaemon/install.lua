---One-step install of the daemon: a private venv under stdpath("data") with the daemon built
---from this plugin's own checkout (the plugin is the repository's editors/nvim). Run by
---lazy.nvim's build hook (build.lua) or `:Ardaemon install`; `cmd` in setup() still wins.
local M = {}

local is_win = vim.fn.has('win32') == 1

---@return string
function M.venv_dir()
  return vim.fs.joinpath(vim.fn.stdpath('data'), 'ardaemon', 'venv')
end

---@param name string
---@return string
local function venv_bin(name)
  return vim.fs.joinpath(M.venv_dir(), is_win and 'Scripts' or 'bin', name .. (is_win and '.exe' or ''))
end

---The private daemon when it was installed, else nil.
---@return string|nil
function M.installed()
  local exe = venv_bin('ardaemon')
  return vim.fn.executable(exe) == 1 and exe or nil
end

---The repository root: the plugin is its editors/nvim directory.
---@return string|nil root, string|nil err
function M.repo_root()
  local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p')
  local plugin = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(here)))
  local root = vim.fs.dirname(vim.fs.dirname(plugin))
  local pyproject = vim.fs.joinpath(root, 'pyproject.toml')
  if
    vim.fn.filereadable(pyproject) == 1
    and table.concat(vim.fn.readfile(pyproject, '', 20), '\n'):find('name = "ardaemon"', 1, true)
  then
    return root
  end
  return nil,
    ('the plugin at %s is not inside an ardaemon checkout (no %s): install the daemon yourself and set `cmd`'):format(
      plugin,
      pyproject
    )
end

---Python interpreters to try, best first.
---@return string[][]
function M.python_candidates()
  if vim.g.ardaemon_python then
    return { { vim.g.ardaemon_python } }
  end
  return is_win and { { 'py', '-3' }, { 'python' } } or { { 'python3' }, { 'python' } }
end

local PROBE = 'import sys, importlib.util as u; print("%d.%d" % sys.version_info[:2], '
  .. 'all(u.find_spec(m) for m in ("venv", "ensurepip")))'

---The first Python >= 3.10 with venv, or nil and why none fits.
---@return string[]|nil cmd, string|nil err
function M.find_python()
  local tried = {}
  for _, cmd in ipairs(M.python_candidates()) do
    local name = table.concat(cmd, ' ')
    if vim.fn.executable(cmd[1]) ~= 1 then
      table.insert(tried, name .. ': not found')
    else
      local res = vim.system(vim.list_extend(vim.deepcopy(cmd), { '-c', PROBE }), { text = true }):wait(20000)
      local major, minor, venv = (res.stdout or ''):match('^(%d+)%.(%d+) (%a+)')
      if res.code ~= 0 or not major then
        table.insert(tried, name .. ': ' .. vim.trim(res.stderr or 'did not run'))
      elseif tonumber(major) < 3 or (tonumber(major) == 3 and tonumber(minor) < 10) then
        table.insert(tried, ('%s: Python %s.%s is too old'):format(name, major, minor))
      elseif venv ~= 'True' then
        table.insert(
          tried,
          ('%s: Python %s.%s without venv (Debian, Ubuntu: sudo apt install python3-venv)'):format(name, major, minor)
        )
      else
        return cmd
      end
    end
  end
  return nil,
    'ardaemon needs Python 3.10 or newer with venv; tried '
      .. table.concat(tried, '; ')
      .. ' (set vim.g.ardaemon_python to another interpreter)'
end

---@return string
function M.log_path()
  return vim.fs.joinpath(vim.fn.stdpath('log'), 'ardaemon-install.log')
end

---@param msg string
---@param level? integer
local function say(msg, level)
  vim.schedule(function()
    vim.notify('ardaemon: ' .. msg, level or vim.log.levels.INFO, { title = 'ardaemon' })
  end)
end

---Create the venv and install the daemon. `opts.wait`: block until done (build hooks);
---else it runs in the background and `opts.on_done(ok, message)` is called at the end.
---@param opts? {wait?: boolean, on_done?: fun(ok: boolean, message: string)}
---@return boolean|nil ok when `wait`
function M.run(opts)
  opts = opts or {}
  local result
  local function done(ok, message)
    result = ok
    say(message, ok and vim.log.levels.INFO or vim.log.levels.ERROR)
    if opts.on_done then
      vim.schedule(function()
        opts.on_done(ok, message)
      end)
    end
  end
  local root, err = M.repo_root()
  local python, perr = M.find_python()
  if not root or not python then
    done(false, (err or perr) --[[@as string]])
    return false
  end
  local dir = M.venv_dir()
  local logfile = M.log_path()
  vim.fn.mkdir(vim.fs.dirname(logfile), 'p')
  local log = assert(io.open(logfile, 'w'))
  local t0 = vim.uv.hrtime()
  local py_exe, exe = venv_bin('python'), venv_bin('ardaemon')
  -- Each step is a command; its output goes to the log, a failure ends the install.
  local steps = {
    { 'creating ' .. dir, vim.list_extend(vim.deepcopy(python), { '-m', 'venv', '--clear', dir }) },
    {
      'installing the daemon from ' .. root,
      { py_exe, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', root },
    },
    { 'checking it', { exe, '--version' } },
  }
  local function step(i)
    if i > #steps then
      log:close()
      local secs = (vim.uv.hrtime() - t0) / 1e9
      done(true, ('daemon installed in %.1f s: %s (:checkhealth ardaemon)'):format(secs, exe))
      return
    end
    local what, cmd = steps[i][1], steps[i][2]
    say(what .. ' …')
    log:write('$ ', table.concat(cmd, ' '), '\n')
    local ok, proc = pcall(vim.system, cmd, { text = true, cwd = root }, function(res)
      log:write(res.stdout or '', res.stderr or '', '\n')
      if res.code ~= 0 then
        log:close()
        local last = vim.split(vim.trim((res.stderr ~= '' and res.stderr) or res.stdout or ''), '\n')
        done(false, ('install failed while %s: %s (full log: %s)'):format(what, last[#last] or '', logfile))
        return
      end
      vim.schedule(function()
        step(i + 1)
      end)
    end)
    if not ok then
      log:close()
      done(false, ('install failed while %s: %s'):format(what, tostring(proc)))
    end
  end
  step(1)
  if opts.wait then
    vim.wait(15 * 60 * 1000, function()
      return result ~= nil
    end, 100)
    return result
  end
end

return M
