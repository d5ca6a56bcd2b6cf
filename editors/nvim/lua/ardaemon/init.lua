---ardaemon.nvim: ghost text, a model picker and chat for every model of the AgentRouter gateway,
---through one `ardaemon serve` process shared by all buffers.
local M = {}

M._setup_done = false

local api = vim.api

local function attach_if_enabled(bufnr)
  local config = require('ardaemon.config')
  if not api.nvim_buf_is_valid(bufnr) or not config.buf_enabled(bufnr) then
    return
  end
  require('ardaemon.client').attach(bufnr)
  require('ardaemon.inline').attach(bufnr)
end

---Configure the plugin (see `:help ardaemon-config`). Calling it again applies new settings:
---the daemon gets them through `workspace/didChangeConfiguration`.
---@param opts? table
function M.setup(opts)
  local config = require('ardaemon.config')
  local old_settings = vim.deepcopy(config.get().settings)
  local cfg = config.set(opts)
  api.nvim_set_hl(0, 'ArdaemonSuggestion', { link = 'Comment', default = true })
  api.nvim_set_hl(0, 'ArdaemonSuggestionCount', { link = 'NonText', default = true })
  local inline = require('ardaemon.inline')
  if inline.native_available() then
    inline.enable_native()
  else
    inline.set_keymaps()
  end
  local group = api.nvim_create_augroup('ardaemon', { clear = true })
  api.nvim_create_autocmd({ 'BufEnter', 'FileType' }, {
    group = group,
    callback = function(ev)
      attach_if_enabled(ev.buf)
    end,
  })
  api.nvim_create_autocmd('ColorScheme', {
    group = group,
    callback = function()
      api.nvim_set_hl(0, 'ArdaemonSuggestion', { link = 'Comment', default = true })
      api.nvim_set_hl(0, 'ArdaemonSuggestionCount', { link = 'NonText', default = true })
    end,
  })
  local client = require('ardaemon.client')
  if M._setup_done and not vim.deep_equal(old_settings, cfg.settings) then
    client.push_settings()
  end
  M._setup_done = true
  if cfg.inline.enabled then
    attach_if_enabled(api.nvim_get_current_buf())
  end
end

---Statusline component: model and idle/in-progress/error (empty when the daemon is off).
---@return string
function M.statusline()
  return require('ardaemon.status').statusline()
end

---Turn ghost text on/off globally.
---@param enabled? boolean nil toggles
function M.enable_inline(enabled)
  local cfg = require('ardaemon.config').get()
  if enabled == nil then
    enabled = not cfg.inline.enabled
  end
  cfg.inline.enabled = enabled
  if not enabled then
    require('ardaemon.inline').clear()
  else
    attach_if_enabled(api.nvim_get_current_buf())
  end
  vim.notify('ardaemon: ghost text ' .. (enabled and 'on' or 'off'), vim.log.levels.INFO)
end

---Lines for `:Ardaemon status`.
---@return string[]
function M.status_lines()
  local client = require('ardaemon.client')
  local st = require('ardaemon.status').current
  local c = client.get()
  local lines = {}
  if c then
    local info = client.server_info or {}
    table.insert(
      lines,
      ('daemon: %s %s, client %d, %s'):format(
        info.name or 'ardaemon',
        info.version or '?',
        c.id,
        c.initialized and 'ready' or 'starting'
      )
    )
    table.insert(lines, ('buffers attached: %d'):format(vim.tbl_count(c.attached_buffers)))
  else
    table.insert(lines, 'daemon: not running')
  end
  table.insert(
    lines,
    ('state: %s%s'):format(
      st.state,
      st.state == 'error' and (' (' .. (st.kind or '?') .. '): ' .. (st.message or '')) or ''
    )
  )
  if st.fallback then
    table.insert(
      lines,
      'last answer: ' .. (st.fallback.message or ('from the fallback ' .. (st.fallback.model or '?')))
    )
  end
  local budget = require('ardaemon.status').budget_message()
  if budget then
    table.insert(lines, 'usage: ' .. budget)
  end
  table.insert(
    lines,
    ('models: completion = %s, chat = %s'):format(
      st.selected.completion or '(daemon default)',
      st.selected.chat or '(daemon default)'
    )
  )
  table.insert(
    lines,
    ('ghost text: %s in this buffer'):format(
      require('ardaemon.config').buf_enabled(api.nvim_get_current_buf()) and 'on' or 'off'
    )
  )
  table.insert(lines, 'log: ' .. require('ardaemon.log').path())
  return lines
end

---Lines for `:Ardaemon usage`: an `ardaemon/usage` result as a small table.
---@param u ardaemon.UsageResult
---@return string[]
function M.usage_lines(u)
  local function num(n)
    local s = tostring(math.floor(n))
    return (s:reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', ''))
  end
  local function cost(g)
    if g.cost == nil or g.cost == vim.NIL then
      return 'cost unknown'
    end
    return ('$%.4f%s'):format(g.cost, g.costUnknown > 0 and (' (+%d unpriced)'):format(g.costUnknown) or '')
  end
  local lines = { ('usage since %s, by %s:'):format(u.since, u.by) }
  for _, g in ipairs(u.groups) do
    table.insert(
      lines,
      ('  %s: %d requests, %s in / %s out tokens, %s'):format(
        g.key,
        g.requests,
        num(g.inputTokens),
        num(g.outputTokens),
        cost(g)
      )
    )
  end
  local t = u.total
  table.insert(
    lines,
    ('total: %d requests (%d failed), %s in / %s out tokens, %s'):format(
      t.requests,
      t.failed,
      num(t.inputTokens),
      num(t.outputTokens),
      cost(t)
    )
  )
  if t.unknownUsage > 0 then
    table.insert(lines, ('%d answered request(s) reported no usage: unknown, not estimated'):format(t.unknownUsage))
  end
  if u.dailyTokenWarning ~= nil and u.dailyTokenWarning ~= vim.NIL then
    table.insert(
      lines,
      ('today: %s of %s tokens (usage.dailyTokenWarning)'):format(num(u.todayTokens), num(u.dailyTokenWarning))
    )
  end
  return lines
end

M.subcommands = {
  models = function(args)
    require('ardaemon.models').pick({ refresh = args[1] == 'refresh' or nil })
  end,
  chat = function(args)
    local text = table.concat(args, ' ')
    if text ~= '' then
      require('ardaemon.chat').send(text)
    else
      require('ardaemon.chat').open()
    end
  end,
  status = function()
    vim.notify(table.concat(M.status_lines(), '\n'), vim.log.levels.INFO, { title = 'ardaemon' })
  end,
  usage = function(args)
    local protocol = require('ardaemon.protocol')
    local by = args[2] or (vim.tbl_contains({ 'model', 'day', 'purpose' }, args[1] or '') and args[1]) or 'model'
    local since = (args[1] and args[1] ~= by) and args[1] or 'today'
    require('ardaemon.client').call(protocol.methods.usage, { since = since, by = by }, function(err, result)
      if not err and result then
        vim.notify(table.concat(M.usage_lines(result), '\n'), vim.log.levels.INFO, { title = 'ardaemon' })
      end
    end, 'usage')
  end,
  log = function()
    vim.cmd('split ' .. vim.fn.fnameescape(require('ardaemon.log').path()))
    vim.cmd('normal! G') -- the newest lines, where the error just reported is
  end,
  suggest = function()
    require('ardaemon.inline').request(require('ardaemon.protocol').trigger_kind.Invoked)
  end,
  enable = function()
    M.enable_inline(true)
  end,
  disable = function()
    M.enable_inline(false)
  end,
  toggle = function()
    M.enable_inline(nil)
  end,
  install = function()
    require('ardaemon.install').run({
      on_done = function(ok)
        if ok and require('ardaemon.client').get() then
          M.subcommands.restart()
        end
      end,
    })
  end,
  restart = function()
    local client = require('ardaemon.client')
    client.stop()
    vim.defer_fn(function()
      for _, b in ipairs(api.nvim_list_bufs()) do
        if api.nvim_buf_is_loaded(b) then
          attach_if_enabled(b)
        end
      end
      local started = client.when_ready(function()
        local info = client.server_info or {}
        vim.notify(('ardaemon: daemon restarted (%s %s)'):format(info.name or 'ardaemon', info.version or '?'))
      end)
      if not started then
        vim.notify('ardaemon: the daemon could not restart; see :checkhealth ardaemon', vim.log.levels.ERROR)
      end
    end, 200)
  end,
}

---Entry point of `:Ardaemon {subcommand} [args]`.
---@param fargs string[]
function M.command(fargs)
  if not M._setup_done then
    M.setup({})
  end
  local name = fargs[1] or 'status'
  local fn = M.subcommands[name]
  if not fn then
    vim.notify(
      ('ardaemon: unknown subcommand "%s"; try one of: %s'):format(
        name,
        table.concat(vim.tbl_keys(M.subcommands), ', ')
      ),
      vim.log.levels.ERROR
    )
    return
  end
  fn(vim.list_slice(fargs, 2))
end

return M
