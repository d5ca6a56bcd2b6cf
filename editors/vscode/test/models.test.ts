import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  age,
  catalogNote,
  currentFor,
  type Entry,
  pickedMessage,
  pickEntries,
  pickerTitle,
  roleChoices,
} from '../src/models';
import type { ListModelsResult } from '../src/protocol';

const NOW = new Date('2025-10-01T12:00:00Z');

function catalog(over: Partial<ListModelsResult> = {}): ListModelsResult {
  return {
    models: [
      { id: 'gpt-5', api: 'openai', provider: 'agent_router', ownedBy: 'openai' },
      { id: 'claude-sonnet-4-5-20250929', api: 'anthropic', provider: 'agent_router', ownedBy: 'anthropic' },
      { id: 'glm-4.6', api: 'openai', provider: 'agent_router', ownedBy: 'zhipu', name: 'GLM 4.6' },
      { id: 'claude-haiku-4-5-20251001', api: 'anthropic', provider: 'agent_router' },
    ],
    source: 'network',
    stale: false,
    fetchedAt: '2025-10-01T11:55:00Z',
    selected: { completion: 'glm-4.6', chat: 'claude-sonnet-4-5-20250929' },
    ...over,
  };
}

const labels = (entries: Entry[]) => entries.map((e) => `${e.kind}:${e.label}`);

test('models are grouped by wire format, Claude first, sorted within a group, Refresh last', () => {
  assert.deepEqual(labels(pickEntries(catalog(), 'completion', NOW)), [
    'separator:Anthropic Messages (/v1/messages)',
    'model:claude-haiku-4-5-20251001',
    'model:claude-sonnet-4-5-20250929',
    'separator:OpenAI Chat Completions (/v1/chat/completions)',
    'model:$(check) glm-4.6',
    'model:gpt-5',
    'separator:',
    'refresh:$(refresh) Refresh',
  ]);
});

test('the current model is marked per role; details say which roles use a model', () => {
  const entries = pickEntries(catalog(), 'chat', NOW);
  const current = entries.filter((e) => e.kind === 'model' && e.current);
  assert.equal(current.length, 1);
  assert.equal(current[0]!.kind === 'model' && current[0]!.model.id, 'claude-sonnet-4-5-20250929');
  const glm = entries.find((e) => e.kind === 'model' && e.model.id === 'glm-4.6');
  assert.equal(glm?.kind === 'model' && glm.detail, 'current for completions');
  assert.equal(glm?.kind === 'model' && glm.description, 'GLM 4.6 · zhipu');
});

test('with no role the completion model counts as current, else the chat one', () => {
  assert.equal(currentFor(catalog(), 'both'), 'glm-4.6');
  assert.equal(currentFor(catalog({ selected: { completion: null, chat: 'gpt-5' } }), 'both'), 'gpt-5');
  assert.equal(currentFor(catalog({ selected: { completion: null, chat: null } }), 'completion'), null);
});

test('only the wire formats present get a group', () => {
  const only = catalog({ models: [{ id: 'gpt-4o-mini', api: 'openai', provider: 'openai' }] });
  assert.deepEqual(labels(pickEntries(only, 'both', NOW)).slice(0, 2), [
    'separator:OpenAI Chat Completions (/v1/chat/completions)',
    'model:gpt-4o-mini',
  ]);
});

test('a stale catalog is noted, with its age, and Refresh says so', () => {
  const stale = catalog({ stale: true, source: 'cache', fetchedAt: '2025-09-29T12:00:00Z' });
  const note = catalogNote(stale, NOW);
  assert.match(note, /Stale catalog/);
  assert.match(note, /2 days ago|48 h ago/);
  const refresh = pickEntries(stale, 'both', NOW).at(-1);
  assert.equal(refresh?.kind, 'refresh');
  assert.match(refresh?.kind === 'refresh' ? refresh.description : '', /stale/);
});

test('a fresh catalog says where it came from', () => {
  assert.equal(catalogNote(catalog(), NOW), '4 models from the gateway, fetched 5 min ago.');
  assert.equal(
    catalogNote(catalog({ source: 'cache', fetchedAt: '2025-10-01T09:00:00Z' }), NOW),
    '4 models from the cache, fetched 3 h ago.',
  );
});

test('ages read like a person would say them', () => {
  assert.equal(age('2025-10-01T12:00:20Z', NOW), 'just now');
  assert.equal(age('2025-10-01T11:30:00Z', NOW), '30 min ago');
  assert.equal(age('2025-09-20T12:00:00Z', NOW), '11 days ago');
  assert.equal(age('yesterday', NOW), 'at an unknown time');
});

test('titles name the role; with none the picker asks for it', () => {
  assert.match(pickerTitle('completion'), /for completions/);
  assert.match(pickerTitle('chat'), /for chat/);
  assert.match(pickerTitle('both'), /completions and chat/);
  assert.equal(pickerTitle(undefined), 'ardaemon: Select Model');
});

test('the role step offers both first, then each role with what it replaces', () => {
  const choices = roleChoices('kimi-k2', { completion: 'glm-4.6', chat: 'kimi-k2' });
  assert.deepEqual(
    choices.map((c) => c.target),
    ['both', 'completion', 'chat'],
  );
  assert.match(choices[1]?.description ?? '', /now glm-4\.6/);
  assert.match(choices[2]?.description ?? '', /already/);
});

test('the confirmation names the role', () => {
  assert.equal(pickedMessage('kimi-k2', 'both'), 'ardaemon: kimi-k2 now answers completions and chat.');
  assert.equal(pickedMessage('kimi-k2', 'completion'), 'ardaemon: kimi-k2 now answers completions.');
  assert.equal(pickedMessage('kimi-k2', 'chat'), 'ardaemon: kimi-k2 now answers chat.');
});
