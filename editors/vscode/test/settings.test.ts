import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  daemonSettings,
  type DaemonKey,
  INSTALL_COMMAND,
  userLanguageValue,
  userValue,
  missingServerMessage,
  onSettingsChange,
  resolveServerPath,
  serverEnv,
  tokenProblem,
  wrapSection,
} from '../src/settings';

test('dotted keys become nested objects, as the daemon reads them', () => {
  const values: Partial<Record<DaemonKey, unknown>> = {
    provider: 'agent_router',
    'models.completion': 'glm-4.6',
    'models.chat': 'claude-sonnet-4-5-20250929',
    'completion.enabled': false,
    'completion.maxTokens': 64,
    'completion.languages.deny': ['markdown'],
    headers: { 'X-Team': 'a' },
  };
  assert.deepEqual(
    daemonSettings((key) => values[key]),
    {
      provider: 'agent_router',
      models: { completion: 'glm-4.6', chat: 'claude-sonnet-4-5-20250929' },
      completion: { enabled: false, maxTokens: 64, languages: { deny: ['markdown'] } },
      headers: { 'X-Team': 'a' },
    },
  );
});

test("issue 15's settings are sent where the daemon reads them; language overrides become presets", () => {
  const values: Partial<Record<DaemonKey, unknown>> = {
    'models.fallback.completion': ['glm-4.6'],
    'models.fallback.chat': ['claude-haiku-4-5', 'openai:gpt-4o-mini'],
    'completion.models.automatic': 'glm-4.6',
    'completion.models.invoked': ' claude-sonnet-4-5 ',
    'completion.fim': false,
    'completion.exclude': ['*.secret', 'fixtures/**'],
    'completion.languages.deny': ['markdown'],
    'usage.dailyTokenWarning': 200000,
  };
  assert.deepEqual(
    daemonSettings((key) => values[key], { python: 'deepseek-coder', go: '  ', rust: undefined }),
    {
      models: { fallback: { completion: ['glm-4.6'], chat: ['claude-haiku-4-5', 'openai:gpt-4o-mini'] } },
      completion: {
        models: { automatic: 'glm-4.6', invoked: 'claude-sonnet-4-5' },
        fim: false,
        exclude: ['*.secret', 'fixtures/**'],
        languages: { deny: ['markdown'], python: { model: 'deepseek-coder' } },
      },
      usage: { dailyTokenWarning: 200000 },
    },
  );
  // A language's own value, never the default nor the value for every language.
  assert.equal(userLanguageValue({ defaultValue: 'x', globalValue: 'y' }), undefined);
  assert.equal(userLanguageValue({ globalLanguageValue: 'a', workspaceLanguageValue: 'b' }), 'b');
  assert.equal(userLanguageValue({ globalLanguageValue: 'a', workspaceFolderLanguageValue: 'c' }), 'c');
});

test("unset, null and blank values are left out so the daemon's own defaults apply", () => {
  const values: Partial<Record<DaemonKey, unknown>> = {
    baseUrl: '  ',
    'models.completion': null,
    'models.chat': '',
    'completion.enabled': true,
  };
  assert.deepEqual(
    daemonSettings((key) => values[key]),
    { completion: { enabled: true } },
  );
});

test('only values the user set are sent, never a declared default', () => {
  // A default `completion.enabled: true` would outrank the daemon's config.toml and a
  // project's .ardaemon.toml, which may both turn completions off.
  assert.equal(userValue({ defaultValue: true }), undefined);
  assert.equal(userValue({ defaultValue: true, globalValue: false }), false);
  assert.deepEqual(userValue({ defaultValue: [], globalValue: ['go'], workspaceValue: ['md'] }), ['md']);
  assert.equal(userValue({ workspaceValue: 1, workspaceFolderValue: 0 }), 0);
  assert.equal(userValue(undefined), undefined);
});

test('strings are trimmed; false and 0 are kept', () => {
  const values: Partial<Record<DaemonKey, unknown>> = {
    baseUrl: ' http://127.0.0.1:9/v1 ',
    'completion.debounceMs': 0,
    'completion.multiline': false,
  };
  assert.deepEqual(
    daemonSettings((key) => values[key]),
    {
      baseUrl: 'http://127.0.0.1:9/v1',
      completion: { debounceMs: 0, multiline: false },
    },
  );
});

test('the section wraps the settings', () => {
  assert.deepEqual(wrapSection({ provider: 'openai' }), { ardaemon: { provider: 'openai' } });
});

test('the server is found on PATH', () => {
  const found = resolveServerPath({
    env: { PATH: '/nope:/opt/venv/bin:/usr/bin' },
    home: '/home/u',
    platform: 'linux',
    isExecutable: (f) => f === '/opt/venv/bin/ardaemon' || f === '/usr/bin/ardaemon',
  });
  assert.equal(found, '/opt/venv/bin/ardaemon');
});

test('the server is found where pipx puts it when PATH lacks it', () => {
  const found = resolveServerPath({
    env: { PATH: '/usr/bin' },
    home: '/home/u',
    platform: 'linux',
    isExecutable: (f) => f === '/home/u/.local/bin/ardaemon',
  });
  assert.equal(found, '/home/u/.local/bin/ardaemon');
});

test('serverPath wins, with ~ expanded; a missing serverPath is not replaced by PATH', () => {
  const exists = (f: string) => f === '/home/u/venv/bin/ardaemon' || f === '/usr/bin/ardaemon';
  const base = { env: { PATH: '/usr/bin' }, home: '/home/u', platform: 'linux' as const, isExecutable: exists };
  assert.equal(resolveServerPath({ ...base, configured: '~/venv/bin/ardaemon' }), '/home/u/venv/bin/ardaemon');
  assert.equal(resolveServerPath({ ...base, configured: '/elsewhere/ardaemon' }), undefined);
  assert.equal(resolveServerPath({ ...base, configured: 'ardaemon' }), '/usr/bin/ardaemon');
  assert.equal(resolveServerPath({ ...base, configured: '   ' }), '/usr/bin/ardaemon');
});

test('nothing found: undefined, and the message names the install command', () => {
  const found = resolveServerPath({
    env: { PATH: '/usr/bin' },
    home: '/h',
    platform: 'linux',
    isExecutable: () => false,
  });
  assert.equal(found, undefined);
  assert.ok(missingServerMessage(undefined).includes(INSTALL_COMMAND));
  assert.ok(missingServerMessage(undefined).includes('ardaemon.serverPath'));
  assert.ok(missingServerMessage('/x/ardaemon').includes('/x/ardaemon'));
});

test('the real file system check: a directory or a non-executable file is not the server', () => {
  assert.equal(resolveServerPath({ configured: '/tmp', env: {}, home: '/h', platform: 'linux' }), undefined);
  assert.equal(resolveServerPath({ configured: '/bin/sh', env: {}, home: '/h', platform: 'linux' }), '/bin/sh');
});

test('the token travels in the environment only when signed in, without touching the base', () => {
  const base = { PATH: '/usr/bin', AGENTROUTER_BASE_URL: 'http://127.0.0.1:1' };
  const env = serverEnv(base, 'sk-secret');
  assert.equal(env['AGENTROUTER_API_KEY'], 'sk-secret');
  assert.equal(env['AGENTROUTER_BASE_URL'], 'http://127.0.0.1:1');
  assert.equal((base as Record<string, string>)['AGENTROUTER_API_KEY'], undefined);
  assert.equal(serverEnv(base, undefined)['AGENTROUTER_API_KEY'], undefined);
});

test('a typed token is checked for the obvious mistakes only', () => {
  assert.ok(tokenProblem(''));
  assert.ok(tokenProblem('   '));
  assert.ok(tokenProblem('sk-abc def'));
  assert.equal(tokenProblem('sk-abc'), undefined);
  assert.equal(tokenProblem('  sk-abc\n'), undefined);
});

test('a settings change restarts, pushes, or pushes and re-reads the selection, by key', () => {
  // affectsConfiguration is true for the changed key and every section above it.
  const changed =
    (...keys: string[]) =>
    (query: string): boolean =>
      keys.some((key) => key === query || key.startsWith(`${query}.`));
  assert.equal(onSettingsChange(changed('editor.fontSize')), 'ignore');
  assert.equal(onSettingsChange(changed('ardaemon.serverPath')), 'restart');
  assert.equal(onSettingsChange(changed('ardaemon.serverPath', 'ardaemon.models.chat')), 'restart');
  assert.equal(onSettingsChange(changed('ardaemon.models.chat')), 'pushAndReselect');
  assert.equal(onSettingsChange(changed('ardaemon.provider')), 'pushAndReselect');
  assert.equal(onSettingsChange(changed('ardaemon.completion.debounceMs')), 'push');
  assert.equal(onSettingsChange(changed('ardaemon.trace.server')), 'push');
});
