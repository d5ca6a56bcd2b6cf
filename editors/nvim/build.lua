-- lazy.nvim runs this file after installing or updating the plugin: the daemon goes into a
-- private venv under stdpath("data") (see lua/ardaemon/install.lua; `:Ardaemon install` is
-- the same for other plugin managers).
local here = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p'))
package.path = here .. '/lua/?.lua;' .. here .. '/lua/?/init.lua;' .. package.path
if not require('ardaemon.install').run({ wait = true }) then
  error('ardaemon: the daemon was not installed; see the message above and :checkhealth ardaemon')
end
