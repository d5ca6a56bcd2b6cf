import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANSWER_KEY, Answers, chatInformation, fallbackNote, toChatMessages } from '../src/lmModels';

test('the catalog becomes the chat view picker entries, one per model', () => {
  const info = chatInformation({
    models: [
      { id: 'glm-4.6', api: 'openai', provider: 'agent_router', ownedBy: 'zhipu' },
      { id: 'claude-haiku-4-5-20251001', api: 'anthropic', provider: 'agent_router', name: 'Claude Haiku 4.5' },
    ],
    source: 'cache',
    stale: false,
    fetchedAt: '2026-12-03T10:00:00Z',
    selected: { completion: null, chat: null },
  });
  assert.deepEqual(
    info.map((m) => [m.id, m.name, m.family]),
    [
      ['glm-4.6', 'glm-4.6', 'openai'],
      ['claude-haiku-4-5-20251001', 'Claude Haiku 4.5', 'anthropic'],
    ],
  );
  assert.match(info[1]?.tooltip ?? '', /\/v1\/messages/);
  assert.ok(info.every((m) => m.maxInputTokens > 0 && m.maxOutputTokens > 0));
});

test('request messages keep their roles and text parts; other parts and empty messages go', () => {
  assert.deepEqual(
    toChatMessages([
      { role: 3, content: [{ value: 'Be brief.' }] },
      { role: 1, content: [{ value: 'Hi ' }, { value: 'there' }, { callId: 'x', input: {} }] },
      { role: 2, content: [{ value: 'Hello.' }] },
      { role: 1, content: [{ data: new Uint8Array(1), mimeType: 'image/png' }] },
    ]),
    [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: 'Hello.' },
    ],
  );
});

test('the participant learns who answered its request; a fallback gets a note, others none', () => {
  const answers = new Answers();
  answers.record({ modelOptions: { [ANSWER_KEY]: 'k1' } }, { model: 'claude-sonnet-4-5', fallbackFrom: 'gpt-4o' });
  answers.record({ modelOptions: { [ANSWER_KEY]: 'k2' } }, { model: 'gpt-4o' });
  answers.record({}, { model: 'not-ours', fallbackFrom: 'x' });
  answers.record(undefined, { model: 'not-ours' });
  const first = answers.take('k1');
  assert.deepEqual(first, { model: 'claude-sonnet-4-5', fallbackFrom: 'gpt-4o' });
  assert.equal(answers.take('k1'), undefined, 'taken once');
  assert.equal(
    fallbackNote(first),
    '\n\n*Answered by claude-sonnet-4-5, fallback from gpt-4o (it failed before any output; `models.fallback.chat`).*',
  );
  assert.equal(fallbackNote(answers.take('k2')), undefined);
  assert.equal(fallbackNote(undefined), undefined);
});

test('answers nobody came back for do not pile up', () => {
  const answers = new Answers();
  for (let i = 0; i < 100; i += 1) {
    answers.record({ modelOptions: { [ANSWER_KEY]: `k${i}` } }, { model: 'm' });
  }
  assert.equal(answers.take('k0'), undefined, 'the oldest went');
  assert.deepEqual(answers.take('k99'), { model: 'm', fallbackFrom: undefined });
});
