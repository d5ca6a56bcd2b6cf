import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDaemonLine } from '../src/logs';

test("the daemon's level is kept and its timestamp dropped", () => {
  assert.deepEqual(parseDaemonLine('2026-11-25 06:44:42,382 INFO ardaemon.server: stdin closed; exiting', undefined), {
    level: 'info',
    text: 'ardaemon.server: stdin closed; exiting',
  });
  assert.equal(
    parseDaemonLine('2026-11-25 06:44:42,382 WARNING ardaemon.config: unknown setting', undefined).level,
    'warn',
  );
  assert.equal(parseDaemonLine('2026-11-25 06:44:42,382 ERROR ardaemon.server: boom', 'info').level, 'error');
  assert.equal(parseDaemonLine('2026-11-25 06:44:42,382 DEBUG x: y', undefined).level, 'debug');
});

test('continuation lines keep the level before them; stray lines are errors', () => {
  assert.deepEqual(parseDaemonLine('  File "x.py", line 1', 'warn'), { level: 'warn', text: '  File "x.py", line 1' });
  assert.equal(parseDaemonLine('Traceback (most recent call last):', undefined).level, 'error');
});
