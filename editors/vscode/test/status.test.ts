import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDaemonStatus, initialStatus, renderStatus, type StatusModel } from '../src/status';

const running = (over: Partial<StatusModel> = {}): StatusModel => ({
  ...initialStatus(),
  phase: 'running',
  model: 'glm-4.6',
  signedIn: true,
  ...over,
});

test('idle shows the model', () => {
  const view = renderStatus(running());
  assert.equal(view.text, '$(sparkle) glm-4.6');
  assert.equal(view.background, undefined);
  assert.match(view.tooltip, /idle/);
  assert.match(view.tooltip, /Click to select a model/);
});

test('in progress spins, and the model a notification names wins', () => {
  const m = applyDaemonStatus(running(), { state: 'inProgress', model: 'gpt-5' });
  assert.equal(renderStatus(m).text, '$(loading~spin) gpt-5');
  assert.equal(m.model, 'gpt-5');
});

test('an error shows its message and a hint in the tooltip, and is kept after going idle', () => {
  let m = applyDaemonStatus(running(), {
    state: 'error',
    kind: 'auth',
    message: 'The gateway rejected the token (401): sign in again.',
  });
  let view = renderStatus(m);
  assert.equal(view.text, '$(error) glm-4.6');
  assert.equal(view.background, 'statusBarItem.errorBackground');
  assert.match(view.tooltip, /rejected the token/);
  assert.match(view.tooltip, /Sign In/);
  m = applyDaemonStatus(m, { state: 'idle' });
  view = renderStatus(m);
  assert.equal(view.text, '$(sparkle) glm-4.6');
  assert.match(view.tooltip, /Last error: The gateway rejected the token/);
});

test('an error without a message still says something', () => {
  const view = renderStatus(applyDaemonStatus(running(), { state: 'error' }));
  assert.match(view.tooltip, /the last request failed/);
});

test('completions off, daemon missing, stopped and starting each look different', () => {
  const texts = new Set([
    renderStatus(running({ completionsEnabled: false })).text,
    renderStatus(running({ phase: 'missing' })).text,
    renderStatus(running({ phase: 'stopped' })).text,
    renderStatus(running({ phase: 'starting' })).text,
    renderStatus(running()).text,
  ]);
  assert.equal(texts.size, 5);
  assert.match(renderStatus(running({ completionsEnabled: false })).tooltip, /Toggle Completions/);
});

test('no model yet and not signed in are said plainly', () => {
  const view = renderStatus(running({ model: null, signedIn: false }));
  assert.equal(view.text, '$(sparkle) no model');
  assert.match(view.tooltip, /Not signed in/);
});
