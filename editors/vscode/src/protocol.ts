// The daemon's contract (shared/protocol.md, ardaemon/protocol.py), mirrored once.
//
// Every method name and shape the extension uses lives here and nowhere else. A test
// (test/protocol-drift.test.ts) compares METHODS, ERROR_CODES, ERROR_KINDS and SHAPES with
// the daemon's `ardaemon/protocol.py` and `ardaemon/errors.py`, and the compile-time checks at
// the bottom keep the interfaces and SHAPES in step, so neither side can drift silently.
// REQUESTS, NOTIFICATIONS and PROGRESS pair each method with its params and result types, so a
// call site cannot send the wrong params or misread the result (rust-analyzer's lsp_ext.ts).

import { NotificationType, ProgressType, RequestType } from 'vscode-jsonrpc';

export const METHODS = {
  listModels: 'ardaemon/listModels',
  selectModel: 'ardaemon/selectModel',
  complete: 'ardaemon/complete',
  chat: 'ardaemon/chat',
  didChangeStatus: 'ardaemon/didChangeStatus',
  usage: 'ardaemon/usage',
  inlineCompletion: 'textDocument/inlineCompletion',
  status: 'ardaemon/status',
} as const;

/**
 * The contract's version this extension was built for (`PROTOCOL_VERSION` in protocol.py).
 * Both sides announce it at `initialize` in `capabilities.experimental.ardaemon.protocolVersion`.
 */
export const PROTOCOL_VERSION = 1;

export const ERROR_CODES = {
  InvalidParams: -32602,
  RequestFailed: -32803,
  RequestCancelled: -32800,
} as const;

/** `data.kind` of a RequestFailed error: upstream trouble. */
export const ERROR_KINDS = [
  'auth',
  'unauthorized_client',
  'model_not_found',
  'rate_limited',
  'overloaded',
  'upstream',
  'network',
  'timeout',
  'bad_response',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];
export type Api = 'openai' | 'anthropic';
export type Role = 'completion' | 'chat';
export type StatusState = 'idle' | 'inProgress' | 'error';

// --- ardaemon/listModels ---------------------------------------------------------------

export interface ListModelsParams {
  refresh?: boolean;
}

export interface Model {
  id: string;
  api: Api;
  provider: string;
  name?: string | null;
  ownedBy?: string | null;
}

export interface Selected {
  completion: string | null;
  chat: string | null;
}

export interface ListModelsResult {
  models: Model[];
  source: 'network' | 'cache';
  stale: boolean;
  fetchedAt: string;
  selected: Selected;
}

// --- ardaemon/selectModel --------------------------------------------------------------

export interface SelectModelParams {
  model: string;
  role?: Role | null;
}

export interface SelectModelResult {
  selected: Selected;
}

// --- ardaemon/complete -----------------------------------------------------------------

export interface Position {
  line: number;
  character: number;
}

export interface TextDocumentId {
  uri: string;
}

export interface CompleteParams {
  textDocument?: TextDocumentId;
  position?: Position;
  prefix?: string;
  suffix?: string;
  languageId?: string;
  model?: string;
  maxTokens?: number;
}

export interface CompletionItem {
  insertText: string;
}

export interface CompleteResult {
  items: CompletionItem[];
  model: string;
  api: Api;
  cached: boolean;
  /** The model first asked, when a fallback (`models.fallback`) answered. */
  fallbackFrom?: string;
}

// --- ardaemon/chat ---------------------------------------------------------------------

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatParams {
  messages: ChatMessage[];
  model?: string;
  maxTokens?: number;
  temperature?: number;
  partialResultToken?: string | number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  content: string;
  model: string;
  api: Api;
  stopReason: string;
  usage?: Usage;
  /** The model first asked, when a fallback (`models.fallback`) answered. */
  fallbackFrom?: string;
}

/** `$/progress` value for a chat's `partialResultToken`. */
export interface ChatDelta {
  delta: string;
}

// --- ardaemon/usage ------------------------------------------------------------------------

export interface UsageParams {
  /** "today" (default), "7d", "12h" or an ISO date. */
  since?: string;
  by?: 'model' | 'day' | 'purpose';
}

export interface UsageGroup {
  key: string;
  requests: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  /** Answered requests whose response reported no usage (never estimated). */
  unknownUsage: number;
  /** US dollars; null when no cost is known. */
  cost: number | null;
  costUnknown: number;
}

export interface UsageResult {
  since: string;
  by: string;
  total: UsageGroup;
  groups: UsageGroup[];
  todayTokens: number;
  dailyTokenWarning: number | null;
  ledger: string;
}

// --- ardaemon/didChangeStatus ----------------------------------------------------------

export interface Status {
  state: StatusState;
  message?: string;
  model?: string;
  kind?: string;
}

// --- ardaemon/status, acceptance feedback ------------------------------------------------

/** Where the daemon's token comes from: 'env' | 'keyring' | 'file' | 'none' (never the token). */
export interface TokenSource {
  source: string;
  detail?: string | null;
}

export interface Acceptance {
  model: string;
  shown: number;
  accepted: number;
}

export interface StatusResult {
  token: TokenSource;
  acceptance: Acceptance[];
}

/** The argument of the `ardaemon.accepted` command each inline item carries. */
export interface AcceptedParams {
  model: string;
}

// --- errors ----------------------------------------------------------------------------

export interface ErrorData {
  kind?: string;
  status?: number;
  retryAfter?: number;
  model?: string;
}

// --- typed methods -------------------------------------------------------------------------

/** The custom requests, typed: `daemon.request(REQUESTS.listModels, { refresh })`. */
export const REQUESTS = {
  listModels: new RequestType<ListModelsParams, ListModelsResult, ErrorData>(METHODS.listModels),
  selectModel: new RequestType<SelectModelParams, SelectModelResult, ErrorData>(METHODS.selectModel),
  complete: new RequestType<CompleteParams, CompleteResult, ErrorData>(METHODS.complete),
  chat: new RequestType<ChatParams, ChatResult, ErrorData>(METHODS.chat),
  status: new RequestType<Record<string, never>, StatusResult, ErrorData>(METHODS.status),
  usage: new RequestType<UsageParams, UsageResult, ErrorData>(METHODS.usage),
} as const;

export const NOTIFICATIONS = {
  didChangeStatus: new NotificationType<Status>(METHODS.didChangeStatus),
} as const;

/** `$/progress` values: a chat's `partialResultToken` carries ChatDelta. */
export const PROGRESS = {
  chat: new ProgressType<ChatDelta>(),
} as const;

/** Field names of every shape, as they appear on the wire; compared with the daemon's Structs. */
export const SHAPES = {
  ListModelsParams: ['refresh'],
  Model: ['id', 'api', 'provider', 'name', 'ownedBy'],
  Selected: ['completion', 'chat'],
  ListModelsResult: ['models', 'source', 'stale', 'fetchedAt', 'selected'],
  SelectModelParams: ['model', 'role'],
  SelectModelResult: ['selected'],
  Position: ['line', 'character'],
  TextDocumentId: ['uri'],
  CompleteParams: ['textDocument', 'position', 'prefix', 'suffix', 'languageId', 'model', 'maxTokens'],
  CompletionItem: ['insertText'],
  CompleteResult: ['items', 'model', 'api', 'cached', 'fallbackFrom'],
  ChatMessage: ['role', 'content'],
  ChatParams: ['messages', 'model', 'maxTokens', 'temperature', 'partialResultToken'],
  Usage: ['inputTokens', 'outputTokens'],
  ChatResult: ['content', 'model', 'api', 'stopReason', 'usage', 'fallbackFrom'],
  ChatDelta: ['delta'],
  UsageParams: ['since', 'by'],
  UsageGroup: ['key', 'requests', 'failed', 'inputTokens', 'outputTokens', 'unknownUsage', 'cost', 'costUnknown'],
  UsageResult: ['since', 'by', 'total', 'groups', 'todayTokens', 'dailyTokenWarning', 'ledger'],
  Status: ['state', 'message', 'model', 'kind'],
  TokenSource: ['source', 'detail'],
  Acceptance: ['model', 'shown', 'accepted'],
  StatusResult: ['token', 'acceptance'],
  AcceptedParams: ['model'],
} as const;

// Compile-time: each interface has exactly the fields SHAPES lists for it.
type SameKeys<T, K extends readonly string[]> = [keyof T] extends [K[number]]
  ? [K[number]] extends [keyof T]
    ? true
    : never
  : never;

interface ShapeTypes {
  ListModelsParams: ListModelsParams;
  Model: Model;
  Selected: Selected;
  ListModelsResult: ListModelsResult;
  SelectModelParams: SelectModelParams;
  SelectModelResult: SelectModelResult;
  Position: Position;
  TextDocumentId: TextDocumentId;
  CompleteParams: CompleteParams;
  CompletionItem: CompletionItem;
  CompleteResult: CompleteResult;
  ChatMessage: ChatMessage;
  ChatParams: ChatParams;
  Usage: Usage;
  ChatResult: ChatResult;
  ChatDelta: ChatDelta;
  UsageParams: UsageParams;
  UsageGroup: UsageGroup;
  UsageResult: UsageResult;
  Status: Status;
  TokenSource: TokenSource;
  Acceptance: Acceptance;
  StatusResult: StatusResult;
  AcceptedParams: AcceptedParams;
}

type ShapeChecks = { [N in keyof typeof SHAPES]: SameKeys<ShapeTypes[N], (typeof SHAPES)[N]> };
export const shapesMatchInterfaces: ShapeChecks = {
  ListModelsParams: true,
  Model: true,
  Selected: true,
  ListModelsResult: true,
  SelectModelParams: true,
  SelectModelResult: true,
  Position: true,
  TextDocumentId: true,
  CompleteParams: true,
  CompletionItem: true,
  CompleteResult: true,
  ChatMessage: true,
  ChatParams: true,
  Usage: true,
  ChatResult: true,
  ChatDelta: true,
  UsageParams: true,
  UsageGroup: true,
  UsageResult: true,
  Status: true,
  TokenSource: true,
  Acceptance: true,
  StatusResult: true,
  AcceptedParams: true,
};
