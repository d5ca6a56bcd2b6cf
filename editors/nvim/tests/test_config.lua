---Config validation and the protocol mirror (no daemon needed).
return {
  {
    'validation names each bad option and keeps the defaults',
    function(h)
      local child = h.spawn({ setup = false })
      local res = child:lua([[
        local config = require('ardaemon.config')
        local _, errs = config.validate({
          inline = { debounce_ms = 'fast', keymaps = { accept = 3, dismiss = false }, foo = 1 },
          cmd = {},
          log_level = 'loud',
        })
        table.sort(errs)
        local cfg = config.set({ inline = { debounce_ms = -1, keymaps = { accept = '<C-y>' } }, cmd = 'ardaemon' })
        return { errs = errs, debounce = cfg.inline.debounce_ms, accept = cfg.inline.keymaps.accept,
          word = cfg.inline.keymaps.accept_word, cmd = cfg.cmd, notes = _G.notes }
      ]])
      h.eq({
        '`cmd` must be a non-empty list of strings, e.g. { "ardaemon", "serve" } (or a vim.lsp cmd function), got {} (table)',
        '`inline.debounce_ms` must be a whole number of milliseconds >= 0, or nil, got "fast" (string)',
        '`inline.keymaps.accept` must be a key such as "<M-l>", or false to disable it, got 3 (number)',
        '`log_level` must be one of "debug", "info", "warn", "error", got "loud" (string)',
        'unknown option `inline.foo` (ignored)',
      }, res.errs)
      h.eq(nil, res.debounce, 'bad value replaced by the default (nil: the daemon decides)')
      h.eq('<C-y>', res.accept)
      h.eq('<M-Right>', res.word, 'other keymaps keep their defaults')
      h.eq({ 'ardaemon' }, res.cmd)
      h.eq(1, #res.notes)
      h.matches('^ardaemon%.setup: `inline%.debounce_ms` must be', res.notes[1].msg)
    end,
  },
  {
    'the defaults in doc/ardaemon.txt are config.defaults',
    function(h)
      local child = h.spawn({ setup = false })
      local res = child:lua(
        [[
        local root = ...
        local doc = table.concat(vim.fn.readfile(root .. '/doc/ardaemon.txt'), '\n')
        local block = doc:match("\n  require%('ardaemon'%)%.setup(%(%{\n.-\n  %}%))\n")
        assert(block, 'no setup({ ... }) block in the CONFIGURATION section')
        local documented = assert(loadstring('return ' .. block))()
        local defaults = require('ardaemon.config').defaults
        return { same = vim.deep_equal(documented, defaults), doc = documented, code = defaults }
      ]],
        h.plugin_root
      )
      h.eq(res.code, res.doc, 'vimdoc defaults')
      h.ok(res.same)
    end,
  },
  {
    'filetype allow/deny and buftype',
    function(h)
      local child = h.spawn({ setup = false })
      local res = child:lua([[
        local config = require('ardaemon.config')
        config.set({ inline = { filetypes = { ['*'] = false, lua = true } } })
        local function ft(name, bt)
          local b = vim.api.nvim_create_buf(true, false)
          vim.bo[b].filetype = name
          if bt then vim.bo[b].buftype = bt end
          return config.buf_enabled(b)
        end
        local a = { ft('lua'), ft('python'), ft('lua', 'nofile') }
        config.set({})
        return { a, { ft('python'), ft('help'), ft('') } }
      ]])
      h.eq({ { true, false, false }, { true, false, true } }, res)
    end,
  },
  {
    'protocol helpers read every InlineCompletion result shape',
    function(h)
      local child = h.spawn({ setup = false })
      local res = child:lua([[
        local p = require('ardaemon.protocol')
        return {
          #p.inline_items({ items = { { insertText = 'a' } } }),
          #p.inline_items({ { insertText = 'a' }, { insertText = 'b' } }),
          #p.inline_items(vim.NIL),
          p.item_text({ insertText = { kind = 'snippet', value = 'x' } }),
          p.error_kind({ code = -32803, message = 'm', data = { kind = 'auth' } }),
          p.is_cancelled({ code = -32800 }),
        }
      ]])
      h.eq({ 1, 2, 0, 'x', 'auth', true }, res)
    end,
  },
  {
    'the plugin file defines :Ardaemon only, and loads nothing else',
    function(h)
      local child = h.spawn({ setup = false })
      local res = child:lua([[
        return { vim.fn.exists(':Ardaemon'), package.loaded['ardaemon'] ~= nil,
          vim.fn.getcompletion('Ardaemon ', 'cmdline') }
      ]])
      h.eq(2, res[1])
      h.eq(false, res[2], 'lazy: nothing required at startup')
      table.sort(res[3])
      h.eq(
        { 'chat', 'disable', 'enable', 'install', 'log', 'models', 'restart', 'status', 'suggest', 'toggle', 'usage' },
        res[3]
      )
    end,
  },
  {
    'vimdoc builds its tags and :help finds them',
    function(h)
      local child = h.spawn({ setup = false })
      local res = child:lua(
        [[
        local root = ...
        local doc = vim.fn.tempname()
        vim.fn.mkdir(doc .. '/doc', 'p')
        vim.fn.writefile(vim.fn.readfile(root .. '/doc/ardaemon.txt'), doc .. '/doc/ardaemon.txt')
        vim.cmd('helptags ' .. vim.fn.fnameescape(doc .. '/doc'))
        vim.opt.rtp:prepend(doc)
        local found = {}
        for _, tag in ipairs({ 'ardaemon.txt', 'ardaemon-config', 'ardaemon-ghost-text', ':Ardaemon', 'ardaemon-unauthorized-client', 'ArdaemonSuggestion' }) do
          local ok = pcall(vim.cmd, 'help ' .. tag)
          table.insert(found, ok and vim.bo.filetype == 'help' and tag or ('missing ' .. tag))
          pcall(vim.cmd, 'helpclose')
        end
        return found
      ]],
        h.plugin_root
      )
      h.eq({
        'ardaemon.txt',
        'ardaemon-config',
        'ardaemon-ghost-text',
        ':Ardaemon',
        'ardaemon-unauthorized-client',
        'ArdaemonSuggestion',
      }, res)
    end,
  },
}
