// What the status bar item shows, as a pure function of what the extension knows.
// The daemon reports its work through `ardaemon/didChangeStatus`; the extension adds what only
// it knows (daemon missing or stopped, completions toggled off, no token).

import type { Status, TokenSource, UsageResult } from './protocol';

export type Phase = 'starting' | 'running' | 'missing' | 'stopped';

export interface StatusModel {
  phase: Phase;
  /** The last `ardaemon/didChangeStatus`. */
  daemon: Status;
  /** The completion model, as last selected or reported. */
  model: string | null;
  completionsEnabled: boolean;
  /** The last error's message, kept so the tooltip can show it after the state went idle. */
  lastError: string | null;
  signedIn: boolean;
  /** Today's `ardaemon/usage`, for the tooltip. */
  usage: UsageResult | null;
  /** A fallback answered the last request (the daemon's message), until a request answers without one. */
  notice: { kind: 'fallback'; message: string } | null;
  /** Today's tokens passed `usage.dailyTokenWarning` (the daemon's message), until the day's usage is below it again. */
  budget: string | null;
  /** Where the daemon's token comes from (`ardaemon/status`), when known. */
  token: TokenSource | null;
}

export function initialStatus(): StatusModel {
  return {
    phase: 'starting',
    daemon: { state: 'idle' },
    model: null,
    completionsEnabled: true,
    lastError: null,
    signedIn: false,
    usage: null,
    notice: null,
    budget: null,
    token: null,
  };
}

/** Where the token really comes from, for the tooltip. */
export function tokenLine(m: Pick<StatusModel, 'signedIn' | 'token'>): string {
  if (m.signedIn) {
    return 'Token: from "ardaemon: Sign In" (VS Code secret storage).';
  }
  const detail = m.token?.detail;
  switch (m.token?.source) {
    case 'env':
      return `Token: from the environment variable ${detail ?? ''} of the daemon ("ardaemon: Sign In" would take over).`;
    case 'keyring':
      return `Token: the daemon's, from the system keyring${detail ? ` (${detail})` : ''} (\`ardaemon login\`).`;
    case 'file':
      return `Token: the daemon's, from ${detail ?? 'its credentials file'} (\`ardaemon login\`).`;
    case 'none':
      return 'No token: run "ardaemon: Sign In".';
    default:
      return '';
  }
}

/** Fold one `ardaemon/didChangeStatus` notification into the model. */
export function applyDaemonStatus(model: StatusModel, status: Status): StatusModel {
  // A fallback notice names the model that answered instead (perhaps chat's): the model
  // shown stays the one asked. It describes the last request, so the next one clears it.
  const fallback = status.kind === 'fallback';
  // The budget warning is news of its own (sent once a day): it replaces neither state nor notice.
  if (status.kind === 'budget') {
    return { ...model, phase: 'running', budget: status.message ?? model.budget };
  }
  const stale = status.state === 'inProgress' && model.notice?.kind === 'fallback';
  return {
    ...model,
    phase: 'running',
    daemon: status,
    model: (fallback ? null : status.model) ?? model.model,
    lastError: status.state === 'error' ? (status.message ?? 'the last request failed') : model.lastError,
    notice: fallback && status.message ? { kind: 'fallback', message: status.message } : stale ? null : model.notice,
  };
}

/** A chat or `ardaemon/complete` result arrived: a fallback notice stays only while answers
 * still come from a fallback (a chat sends no progress status that would clear it). */
export function answered(model: StatusModel, result: { fallbackFrom?: string | undefined }): StatusModel {
  return result.fallbackFrom || !model.notice ? model : { ...model, notice: null };
}

/** Today's usage read again: the budget warning lasts while today's tokens are past it (a
 * new day, or a raised `usage.dailyTokenWarning`, ends it). */
export function withUsage(model: StatusModel, usage: UsageResult): StatusModel {
  const limit = usage.dailyTokenWarning;
  const below = model.budget !== null && (limit === null || usage.todayTokens < limit);
  return { ...model, usage, budget: below ? null : model.budget };
}

/** One tooltip line: today's tokens and cost from the usage ledger. */
export function usageLine(u: UsageResult | null): string {
  if (!u) {
    return '';
  }
  const t = u.total;
  const fmt = (n: number) => n.toLocaleString('en-US');
  let line = `Today: ${fmt(t.inputTokens)} in + ${fmt(t.outputTokens)} out tokens in ${t.requests} requests`;
  if (t.cost !== null) {
    line += `, $${t.cost.toFixed(4)}${t.costUnknown ? ` (+${t.costUnknown} unpriced)` : ''}`;
  }
  if (t.unknownUsage) {
    line += `; ${t.unknownUsage} without reported usage`;
  }
  if (u.dailyTokenWarning !== null) {
    line += ` (warning at ${fmt(u.dailyTokenWarning)})`;
  }
  return `\n\n${line}.`;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** What a click runs: Sign In when the token is the problem, else Select Model. */
  command: 'ardaemon.selectModel' | 'ardaemon.signIn' | 'ardaemon.showLog';
  /** A theme color id for the background, or undefined for the default. */
  background?: 'statusBarItem.errorBackground' | 'statusBarItem.warningBackground';
}

/** What a click on the item does after a failed request, by `data.kind`: the action the editor
 * offers, not advice. What to do is in the daemon's message, in VS Code's words (messages.py). */
const ON_ERROR: { [kind: string]: { command: StatusView['command']; icon: string; click: string } } = {
  auth: { command: 'ardaemon.signIn', icon: '$(key)', click: 'Click to sign in.' },
};
const SELECT_ON_ERROR = {
  command: 'ardaemon.selectModel',
  icon: '$(error)',
  click: 'Click to select a model.',
} as const;

/** A new daemon process: forget the old one's state, error and notices. */
export function restarted(model: StatusModel): StatusModel {
  return { ...model, phase: 'starting', daemon: { state: 'idle' }, lastError: null, notice: null, budget: null };
}

/** Another completion model was selected: a fallback notice was about the one before. */
export function withModel(model: StatusModel, next: string | null): StatusModel {
  const stale = model.notice?.kind === 'fallback' && next !== model.model;
  return { ...model, model: next, notice: stale ? null : model.notice };
}

export function renderStatus(m: StatusModel): StatusView {
  const model = m.model ?? 'no model';
  const footer = '\n\nClick to select a model.';
  const select = 'ardaemon.selectModel' as const;
  switch (m.phase) {
    case 'missing':
      return {
        text: '$(error) ardaemon',
        tooltip: 'The ardaemon daemon is not installed or not found. Click for the log.',
        background: 'statusBarItem.errorBackground',
        command: 'ardaemon.showLog',
      };
    case 'stopped':
      return {
        text: '$(debug-disconnect) ardaemon',
        tooltip: 'The ardaemon daemon stopped. Run "ardaemon: Restart Daemon"; click for the log.',
        background: 'statusBarItem.errorBackground',
        command: 'ardaemon.showLog',
      };
    case 'starting':
      return { text: '$(loading~spin) ardaemon', tooltip: 'ardaemon is starting…', command: select };
    case 'running':
      break;
  }
  if (m.daemon.state === 'error') {
    const action = (m.daemon.kind && ON_ERROR[m.daemon.kind]) || SELECT_ON_ERROR;
    const text = action.command === 'ardaemon.signIn' && !m.model ? 'ardaemon: Sign In' : model;
    return {
      text: `${action.icon} ${text}`,
      tooltip: `ardaemon: ${m.lastError ?? 'the last request failed'}\n\n${action.click}`,
      background: 'statusBarItem.errorBackground',
      command: action.command,
    };
  }
  if (m.daemon.state === 'inProgress') {
    return { text: `$(loading~spin) ${model}`, tooltip: `ardaemon: asking ${model}…${footer}`, command: select };
  }
  if (!m.completionsEnabled) {
    return {
      text: `$(circle-slash) ${model}`,
      tooltip: `ardaemon: inline completions are off ("ardaemon: Toggle Completions" turns them on).${footer}`,
      command: select,
    };
  }
  const last = m.lastError ? `\n\nLast error: ${m.lastError}` : '';
  const line = tokenLine(m);
  const token = line ? `\n\n${line}` : '';
  const notice = [m.notice?.message, m.budget].map((line) => (line ? `\n\n${line}` : '')).join('');
  return {
    text: `${m.budget ? '$(warning)' : '$(sparkle)'} ${model}${m.notice ? ' (fallback)' : ''}`,
    tooltip: `ardaemon: idle, completions from ${model}.${notice}${usageLine(m.usage)}${token}${last}${footer}`,
    command: select,
    ...(m.budget ? { background: 'statusBarItem.warningBackground' as const } : {}),
  };
}
