import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  ensureServer,
  type EnsureOptions,
  findPython,
  InstallError,
  type Manifest,
  type Probe,
  probePython,
  pythonCandidates,
  venvLayout,
} from '../src/serverInstall';

const SUPPORTED = ['3.10', '3.11', '3.12', '3.13'];

test('the Python extension comes first, then PATH (py -3 on Windows)', () => {
  assert.deepEqual(pythonCandidates('linux', '/envs/a/bin/python'), [['/envs/a/bin/python'], ['python3'], ['python']]);
  assert.deepEqual(pythonCandidates('darwin'), [['python3'], ['python']]);
  assert.deepEqual(pythonCandidates('win32'), [['py', '-3'], ['python'], ['python3']]);
});

test('venv layout per platform', () => {
  assert.equal(venvLayout('/s', 'linux').ardaemon, path.join('/s', 'venv', 'bin', 'ardaemon'));
  assert.equal(venvLayout('/s', 'win32').ardaemon, path.join('/s', 'venv', 'Scripts', 'ardaemon.exe'));
});

test('findPython skips unsupported versions and Pythons without venv, and says what to install', async () => {
  const probes: Record<string, Probe | string> = {
    a: { version: [3, 9], executable: '/a', venv: true },
    b: { version: [3, 12], executable: '/b', venv: false },
    c: 'not found',
    d: { version: [3, 12], executable: '/d', venv: true },
  };
  const probe = async (cmd: string[]) => probes[cmd[0]!]!;
  assert.equal((await findPython([['a'], ['b'], ['c'], ['d']], SUPPORTED, 'linux', probe)).executable, '/d');
  await assert.rejects(findPython([['a'], ['b'], ['c']], SUPPORTED, 'linux', probe), (err: unknown) => {
    assert.ok(err instanceof InstallError);
    assert.match(err.message, /a: Python 3\.9 \(the bundled daemon has wheels for 3\.10, 3\.11, 3\.12, 3\.13\)/);
    assert.match(err.message, /b: Python 3\.12 without venv/);
    assert.match(err.message, /c: not found/);
    assert.match(err.message, /sudo apt install python3 python3-venv/);
    return true;
  });
  await assert.rejects(findPython([], SUPPORTED, 'win32', probe), /python\.org/);
});

test('probePython runs a real interpreter and reports a missing one', async () => {
  const found = await probePython(['python3']);
  assert.ok(typeof found !== 'string', String(found));
  assert.equal(found.version[0], 3);
  assert.equal(typeof (await probePython(['/nonexistent/python3'])), 'string');
});

/** A wheelhouse with one tiny `ardaemon` wheel whose console script prints its version. */
function fakeBundle(dir: string, version: string): Manifest {
  const wheels = path.join(dir, 'server', 'wheels');
  fs.mkdirSync(wheels, { recursive: true });
  const script = `
import base64, hashlib, sys, zipfile
out, version = sys.argv[1], sys.argv[2]
name = f"ardaemon-{version}"
files = {
    "ardaemon_fake.py": "def main():\\n    print('fake ardaemon ' + __import__('importlib.metadata').metadata.version('ardaemon'))\\n",
    f"{name}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: ardaemon\\nVersion: {version}\\n",
    f"{name}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    f"{name}.dist-info/entry_points.txt": "[console_scripts]\\nardaemon = ardaemon_fake:main\\n",
}
record = []
with zipfile.ZipFile(f"{out}/{name}-py3-none-any.whl", "w") as z:
    for path, text in files.items():
        data = text.encode()
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{name}.dist-info/RECORD,,")
    z.writestr(f"{name}.dist-info/RECORD", "\\n".join(record) + "\\n")
`;
  const made = spawnSync('python3', ['-c', script, wheels, version], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return { version, target: 'test', pythons: SUPPORTED, requirement: `ardaemon==${version}`, build: `b-${version}` };
}

test('installs offline into a private venv once, reuses it, and rebuilds it for a new build', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ardaemon-install-'));
  try {
    const installs: string[] = [];
    const options = (extensionPath: string, manifest: Manifest): EnsureOptions => ({
      extensionPath,
      extensionVersion: manifest.version,
      storageDir: path.join(root, 'storage'),
      platform: process.platform,
      manifest,
      log: () => undefined,
      installing: async (work) => {
        installs.push(manifest.version);
        return work(() => undefined);
      },
    });
    const v1 = path.join(root, 'ext-1');
    const first = await ensureServer(options(v1, fakeBundle(v1, '0.0.1')));
    assert.ok(first.installSeconds !== undefined, 'first start installs');
    const run = spawnSync(first.command, [], { encoding: 'utf8' });
    assert.equal(run.stdout.trim(), 'fake ardaemon 0.0.1', run.stderr);

    const again = await ensureServer(options(v1, fakeBundle(v1, '0.0.1')));
    assert.equal(again.installSeconds, undefined, 'a later start reuses the venv');
    assert.deepEqual(installs, ['0.0.1']);

    const v2 = path.join(root, 'ext-2');
    const updated = await ensureServer(options(v2, fakeBundle(v2, '0.0.2')));
    assert.ok(updated.installSeconds !== undefined, 'an update rebuilds');
    assert.equal(spawnSync(updated.command, [], { encoding: 'utf8' }).stdout.trim(), 'fake ardaemon 0.0.2');
    assert.deepEqual(installs, ['0.0.1', '0.0.2']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
