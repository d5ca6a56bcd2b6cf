import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROTOCOL_VERSION } from '../src/protocol';
import { CLIENT_EXPERIMENTAL, daemonProtocolVersion, protocolMismatch } from '../src/versionCheck';

const result = (protocolVersion?: unknown) => ({
  capabilities: protocolVersion === undefined ? {} : { experimental: { ardaemon: { protocolVersion } } },
  serverInfo: { name: 'ardaemon', version: '9.9.9' },
});

test('the extension announces the version it was built for', () => {
  assert.deepEqual(CLIENT_EXPERIMENTAL, { ardaemon: { protocolVersion: PROTOCOL_VERSION } });
});

test('same version: nothing to say', () => {
  assert.equal(protocolMismatch(result(PROTOCOL_VERSION), '/x/ardaemon', false), undefined);
});

test('a daemon from before versioning counts as protocol 0 and is to be updated', () => {
  assert.equal(daemonProtocolVersion(result()), 0);
  assert.equal(daemonProtocolVersion(result('1')), 0);
  const message = protocolMismatch(result(), '/x/ardaemon', false);
  assert.match(message ?? '', /the daemon \/x\/ardaemon \(ardaemon 9\.9\.9\) speaks protocol 0/);
  assert.match(message ?? '', /clear ardaemon\.serverPath/);
  assert.match(protocolMismatch(result(), '/b/ardaemon', true) ?? '', /Reinstall the ardaemon extension/);
});

test('a newer daemon: update the extension', () => {
  assert.match(
    protocolMismatch(result(PROTOCOL_VERSION + 1), 'ardaemon', false) ?? '',
    /Update the ardaemon extension\./,
  );
});
