// The advice a person reads comes from the daemon (ardaemon/messages.py renders it in VS Code's
// words, chosen from clientInfo.name); the extension shows it and adds only the click's action.
// These tests render every sentence the daemon has and fail when the two drift apart;
// tests/test_messages.py fails when a source file of either editor keeps a copy of the advice.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyDaemonStatus, initialStatus, renderStatus } from '../src/status';
import { defs, REPO } from './daemon';

const ROOT = path.join(REPO, 'editors', 'vscode');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test("the status item shows the daemon's sentence and adds no advice of its own", () => {
  const messages = Object.entries(defs().messages);
  assert.ok(messages.length >= 20, 'every kind and reason is rendered');
  for (const [key, { kind, message }] of messages) {
    const status = applyDaemonStatus(
      { ...initialStatus(), phase: 'running', model: 'glm-4.6' },
      {
        state: 'error',
        kind,
        message,
      },
    );
    const view = renderStatus(status);
    const click = view.command === 'ardaemon.signIn' ? 'Click to sign in.' : 'Click to select a model.';
    assert.equal(view.tooltip, `ardaemon: ${message}\n\n${click}`, key);
    assert.equal(view.command, kind === 'auth' ? 'ardaemon.signIn' : 'ardaemon.selectModel', key);
  }
});

test('the commands the daemon names for VS Code are contributed under those titles', () => {
  const titles = new Set(
    manifest.contributes.commands.map((c: { category: string; title: string }) => `"${c.category}: ${c.title}"`),
  );
  for (const [name, spelled] of Object.entries(defs().commands)) {
    assert.ok(titles.has(spelled), `${name}: ${spelled} is no command of package.json`);
  }
});

test('the settings the daemon names for VS Code are declared in package.json', () => {
  const declared = new Set(Object.keys(manifest.contributes.configuration.properties));
  const named = new Set<string>();
  for (const { message } of Object.values(defs().messages)) {
    for (const match of message.matchAll(/`(ardaemon\.[A-Za-z.]+)`/g)) {
      named.add(match[1] as string);
    }
  }
  assert.ok(named.has('ardaemon.headers'), [...named].join(', '));
  for (const key of named) {
    assert.ok(declared.has(key), `${key} is not a setting of package.json`);
  }
});
