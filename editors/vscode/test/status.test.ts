import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answered,
  applyDaemonStatus,
  initialStatus,
  renderStatus,
  restarted,
  type StatusModel,
  withModel,
  withUsage,
} from '../src/status';

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

test("an error shows the daemon's message in the tooltip, and it is kept after going idle", () => {
  let m = applyDaemonStatus(running(), {
    state: 'error',
    kind: 'rate_limited',
    message: 'The gateway is rate limiting (429): retry in 2 s.',
  });
  let view = renderStatus(m);
  assert.equal(view.text, '$(error) glm-4.6');
  assert.equal(view.background, 'statusBarItem.errorBackground');
  assert.equal(view.tooltip, 'ardaemon: The gateway is rate limiting (429): retry in 2 s.\n\nClick to select a model.');
  assert.equal(view.command, 'ardaemon.selectModel');
  m = applyDaemonStatus(m, { state: 'idle' });
  view = renderStatus(m);
  assert.equal(view.text, '$(sparkle) glm-4.6');
  assert.match(view.tooltip, /Last error: The gateway is rate limiting/);
});

test('a token problem turns the item into a Sign In button', () => {
  const auth = { state: 'error' as const, kind: 'auth', message: 'No token for AgentRouter: run `ardaemon login`.' };
  let view = renderStatus(applyDaemonStatus(running({ model: null, signedIn: false }), auth));
  assert.equal(view.text, '$(key) ardaemon: Sign In');
  assert.equal(view.command, 'ardaemon.signIn');
  assert.match(view.tooltip, /No token for AgentRouter/);
  view = renderStatus(applyDaemonStatus(running(), auth));
  assert.equal(view.text, '$(key) glm-4.6');
  assert.equal(view.command, 'ardaemon.signIn');
});

test('a restarted daemon starts clean: no old error, model kept', () => {
  const failed = applyDaemonStatus(running(), { state: 'error', kind: 'network', message: 'down' });
  const m = restarted(failed);
  assert.equal(m.lastError, null);
  assert.equal(m.daemon.state, 'idle');
  assert.equal(m.model, 'glm-4.6');
  assert.equal(renderStatus(m).text, '$(loading~spin) ardaemon');
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

test('no model yet and no token are said plainly', () => {
  const view = renderStatus(running({ model: null, signedIn: false, token: { source: 'none' } }));
  assert.equal(view.text, '$(sparkle) no model');
  assert.match(view.tooltip, /No token: run "ardaemon: Sign In"/);
});

test('the tooltip says where the token really comes from', () => {
  const tip = (over: Partial<StatusModel>): string => renderStatus(running({ signedIn: false, ...over })).tooltip;
  assert.match(
    tip({ token: { source: 'env', detail: 'AGENTROUTER_API_KEY' } }),
    /environment variable AGENTROUTER_API_KEY/,
  );
  assert.doesNotMatch(tip({ token: { source: 'env', detail: 'AGENTROUTER_API_KEY' } }), /Not signed in/);
  assert.match(
    tip({ token: { source: 'file', detail: '/home/u/.config/ardaemon/credentials.json' } }),
    /credentials\.json/,
  );
  assert.match(tip({ token: { source: 'keyring', detail: 'SecretService' } }), /system keyring \(SecretService\)/);
  assert.match(tip({ signedIn: true, token: { source: 'env', detail: 'AGENTROUTER_API_KEY' } }), /secret storage/);
  assert.doesNotMatch(tip({ token: null }), /Token/);
});

test("the idle tooltip shows today's usage and a budget notice", () => {
  const usage = {
    since: 'today',
    by: 'model',
    total: {
      key: 'total',
      requests: 3,
      failed: 0,
      inputTokens: 12345,
      outputTokens: 678,
      unknownUsage: 1,
      cost: 0.0042,
      costUnknown: 2,
    },
    groups: [],
    todayTokens: 13023,
    dailyTokenWarning: 10000,
    ledger: '/tmp/usage.jsonl',
  };
  let m = applyDaemonStatus(running({ usage }), {
    state: 'idle',
    kind: 'budget',
    message: "today's usage is 13,023 tokens, past your usage.dailyTokenWarning of 10,000",
  });
  const view = renderStatus(m);
  assert.match(view.tooltip, /Today: 12,345 in \+ 678 out tokens in 3 requests, \$0\.0042 \(\+2 unpriced\)/);
  assert.match(view.tooltip, /1 without reported usage/);
  assert.match(view.tooltip, /past your usage\.dailyTokenWarning/);
  assert.equal(view.background, 'statusBarItem.warningBackground');
  m = applyDaemonStatus(running(), {
    state: 'idle',
    kind: 'fallback',
    model: 'glm-4.6',
    message: 'answered by the fallback agent_router:glm-4.6.',
  });
  assert.match(renderStatus(m).tooltip, /answered by the fallback/);
  assert.equal(renderStatus(m).background, undefined);
  assert.equal(m.budget, null);
});

test('a fallback shows in the item until the next request starts; the model asked stays shown', () => {
  let m = applyDaemonStatus(running({ model: 'gpt-4o' }), { state: 'inProgress', model: 'gpt-4o' });
  m = applyDaemonStatus(m, { state: 'idle', model: 'gpt-4o' });
  m = applyDaemonStatus(m, {
    state: 'idle',
    kind: 'fallback',
    model: 'claude-sonnet-4-5',
    message: 'gpt-4o failed (overloaded); answered by the fallback agent_router:claude-sonnet-4-5.',
  });
  const view = renderStatus(m);
  assert.equal(view.text, '$(sparkle) gpt-4o (fallback)');
  assert.match(view.tooltip, /gpt-4o failed \(overloaded\); answered by the fallback agent_router:claude-sonnet-4-5\./);
  m = applyDaemonStatus(m, { state: 'inProgress', model: 'gpt-4o' });
  m = applyDaemonStatus(m, { state: 'idle', model: 'gpt-4o' });
  assert.equal(renderStatus(m).text, '$(sparkle) gpt-4o');
  assert.doesNotMatch(renderStatus(m).tooltip, /fallback/);
});

test('a fallback notice goes with a new model or a new daemon; the same model keeps it', () => {
  const fell = applyDaemonStatus(running({ model: 'gpt-4o' }), {
    state: 'idle',
    kind: 'fallback',
    model: 'glm-4.6',
    message: 'gpt-4o failed (overloaded); answered by the fallback agent_router:glm-4.6.',
  });
  assert.equal(renderStatus(withModel(fell, 'gpt-4o')).text, '$(sparkle) gpt-4o (fallback)');
  assert.equal(renderStatus(withModel(fell, 'kimi-k2')).text, '$(sparkle) kimi-k2');
  assert.equal(restarted(fell).notice, null);
});

test('a chat (or complete) answered without a fallback clears the notice; one from a fallback keeps it', () => {
  // A chat sends no progress status: only its result says whether a fallback answered it.
  const fell = applyDaemonStatus(running({ model: 'gpt-4o' }), {
    state: 'idle',
    kind: 'fallback',
    model: 'glm-4.6',
    message: 'kimi-k2 failed (overloaded); answered by the fallback agent_router:glm-4.6.',
  });
  const again = answered(fell, { fallbackFrom: 'kimi-k2' });
  assert.equal(renderStatus(again).text, '$(sparkle) gpt-4o (fallback)');
  const plain = answered(again, {});
  assert.equal(plain.notice, null);
  assert.equal(renderStatus(plain).text, '$(sparkle) gpt-4o');
  assert.doesNotMatch(renderStatus(plain).tooltip, /fallback/);
  assert.equal(answered(plain, {}), plain);
});

const usageOf = (todayTokens: number, dailyTokenWarning: number | null) => ({
  since: 'today',
  by: 'model',
  total: {
    key: 'total',
    requests: 1,
    failed: 0,
    inputTokens: todayTokens,
    outputTokens: 0,
    unknownUsage: 0,
    cost: null,
    costUnknown: 1,
  },
  groups: [],
  todayTokens,
  dailyTokenWarning,
  ledger: '/tmp/usage.jsonl',
});

test('the budget warning survives fallbacks and requests, and ends with the day or a restart', () => {
  const warning = "today's usage is 1,200 tokens, past your usage.dailyTokenWarning of 1,000";
  let m = applyDaemonStatus(running({ model: 'gpt-4o' }), { state: 'idle', kind: 'budget', message: warning });
  assert.equal(renderStatus(m).text, '$(warning) gpt-4o');
  assert.equal(renderStatus(m).background, 'statusBarItem.warningBackground');
  // A fallback and the next request (which clears the fallback) leave the budget warning.
  m = applyDaemonStatus(m, { state: 'idle', kind: 'fallback', model: 'glm-4.6', message: 'gpt-4o failed (network).' });
  assert.equal(renderStatus(m).text, '$(warning) gpt-4o (fallback)');
  assert.match(renderStatus(m).tooltip, /failed \(network\)[^]*past your usage\.dailyTokenWarning/);
  m = applyDaemonStatus(m, { state: 'inProgress', model: 'gpt-4o' });
  assert.equal(m.daemon.state, 'inProgress');
  m = applyDaemonStatus(answered(m, {}), { state: 'idle', model: 'gpt-4o' });
  assert.equal(renderStatus(m).text, '$(warning) gpt-4o');
  assert.match(renderStatus(m).tooltip, /past your usage\.dailyTokenWarning/);
  // Still past it: kept. A new day (today's tokens below it) or a raised limit: gone.
  assert.equal(withUsage(m, usageOf(1200, 1000)).budget, warning);
  assert.equal(withUsage(m, usageOf(10, 1000)).budget, null);
  assert.equal(withUsage(m, usageOf(1200, null)).budget, null);
  assert.equal(renderStatus(withUsage(m, usageOf(10, 1000))).text, '$(sparkle) gpt-4o');
  assert.equal(restarted(m).budget, null);
});
