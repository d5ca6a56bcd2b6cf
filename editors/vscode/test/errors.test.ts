import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeError, errorData, isCancelled, needsSignIn } from '../src/errors';

const authError = {
  code: -32803,
  message: 'The gateway rejected the token (401): run "ardaemon login" or sign in again.',
  data: { kind: 'auth', status: 401 },
};

test("RequestFailed errors keep the daemon's sentence and kind", () => {
  assert.equal(describeError(authError), authError.message);
  assert.deepEqual(errorData(authError), { kind: 'auth', status: 401 });
  assert.equal(needsSignIn(authError), true);
  assert.equal(needsSignIn({ ...authError, data: { kind: 'unauthorized_client' } }), false);
});

test('cancellation is recognised by its code', () => {
  assert.equal(isCancelled({ code: -32800, message: 'cancelled' }), true);
  assert.equal(isCancelled(authError), false);
  assert.equal(isCancelled(new Error('x')), false);
});

test('anything else still gives a message', () => {
  assert.equal(describeError(new Error('boom')), 'boom');
  assert.equal(describeError('plain'), 'plain');
  assert.deepEqual(errorData(undefined), {});
  assert.deepEqual(errorData({ code: 1, message: 'm', data: 'text' }), {});
});
