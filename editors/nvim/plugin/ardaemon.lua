if vim.g.loaded_ardaemon then
  return
end
vim.g.loaded_ardaemon = true

vim.api.nvim_create_user_command('Ardaemon', function(o)
  require('ardaemon').command(o.fargs)
end, {
  nargs = '*',
  desc = 'ardaemon: models | chat [message] | status | usage [today|7d] [model|day|purpose] | log | suggest | enable | disable | toggle | restart | install',
  complete = function(_, line)
    if #vim.split(line, '%s+', { trimempty = false }) > 2 then
      return {}
    end
    return vim.tbl_keys(require('ardaemon').subcommands)
  end,
})
