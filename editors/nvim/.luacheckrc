-- luacheck (Debian package lua-check) over the plugin and its tests: `luacheck .` here.
std = 'luajit'
globals = { 'vim' }
max_line_length = false -- StyLua (scripts/stylua.cjs) owns the layout
exclude_files = { 'node_modules/' }
