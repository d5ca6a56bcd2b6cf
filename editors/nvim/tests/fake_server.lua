---An in-process stand-in for the daemon (a vim.lsp `cmd` function), for tests of the editor side
---alone: ghost-text rendering and keymaps with exact, injected responses.
---`_G.fake = { items = {...}, error = nil|{...}, delay = ms, requests = {} }` steers it.
_G.fake = _G.fake or { items = {}, requests = {}, notifications = {}, delay = 0 }

return function(dispatchers)
  local closing, id = false, 0
  ---Send a notification to the client as the daemon would.
  _G.fake.send = function(method, params)
    dispatchers.notification(method, params)
  end
  local srv = {}
  local pending = {}
  function srv.request(method, params, callback)
    id = id + 1
    local my = id
    table.insert(_G.fake.requests, { method = method, params = params, id = my })
    local function reply(err, result)
      vim.defer_fn(function()
        if pending[my] ~= false then
          pending[my] = nil
          callback(err, result)
        end
      end, _G.fake.delay or 0)
    end
    pending[my] = true
    if method == 'initialize' then
      reply(nil, {
        capabilities = { inlineCompletionProvider = vim.empty_dict() },
        serverInfo = { name = 'fake', version = '0.0.0' },
      })
    elseif method == 'textDocument/inlineCompletion' then
      if _G.fake.error then
        reply(_G.fake.error, nil)
      else
        reply(nil, { items = vim.deepcopy(_G.fake.items) })
      end
    elseif method == 'ardaemon/listModels' then
      reply(nil, {
        models = {},
        source = 'cache',
        stale = false,
        fetchedAt = '2025-01-01T00:00:00Z',
        selected = { completion = 'fake-model', chat = vim.NIL },
      })
    elseif method == 'shutdown' then
      reply(nil, vim.NIL)
    else
      reply({ code = -32601, message = 'unknown method ' .. method }, nil)
    end
    return true, my
  end
  function srv.notify(method, params)
    table.insert(_G.fake.notifications, { method = method, params = params })
    if method == '$/cancelRequest' then
      table.insert(_G.fake.requests, { method = method, params = params })
      if pending[params.id] then
        pending[params.id] = false
      end
    elseif method == 'exit' then
      closing = true
      vim.schedule(function()
        dispatchers.on_exit(0, 0)
      end)
    end
    return true
  end
  function srv.is_closing()
    return closing
  end
  function srv.terminate()
    closing = true
  end
  return srv
end
