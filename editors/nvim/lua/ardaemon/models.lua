---`:Ardaemon models`: pick a model from the gateway's catalog and a role, persisted by the daemon.
local protocol = require('ardaemon.protocol')
local client = require('ardaemon.client')
local status = require('ardaemon.status')

local M = {}

---One line per model: id, wire format, provider, and which role uses it now.
---@param m ardaemon.Model
---@param selected ardaemon.Selected
---@return string
function M.format(m, selected)
  local roles = {}
  if selected.completion == m.id then
    table.insert(roles, 'completion')
  end
  if selected.chat == m.id then
    table.insert(roles, 'chat')
  end
  local name = (m.name and m.name ~= vim.NIL and m.name ~= m.id) and ('  ' .. m.name) or ''
  return ('%s  [%s · %s]%s%s'):format(
    m.id,
    m.api,
    m.provider,
    name,
    #roles > 0 and ('  ← ' .. table.concat(roles, ', ')) or ''
  )
end

M.roles = {
  { role = nil, label = 'completion and chat' },
  { role = 'completion', label = 'completion (ghost text)' },
  { role = 'chat', label = 'chat' },
}

---@param cb fun(err: table|nil, result: ardaemon.ListModelsResult|nil)
---@param refresh? boolean
function M.list(cb, refresh)
  client.call(protocol.methods.listModels, { refresh = refresh or nil }, function(err, result)
    if result then
      status.set_selected(result.selected)
    end
    cb(err, result)
  end, 'listModels')
end

---@param model string
---@param role ardaemon.Role|nil nil: both
---@param cb? fun(err: table|nil, result: ardaemon.SelectModelResult|nil)
function M.select_model(model, role, cb)
  client.call(protocol.methods.selectModel, { model = model, role = role }, function(err, result)
    if result then
      status.set_selected(result.selected)
      vim.notify(
        ('ardaemon: %s now uses %s'):format(role or 'completion and chat', model),
        vim.log.levels.INFO,
        { title = 'ardaemon' }
      )
    end
    if cb then
      cb(err, result)
    end
  end, 'selectModel')
end

---Open the picker (vim.ui.select): model, then role.
---@param opts? {refresh?: boolean, role?: ardaemon.Role|"both", on_done?: fun(err: table|nil, result: table|nil)}
function M.pick(opts)
  opts = opts or {}
  local done = opts.on_done or function() end
  M.list(function(err, result)
    if err or not result then
      done(err, nil)
      return
    end
    local selected = result.selected or {}
    local prompt = ('AgentRouter models (%s%s)'):format(result.source, result.stale and ', stale' or '')
    vim.ui.select(result.models, {
      prompt = prompt,
      kind = 'ardaemon.model',
      format_item = function(m)
        return M.format(m, selected)
      end,
    }, function(model)
      if not model then
        done(nil, nil)
        return
      end
      local function finish(role)
        M.select_model(model.id, role, done)
      end
      if opts.role then
        finish(opts.role ~= 'both' and opts.role or nil)
        return
      end
      vim.ui.select(M.roles, {
        prompt = ('Use %s for'):format(model.id),
        kind = 'ardaemon.role',
        format_item = function(r)
          return r.label
        end,
      }, function(choice)
        if not choice then
          done(nil, nil)
          return
        end
        finish(choice.role)
      end)
    end)
  end, opts.refresh)
end

return M
