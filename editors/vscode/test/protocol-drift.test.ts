// protocol.ts mirrors ardaemon/protocol.py (and errors.py): fail when they drift.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES, ERROR_KINDS, METHODS, NOTIFICATIONS, PROTOCOL_VERSION, REQUESTS, SHAPES } from '../src/protocol';
import { defs, REPO } from './daemon';

test('method names match ardaemon/protocol.py METHODS', () => {
  assert.deepEqual({ ...METHODS }, defs().methods);
});

test('protocol version matches ardaemon/protocol.py PROTOCOL_VERSION', () => {
  assert.equal(PROTOCOL_VERSION, defs().protocolVersion);
});

test('error codes match', () => {
  assert.deepEqual({ ...ERROR_CODES }, defs().codes);
});

test('error kinds match ardaemon/errors.py KINDS, in order', () => {
  assert.deepEqual([...ERROR_KINDS], defs().kinds);
});

test('every shape has the same fields as its Struct', () => {
  const theirs = defs().shapes;
  const ours = Object.fromEntries(Object.entries(SHAPES).map(([name, fields]) => [name, [...fields]]));
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), 'the same shapes exist');
  for (const [name, fields] of Object.entries(theirs)) {
    assert.deepEqual(ours[name], fields, `fields of ${name}`);
  }
});

test('method names live only in protocol.ts', () => {
  const src = path.join(REPO, 'editors', 'vscode', 'src');
  for (const file of fs.readdirSync(src)) {
    if (file === 'protocol.ts') {
      continue;
    }
    const text = fs.readFileSync(path.join(src, file), 'utf8');
    for (const name of Object.values(METHODS)) {
      assert.ok(!text.includes(`'${name}'`) && !text.includes(`"${name}"`), `${file} spells ${name}`);
    }
  }
});

test('every custom method has one typed object under its own name', () => {
  const typed = { ...REQUESTS, ...NOTIFICATIONS };
  for (const [name, type] of Object.entries(typed)) {
    assert.equal(type.method, METHODS[name as keyof typeof METHODS], name);
  }
  // textDocument/inlineCompletion is the language client's own feature.
  const custom = Object.keys(METHODS).filter((name) => name !== 'inlineCompletion');
  assert.deepEqual(Object.keys(typed).sort(), custom.sort());
});
