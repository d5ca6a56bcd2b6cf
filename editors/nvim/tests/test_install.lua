---One-step install: the build hook (build.lua, as lazy.nvim runs it) puts the daemon into a
---private venv under an empty stdpath("data"); setup() without `cmd` then uses it. pip works
---offline from the wheelhouse that tests/test_nvim.py gives in $ARDAEMON_TEST_WHEELHOUSE.

---A child whose pip installs only from the test wheelhouse.
local function offline_child(h)
  local wheelhouse = vim.env.ARDAEMON_TEST_WHEELHOUSE
  assert(wheelhouse and wheelhouse ~= '', 'ARDAEMON_TEST_WHEELHOUSE is not set (run through tests/test_nvim.py)')
  return h.spawn({
    setup = false,
    env = { PIP_NO_INDEX = '1', PIP_FIND_LINKS = wheelhouse, PIP_CONFIG_FILE = '/dev/null' },
  })
end

return {
  {
    'the build hook installs the daemon into an empty data dir, then ghost text without cmd',
    function(h)
      local child = offline_child(h)
      local venv = child:lua('return require("ardaemon.install").venv_dir()')
      h.matches('^' .. vim.pesc(child.dir) .. '/data/', venv, 'the venv is under stdpath("data")')
      h.eq(0, vim.fn.isdirectory(venv), 'nothing installed before the build hook')
      child:lua(
        [[
        local build = ...
        _G.built = nil
        vim.schedule(function()
          local ok, err = pcall(vim.cmd.luafile, build)
          _G.built = { ok = ok, err = err and tostring(err) or vim.NIL }
        end)
      ]],
        h.plugin_root .. '/build.lua'
      )
      local built = child:wait('return _G.built', 240000, 'the build hook')
      local notes = child:lua('return vim.tbl_map(function(n) return n.msg end, _G.notes)')
      h.ok(built.ok, 'build.lua failed: ' .. tostring(built.err) .. '\n' .. table.concat(notes, '\n'))
      h.matches('daemon installed in [%d.]+ s', table.concat(notes, '\n'), 'the install says it is done')
      io.stdout:write('install: ', notes[#notes], '\n')

      h.gateway.replies({ { 'def area_of_circle(', 'r):\n    return 3.14159 * r * r' } })
      child:lua('require("ardaemon").setup({ inline = { debounce_ms = 10 } })')
      local cmd = child:lua('local cmd, source = require("ardaemon.client").resolve_cmd(); return { cmd, source }')
      h.eq({ { venv .. '/bin/ardaemon', 'serve' }, 'private' }, cmd, 'the private daemon is used')
      child:cmd('edit ' .. child.dir .. '/main.py')
      child:wait_initialized(30000)
      child:input('idef area_of_circle(')
      local marks = child:wait_ghost(15000)
      h.eq('r):', marks[1].text)

      child:input('<Esc>')
      child:cmd('checkhealth ardaemon')
      local report = child:wait(
        [[
        local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
        if text:find('this session') then return text end
      ]],
        60000,
        'checkhealth output'
      )
      h.matches('using the private daemon installed by :Ardaemon install / the build hook: ' .. vim.pesc(venv), report)
      h.matches('daemon version: ardaemon %d+%.%d+', report)
      h.matches('protocol version %d+, as this plugin', report)
    end,
  },
  {
    'cmd in setup wins over the private daemon, and without Python install says what to do',
    function(h)
      local child = h.spawn({ setup = false })
      -- A stand-in for an installed private daemon (only its presence matters here).
      child:lua([[
        local install = require('ardaemon.install')
        local bin = install.venv_dir() .. '/bin'
        vim.fn.mkdir(bin, 'p')
        vim.fn.writefile({ '#!/bin/sh', 'exit 0' }, bin .. '/ardaemon')
        vim.fn.setfperm(bin .. '/ardaemon', 'rwxr-xr-x')
      ]])
      local function resolved(opts)
        return child:lua(
          [[
          require('ardaemon.config').set(...)
          local cmd, source = require('ardaemon.client').resolve_cmd()
          return { cmd[1], source }
        ]],
          opts
        )
      end
      local private = child:lua('return require("ardaemon.install").installed()')
      h.eq({ private, 'private' }, resolved({}))
      h.eq({ '/opt/ardaemon/bin/ardaemon', 'setup' }, resolved({ cmd = { '/opt/ardaemon/bin/ardaemon', 'serve' } }))

      child:lua('vim.g.ardaemon_python = "/nonexistent/python3"')
      child:cmd('Ardaemon install')
      local msg = child:wait_note('needs Python', 10000)
      h.matches('ardaemon: ardaemon needs Python 3%.10 or newer with venv; tried /nonexistent/python3: not found', msg)
    end,
  },
  {
    'a daemon of another protocol version is named with what to update',
    function(h)
      local child = h.spawn({ setup = false })
      local res = child:lua([[
        local client, v = require('ardaemon.client'), require('ardaemon.protocol').version
        local function result(pv)
          return { serverInfo = { name = 'ardaemon', version = '9.9' },
            capabilities = pv and { experimental = { ardaemon = { protocolVersion = pv } } } or {} }
        end
        return {
          same = client.protocol_mismatch(result(v), 'private') or vim.NIL,
          old_private = client.protocol_mismatch(result(nil), 'private'),
          old_cmd = client.protocol_mismatch(result(v - 1), 'setup'),
          newer = client.protocol_mismatch(result(v + 1), 'default'),
          sent = require('ardaemon.client')._capabilities().experimental,
        }
      ]])
      h.eq(vim.NIL, res.same)
      h.matches(
        '^the daemon %(ardaemon 9%.9%) speaks protocol 0, this plugin protocol %d+: run :Ardaemon install$',
        res.old_private
      )
      h.matches('update the daemon that `cmd` names$', res.old_cmd)
      h.matches('update the plugin$', res.newer)
      h.eq({ ardaemon = { protocolVersion = child:lua('return require("ardaemon.protocol").version') } }, res.sent)
    end,
  },
}
