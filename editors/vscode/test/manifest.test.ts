// package.json declares what the code uses, and every daemon setting the daemon knows.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DAEMON_KEYS, LANGUAGE_MODEL_KEY, NOT_SENT, SECTION } from '../src/settings';
import { defs, REPO } from './daemon';

const ROOT = path.join(REPO, 'editors', 'vscode');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const properties: Record<string, { default?: unknown; type?: unknown }> = manifest.contributes.configuration.properties;
const EXTENSION_ONLY = ['serverPath', 'trace.server'];

test('every daemon key the extension sends is declared in contributes.configuration', () => {
  const declared = Object.keys(properties).map((key) => key.slice(SECTION.length + 1));
  assert.deepEqual([...declared].sort(), [...DAEMON_KEYS, ...EXTENSION_ONLY].sort());
});

test("the issue's settings are all there", () => {
  for (const key of [
    'provider',
    'baseUrl',
    'models.completion',
    'models.chat',
    'headers',
    'completion.enabled',
    'completion.maxTokens',
    'completion.debounceMs',
    'requestTimeout',
    'serverPath',
  ]) {
    assert.ok(properties[`${SECTION}.${key}`], key);
  }
});

test('settings that choose where the token goes are machine-scoped: no workspace sets them', () => {
  for (const key of ['provider', 'baseUrl', 'headers']) {
    assert.equal((properties[`${SECTION}.${key}`] as { scope?: string }).scope, 'machine', key);
  }
});

test('every setting of the daemon is sent, or kept from VS Code on purpose (NOT_SENT)', () => {
  const handled = new Set<string>([...DAEMON_KEYS, ...NOT_SENT]);
  const missing = defs().settings.filter((key) => !handled.has(key));
  assert.deepEqual(missing, [], 'daemon settings VS Code can neither set nor explains why not');
});

test("a declared default is the daemon's own; null or an empty string means unset", () => {
  // Only values the user set are sent (settings.ts userValue), so a default is documentation:
  // it must not say something the daemon does not do.
  const daemon = defs().defaults;
  for (const key of DAEMON_KEYS) {
    const declared = properties[`${SECTION}.${key}`]?.default;
    if (declared !== null && declared !== '') {
      assert.deepEqual(declared, daemon[key], key);
    }
  }
});

test('a per-language completion model is a language override of models.completion', () => {
  const p = properties[`${SECTION}.${LANGUAGE_MODEL_KEY}`] as { scope?: string };
  assert.equal(p.scope, 'language-overridable');
});

test('every key the extension sends is a setting the daemon knows', () => {
  const known = new Set(defs().settings);
  for (const key of DAEMON_KEYS) {
    assert.ok(known.has(key), `the daemon has no setting ${key}`);
  }
});

test("declared defaults match the daemon's defaults in docs/protocol.md", () => {
  assert.equal(properties['ardaemon.provider']?.default, 'agent_router');
  assert.equal(properties['ardaemon.completion.enabled']?.default, true);
  assert.equal(properties['ardaemon.completion.maxTokens']?.default, 128);
  assert.equal(properties['ardaemon.completion.debounceMs']?.default, 75);
});

test('every contributed command has a factory in commands.ts, and the other way round', () => {
  const source = fs.readFileSync(path.join(ROOT, 'src', 'commands.ts'), 'utf8');
  const table = source.slice(source.indexOf('export const COMMANDS'));
  const registered = [...table.matchAll(/^ {2}'(ardaemon\.[A-Za-z]+)':/gm)].map((m) => m[1]);
  const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...registered].sort(), [...contributed].sort());
  for (const id of [
    'ardaemon.selectModel',
    'ardaemon.signIn',
    'ardaemon.signOut',
    'ardaemon.openChat',
    'ardaemon.showLog',
    'ardaemon.toggleCompletions',
  ]) {
    assert.ok(contributed.includes(id), id);
  }
});

test('the VSIX ships the bundle only', () => {
  assert.equal(manifest.main, './dist/extension.js');
  const ignore = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');
  assert.match(ignore, /^\*\*$/m);
  assert.match(ignore, /^!dist\/extension\.js$/m);
});

test("the context budget has no default of its own: unset, a project's .ardaemon.toml decides", () => {
  const doc = fs.readFileSync(path.join(REPO, 'docs', 'protocol.md'), 'utf8');
  for (const [key, builtIn] of [
    ['completion.prefixChars', 6000],
    ['completion.suffixChars', 2000],
  ] as const) {
    const p = properties[`${SECTION}.${key}`] as { default?: unknown; minimum?: number; maximum?: number };
    // VS Code sends a declared default like a value the user set, and editor settings win
    // over the project file: a default here would shadow every project's budget.
    assert.equal(p.default, null, key);
    assert.deepEqual([p.minimum, p.maximum], [1, 100000], key);
    assert.ok(doc.includes(`| \`${key}\` | \`${builtIn}\` |`), `${key} in docs/protocol.md`);
  }
});
