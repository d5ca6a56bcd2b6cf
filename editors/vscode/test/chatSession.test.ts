import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatSession, newProgressToken, speaker } from '../src/chatSession';

const result = (content: string) => ({ content, model: 'glm-4.6', api: 'openai' as const, stopReason: 'end_turn' });

test('a question becomes params with the progress token; deltas build the reply', () => {
  const s = new ChatSession();
  const params = s.ask('  hello  ', { token: 'tok-1' });
  assert.deepEqual(params, { messages: [{ role: 'user', content: 'hello' }], partialResultToken: 'tok-1' });
  assert.equal(s.busy, true);
  assert.equal(s.delta('Hi'), 'Hi');
  assert.equal(s.delta(' there'), 'Hi there');
  const turn = s.finish(result('Hi there'));
  assert.equal(turn?.state, 'done');
  assert.equal(turn?.model, 'glm-4.6');
  assert.equal(s.busy, false);
});

test('the final result wins over what streamed', () => {
  const s = new ChatSession();
  s.ask('q', { token: 1 });
  s.delta('partial');
  assert.equal(s.finish(result('the whole reply'))?.content, 'the whole reply');
});

test('history holds only finished exchanges; a model is passed on when given', () => {
  const s = new ChatSession();
  s.ask('one', { token: 1 });
  s.finish(result('first'));
  s.ask('two', { token: 2 });
  s.delta('half');
  s.stop();
  s.ask('three', { token: 3 });
  s.fail('The gateway is overloaded (529): try again in a moment.');
  const params = s.ask('four', { token: 4, model: 'gpt-5' });
  assert.deepEqual(params.messages, [
    { role: 'user', content: 'one' },
    { role: 'assistant', content: 'first' },
    { role: 'user', content: 'four' },
  ]);
  assert.equal(params.model, 'gpt-5');
  assert.deepEqual(
    s.turns.map((t) => t.state ?? t.role),
    ['user', 'done', 'user', 'stopped', 'user', 'error', 'user', 'streaming'],
  );
  assert.match(s.turns[5]!.error ?? '', /overloaded/);
});

test('one reply at a time; empty questions are refused', () => {
  const s = new ChatSession();
  assert.throws(() => s.ask('  ', { token: 1 }));
  s.ask('q', { token: 1 });
  assert.throws(() => s.ask('again', { token: 2 }), /still streaming/);
});

test('late deltas and results after Stop change nothing', () => {
  const s = new ChatSession();
  s.ask('q', { token: 1 });
  s.delta('a');
  s.stop();
  assert.equal(s.delta('b'), '');
  assert.equal(s.finish(result('ab')), undefined);
  assert.equal(s.turns[1]!.content, 'a');
  assert.equal(s.turns[1]!.state, 'stopped');
});

test('clear empties the transcript', () => {
  const s = new ChatSession();
  s.ask('q', { token: 1 });
  s.clear();
  assert.equal(s.turns.length, 0);
  assert.equal(s.busy, false);
});

test('progress tokens are unique', () => {
  const tokens = new Set([newProgressToken(1), newProgressToken(1), newProgressToken(2)]);
  assert.equal(tokens.size, 3);
});

test('a reply from the fallback chain is headed with the model that answered and the one asked', () => {
  const s = new ChatSession();
  s.ask('q', { token: 1 });
  assert.equal(speaker(s.turns[1]!), 'ardaemon', 'streaming: no model known yet');
  const turn = s.finish({ ...result('a'), model: 'claude-sonnet-4-5', fallbackFrom: 'gpt-4o' });
  assert.equal(turn?.fallbackFrom, 'gpt-4o');
  assert.equal(speaker(turn!), 'claude-sonnet-4-5 (fallback from gpt-4o)');
  assert.equal(speaker(s.turns[0]!), 'You');
  s.ask('again', { token: 2 });
  assert.equal(speaker(s.finish(result('b'))!), 'glm-4.6', 'no fallback: the model alone');
});
