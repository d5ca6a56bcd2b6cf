---The contract with the daemon (`ardaemon/protocol.py`, `docs/protocol.md`), mirrored once.
---Every method name the plugin sends or handles comes from here; a drift test compares
---`M.methods` with the daemon's `METHODS`.
local M = {}

---The contract's version this plugin was built for (`PROTOCOL_VERSION` in protocol.py). Both
---sides announce it at `initialize` in `capabilities.experimental.ardaemon.protocolVersion`.
M.version = 1

---Method names, keyed exactly like `ardaemon.protocol.METHODS`.
M.methods = {
  listModels = 'ardaemon/listModels',
  selectModel = 'ardaemon/selectModel',
  complete = 'ardaemon/complete',
  chat = 'ardaemon/chat',
  didChangeStatus = 'ardaemon/didChangeStatus',
  usage = 'ardaemon/usage',
  inlineCompletion = 'textDocument/inlineCompletion',
  status = 'ardaemon/status',
}

---JSON-RPC error codes the daemon uses.
M.codes = {
  InvalidParams = -32602,
  RequestFailed = -32803,
  RequestCancelled = -32800,
}

---`data.kind` of RequestFailed errors (`ardaemon.errors.KINDS`).
M.kinds = {
  'auth',
  'unauthorized_client',
  'model_not_found',
  'rate_limited',
  'overloaded',
  'upstream',
  'network',
  'timeout',
  'bad_response',
}

---LSP 3.18 InlineCompletionTriggerKind.
M.trigger_kind = { Invoked = 1, Automatic = 2 }

---@alias ardaemon.Api "openai"|"anthropic"
---@alias ardaemon.Role "completion"|"chat"
---@alias ardaemon.StatusState "idle"|"inProgress"|"error"

---@class (exact) ardaemon.Model
---@field id string
---@field api ardaemon.Api wire format requests for this model use
---@field provider string
---@field name? string
---@field ownedBy? string

---@class (exact) ardaemon.Selected
---@field completion string|nil
---@field chat string|nil

---@class (exact) ardaemon.ListModelsParams
---@field refresh? boolean

---@class (exact) ardaemon.ListModelsResult
---@field models ardaemon.Model[]
---@field source "network"|"cache"
---@field stale boolean
---@field fetchedAt string RFC 3339
---@field selected ardaemon.Selected

---@class (exact) ardaemon.SelectModelParams
---@field model string
---@field role? ardaemon.Role no role: both

---@class (exact) ardaemon.SelectModelResult
---@field selected ardaemon.Selected

---@class (exact) ardaemon.CompleteParams
---@field textDocument? {uri: string}
---@field position? {line: integer, character: integer}
---@field prefix? string
---@field suffix? string
---@field languageId? string
---@field model? string
---@field maxTokens? integer

---@class (exact) ardaemon.CompleteResult
---@field items {insertText: string}[]
---@field model string
---@field api ardaemon.Api
---@field cached boolean
---@field fallbackFrom? string the model first asked, when a fallback answered

---@class (exact) ardaemon.ChatMessage
---@field role "system"|"user"|"assistant"
---@field content string

---@class (exact) ardaemon.ChatParams
---@field messages ardaemon.ChatMessage[]
---@field model? string
---@field maxTokens? integer
---@field temperature? number
---@field partialResultToken? string|integer

---@class (exact) ardaemon.ChatResult
---@field content string
---@field model string
---@field api ardaemon.Api
---@field stopReason string
---@field usage? {inputTokens: integer, outputTokens: integer}
---@field fallbackFrom? string the model first asked, when a fallback answered

---@class (exact) ardaemon.UsageParams
---@field since? string "today" (default), "7d", "12h" or an ISO date
---@field by? "model"|"day"|"purpose"

---@class (exact) ardaemon.UsageGroup
---@field key string
---@field requests integer
---@field failed integer
---@field inputTokens integer
---@field outputTokens integer
---@field unknownUsage integer answered requests that reported no usage (never estimated)
---@field cost number|nil US dollars, nil when no cost is known
---@field costUnknown integer

---@class (exact) ardaemon.UsageResult
---@field since string
---@field by string
---@field total ardaemon.UsageGroup
---@field groups ardaemon.UsageGroup[]
---@field todayTokens integer
---@field dailyTokenWarning integer|nil
---@field ledger string

---`$/progress` value for a chat stream: `{token, value = {delta}}`.
---@class (exact) ardaemon.ChatDelta
---@field delta string

---@class (exact) ardaemon.Status
---@field state ardaemon.StatusState
---@field message? string
---@field model? string
---@field kind? string

---@class (exact) ardaemon.ErrorData
---@field kind string
---@field status? integer
---@field retryAfter? number
---@field model? string

---@class (exact) ardaemon.RpcError
---@field code integer
---@field message string
---@field data? ardaemon.ErrorData

---JSON objects: Lua's `{}` encodes as `[]`, so empty tables become `vim.empty_dict()` (deeply).
---@param t table
---@return table
function M.object(t)
  if type(t) ~= 'table' then
    return t
  end
  if next(t) == nil then
    return vim.empty_dict()
  end
  if vim.islist(t) then
    return t
  end
  local out = {}
  for k, v in pairs(t) do
    out[k] = type(v) == 'table' and M.object(v) or v
  end
  return out
end

---The `data.kind` of an error, or nil.
---@param err table|nil
---@return string|nil
function M.error_kind(err)
  if type(err) == 'table' and type(err.data) == 'table' and type(err.data.kind) == 'string' then
    return err.data.kind
  end
  return nil
end

---@param err table|nil
---@return boolean
function M.is_cancelled(err)
  return type(err) == 'table' and err.code == M.codes.RequestCancelled
end

---Text of an InlineCompletionItem (`insertText` is a string or a StringValue).
---@param item table
---@return string|nil
function M.item_text(item)
  local t = item and item.insertText
  if type(t) == 'table' then
    t = t.value
  end
  if type(t) == 'string' then
    return t
  end
  return nil
end

---Items of an `InlineCompletionList | InlineCompletionItem[] | nil` result.
---@param result table|nil
---@return table[]
function M.inline_items(result)
  if type(result) ~= 'table' then
    return {}
  end
  if vim.islist(result) then
    return result
  end
  return result.items or {}
end

return M
