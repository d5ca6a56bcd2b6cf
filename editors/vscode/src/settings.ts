// Settings: what the daemon is told, and where its executable is. No `vscode` import here,
// so the logic is unit-tested under plain Node.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The section every setting lives under, in VS Code and on the wire. */
export const SECTION = 'ardaemon';

/**
 * Keys (below `ardaemon.`) that belong to the daemon. Everything else in the section
 * (`serverPath`, `trace.server`) is the extension's own and is never sent.
 */
export const DAEMON_KEYS = [
  'provider',
  'baseUrl',
  'models.completion',
  'models.chat',
  'models.fallback.completion',
  'models.fallback.chat',
  'headers',
  'requestTimeout',
  'completion.enabled',
  'completion.manual',
  'completion.maxTokens',
  'completion.debounceMs',
  'completion.multiline',
  'completion.timeout',
  'completion.models.automatic',
  'completion.models.invoked',
  'completion.fim',
  'completion.exclude',
  'completion.maxDocumentSize',
  'completion.candidates',
  'completion.automaticCandidates',
  'completion.prefixChars',
  'completion.suffixChars',
  'completion.languages.allow',
  'completion.languages.deny',
  'chat.maxTokens',
  'chat.timeout',
  'usage.dailyTokenWarning',
  'catalog.maxAgeHours',
  'apiOverrides',
  'prices',
] as const;

/**
 * Daemon settings the extension never sends: `providers` names token variables and where
 * they go, so only the daemon's config.toml defines it (the daemon ignores it from an editor);
 * `completion.model` is `models.completion` under another name.
 */
export const NOT_SENT = ['providers', 'completion.model'] as const;

/**
 * The setting whose VS Code language overrides (`"[python]": {"ardaemon.models.completion": …}`)
 * are sent as the daemon's per-language presets, `completion.languages.<languageId>.model`.
 */
export const LANGUAGE_MODEL_KEY = 'models.completion' satisfies DaemonKey;

export type DaemonKey = (typeof DAEMON_KEYS)[number];
export type Settings = { [key: string]: unknown };

/**
 * The `ardaemon` section as the daemon reads it: dotted keys become nested objects, as VS Code
 * sends them. Unset values (undefined, null, empty strings) are left out so that the daemon's
 * own layers (its config.toml, then its defaults) apply instead of an empty override.
 */
export function daemonSettings(get: (key: DaemonKey) => unknown, languageModels: Settings = {}): Settings {
  const out: Settings = {};
  const put = (parts: string[], value: unknown): void => {
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      return;
    }
    setPath(out, parts, typeof value === 'string' ? value.trim() : value);
  };
  for (const key of DAEMON_KEYS) {
    put(key.split('.'), get(key));
  }
  for (const [languageId, model] of Object.entries(languageModels)) {
    put(['completion', 'languages', languageId, 'model'], model);
  }
  return out;
}

/** What `WorkspaceConfiguration.inspect` returns, as far as `userValue` reads it. */
export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
  globalLanguageValue?: T;
  workspaceLanguageValue?: T;
  workspaceFolderLanguageValue?: T;
  /** Languages with an override of this setting (`"[python]": {…}`). */
  languageIds?: string[];
}

/**
 * The value the user set (folder, workspace or user settings), never the declared default:
 * a default sent to the daemon would outrank its config.toml and a project's .ardaemon.toml
 * (`completion.enabled: true` would undo `enabled = false` in both).
 */
export function userValue<T>(inspected: Inspected<T> | undefined): T | undefined {
  return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
}

/** The value set for one language (`"[python]": {…}` in folder, workspace or user settings). */
export function userLanguageValue<T>(inspected: Inspected<T> | undefined): T | undefined {
  return inspected?.workspaceFolderLanguageValue ?? inspected?.workspaceLanguageValue ?? inspected?.globalLanguageValue;
}

function setPath(target: Settings, parts: string[], value: unknown): void {
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) {
      node[part] = {};
    }
    node = node[part] as Settings;
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * What a change of settings needs, as data (rust-analyzer's `requiresServerReloadOpts`): keys
 * (below `ardaemon.`) that need a new daemon process, and keys after whose push the selected
 * models are read again. Every other change is pushed to the running daemon.
 */
export const RESTART_ON: readonly string[] = ['serverPath'];
export const RESELECT_ON: readonly string[] = ['models', 'provider'];

export type SettingsChangeAction = 'ignore' | 'restart' | 'push' | 'pushAndReselect';

/** `affects` is `ConfigurationChangeEvent.affectsConfiguration`, with full keys. */
export function onSettingsChange(affects: (key: string) => boolean): SettingsChangeAction {
  const any = (keys: readonly string[]): boolean => keys.some((key) => affects(`${SECTION}.${key}`));
  if (!affects(SECTION)) {
    return 'ignore';
  }
  if (any(RESTART_ON)) {
    return 'restart';
  }
  return any(RESELECT_ON) ? 'pushAndReselect' : 'push';
}

/** Payload of `initializationOptions` and `workspace/didChangeConfiguration`'s `settings`. */
export function wrapSection(settings: Settings): { [SECTION]: Settings } {
  return { [SECTION]: settings };
}

// ardaemon is installed from its repository (no package index release yet).
export const INSTALL_COMMAND = 'pipx install /path/to/ardaemon';

export function missingServerMessage(configured: string | undefined): string {
  if (configured) {
    return (
      `ardaemon: the daemon was not found at "${configured}" (setting ardaemon.serverPath). ` +
      `Fix the path, or install it with \`${INSTALL_COMMAND}\` and clear the setting.`
    );
  }
  return (
    'ardaemon: the `ardaemon` executable was not found on PATH. ' +
    `Install it from an ardaemon checkout with \`${INSTALL_COMMAND}\` (or \`pip install .\` there), ` +
    'or point the setting ardaemon.serverPath at it.'
  );
}

export interface ResolveOptions {
  /** `ardaemon.serverPath`, possibly empty or starting with `~`. */
  configured?: string | undefined;
  env: NodeJS.ProcessEnv;
  home: string;
  platform: NodeJS.Platform;
  isExecutable?: (file: string) => boolean;
}

function defaultIsExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The daemon's executable: `ardaemon.serverPath` when set (a path, or a bare name looked up on
 * PATH), else `ardaemon` on PATH, else the places pip/pipx put console scripts. Undefined when
 * none exists; the caller shows `missingServerMessage`.
 */
export function resolveServerPath(opts: ResolveOptions): string | undefined {
  const isExecutable = opts.isExecutable ?? defaultIsExecutable;
  const pathApi = opts.platform === 'win32' ? path.win32 : path.posix;
  const exeNames = opts.platform === 'win32' ? ['ardaemon.exe', 'ardaemon.cmd', 'ardaemon'] : ['ardaemon'];
  const searchPath = (opts.env['PATH'] ?? opts.env['Path'] ?? '')
    .split(opts.platform === 'win32' ? ';' : ':')
    .filter((dir) => dir !== '');

  const configured = opts.configured?.trim();
  if (configured) {
    const expanded = configured === '~' || configured.startsWith('~/') ? opts.home + configured.slice(1) : configured;
    if (expanded.includes('/') || expanded.includes('\\')) {
      return isExecutable(expanded) ? expanded : undefined;
    }
    return searchPath.map((dir) => pathApi.join(dir, expanded)).find(isExecutable);
  }

  const wellKnown =
    opts.platform === 'win32' ? [] : [pathApi.join(opts.home, '.local', 'bin'), '/usr/local/bin', '/opt/homebrew/bin'];
  for (const dir of [...searchPath, ...wellKnown]) {
    for (const name of exeNames) {
      const candidate = pathApi.join(dir, name);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/**
 * The daemon's environment: the editor's own, plus the signed-in token. The token travels only
 * here (never in settings, arguments or logs).
 */
export function serverEnv(base: NodeJS.ProcessEnv, token: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  if (token) {
    env['AGENTROUTER_API_KEY'] = token;
  }
  return env;
}

/** Why a typed token cannot be right, or undefined when it may be. */
export function tokenProblem(value: string): string | undefined {
  const token = value.trim();
  if (token === '') {
    return 'Paste your AgentRouter API key.';
  }
  if (/\s/.test(token)) {
    return 'A token has no spaces or line breaks.';
  }
  return undefined;
}
