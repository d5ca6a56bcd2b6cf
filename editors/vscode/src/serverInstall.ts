// The daemon bundled in the VSIX (scripts/package-vsix): a wheelhouse under server/ that is
// installed offline into a private venv in the extension's global storage on first start.
// Later starts reuse the venv; a new extension build (another manifest) rebuilds it.
// No `vscode` import: unit-tested under plain Node; bundledServer.ts is the editor's side.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Manifest {
  version: string;
  target: string;
  /** CPython minor versions the wheelhouse has compiled wheels for, e.g. ["3.10", …]. */
  pythons: string[];
  requirement: string;
  build: string;
}

/** The bundle's manifest, or undefined when this VSIX carries no daemon (a developer build). */
export function readManifest(extensionPath: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(extensionPath, 'server', 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

export interface Venv {
  dir: string;
  python: string;
  ardaemon: string;
  stamp: string;
}

export function venvLayout(storageDir: string, platform: NodeJS.Platform): Venv {
  const dir = path.join(storageDir, 'venv');
  const bin = platform === 'win32' ? path.join(dir, 'Scripts') : path.join(dir, 'bin');
  const exe = platform === 'win32' ? '.exe' : '';
  return {
    dir,
    python: path.join(bin, `python${exe}`),
    ardaemon: path.join(bin, `ardaemon${exe}`),
    stamp: path.join(dir, 'ardaemon-bundle.json'),
  };
}

interface Stamp {
  extension: string;
  build: string;
  /** The interpreter the venv was made from: gone (uninstalled, upgraded) means rebuild. */
  basePython: string;
}

/** Ways to run a Python, best first: the Python extension's choice, then PATH. */
export function pythonCandidates(platform: NodeJS.Platform, fromPythonExtension?: string): string[][] {
  const fromPath = platform === 'win32' ? [['py', '-3'], ['python'], ['python3']] : [['python3'], ['python']];
  return fromPythonExtension ? [[fromPythonExtension], ...fromPath] : fromPath;
}

// One line of JSON: the version, the real executable, and whether `-m venv` will work
// (Debian and Ubuntu ship venv's ensurepip in a separate package, python3-venv).
const PROBE =
  'import json, sys, importlib.util as u; print(json.dumps({"version": list(sys.version_info[:2]), ' +
  '"executable": sys.executable, "venv": all(u.find_spec(m) for m in ("venv", "ensurepip"))}))';

export interface Probe {
  version: [number, number];
  executable: string;
  venv: boolean;
}

function exec(
  cmd: string[],
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd[0]!,
      cmd.slice(1),
      { timeout: timeoutMs, env, maxBuffer: 8 << 20, windowsHide: true },
      (err, stdout, stderr) =>
        resolve({ ok: !err, stdout: String(stdout), stderr: err && !stderr ? String(err.message) : String(stderr) }),
    );
  });
}

export async function probePython(cmd: string[]): Promise<Probe | string> {
  const run = await exec([...cmd, '-c', PROBE], 20_000);
  if (!run.ok) {
    return run.stderr.trim().split('\n').pop() || 'did not run';
  }
  try {
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as Probe;
  } catch {
    return `unexpected output: ${run.stdout.trim().slice(0, 200)}`;
  }
}

export class InstallError extends Error {}

/** What to install when no usable Python was found, per platform. */
export function pythonAdvice(platform: NodeJS.Platform, supported: string[]): string {
  const range = `${supported[0]}–${supported[supported.length - 1]}`;
  switch (platform) {
    case 'win32':
      return `Install Python ${range} from python.org or the Microsoft Store (it provides \`py -3\`).`;
    case 'darwin':
      return `Install Python ${range}: \`brew install python@${supported[supported.length - 1]}\` or the python.org installer.`;
    default:
      return `Install Python ${range} with venv, e.g. \`sudo apt install python3 python3-venv\` (Debian, Ubuntu) or \`sudo dnf install python3\` (Fedora).`;
  }
}

/** The first candidate that is a supported CPython with a working venv, or InstallError. */
export async function findPython(
  candidates: string[][],
  supported: string[],
  platform: NodeJS.Platform,
  probe: (cmd: string[]) => Promise<Probe | string> = probePython,
): Promise<Probe> {
  const tried: string[] = [];
  for (const cmd of candidates) {
    const found = await probe(cmd);
    const name = cmd.join(' ');
    if (typeof found === 'string') {
      tried.push(`${name}: ${found}`);
      continue;
    }
    const version = found.version.join('.');
    if (!supported.includes(version)) {
      tried.push(`${name}: Python ${version} (the bundled daemon has wheels for ${supported.join(', ')})`);
    } else if (!found.venv) {
      tried.push(
        `${name}: Python ${version} without venv/ensurepip (Debian, Ubuntu: \`sudo apt install python3-venv\`)`,
      );
    } else {
      return found;
    }
  }
  throw new InstallError(
    `ardaemon needs Python ${supported[0]} or newer to run its bundled daemon, and found none it can use ` +
      `(tried ${tried.join('; ')}). ${pythonAdvice(platform, supported)} Then run "ardaemon: Restart Daemon".`,
  );
}

export interface EnsureOptions {
  extensionPath: string;
  extensionVersion: string;
  storageDir: string;
  platform: NodeJS.Platform;
  manifest: Manifest;
  /** The Python extension's interpreter, when that extension is installed and has one
   * (asked only when installing: activating that extension is not free). */
  pythonFromExtension?: () => Promise<string | undefined>;
  log: (line: string) => void;
  /** Called once, before a (slow) install starts; `step` reports its progress. */
  installing: <T>(work: (step: (message: string) => void) => Promise<T>) => Promise<T>;
}

export interface Ensured {
  command: string;
  /** Seconds spent creating the venv and installing, or undefined when it was reused. */
  installSeconds?: number;
  python?: string;
}

function readStamp(file: string): Stamp | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

function reusable(venv: Venv, opts: EnsureOptions): boolean {
  const stamp = readStamp(venv.stamp);
  return (
    stamp !== undefined &&
    stamp.extension === opts.extensionVersion &&
    stamp.build === opts.manifest.build &&
    fs.existsSync(stamp.basePython) &&
    fs.existsSync(venv.ardaemon)
  );
}

const LOCK_STALE_MS = 10 * 60_000;

/**
 * Another window may be installing into the same global storage: one installs, the others
 * wait for it (a lock directory; mkdir is atomic). A lock older than 10 minutes is stale.
 */
async function withLock<T>(storageDir: string, work: () => Promise<T>): Promise<T> {
  const lock = path.join(storageDir, 'install.lock');
  fs.mkdirSync(storageDir, { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw err;
      }
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) {
        fs.rmSync(lock, { recursive: true, force: true });
      } else {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** The bundled daemon's executable, installing it first when needed. Throws InstallError. */
export async function ensureServer(opts: EnsureOptions): Promise<Ensured> {
  const venv = venvLayout(opts.storageDir, opts.platform);
  if (reusable(venv, opts)) {
    return { command: venv.ardaemon };
  }
  return withLock(opts.storageDir, async () => {
    if (reusable(venv, opts)) {
      return { command: venv.ardaemon }; // another window finished it while we waited
    }
    const python = await findPython(
      pythonCandidates(opts.platform, await opts.pythonFromExtension?.()),
      opts.manifest.pythons,
      opts.platform,
    );
    opts.log(
      `installing the bundled daemon ${opts.manifest.version} with Python ${python.version.join('.')} (${python.executable}) into ${venv.dir}`,
    );
    const t0 = Date.now();
    await opts.installing(async (step) => {
      fs.rmSync(venv.dir, { recursive: true, force: true });
      step('creating a private Python environment');
      const made = await exec([python.executable, '-m', 'venv', venv.dir], 120_000);
      if (!made.ok) {
        throw new InstallError(`ardaemon: creating the daemon's environment failed: ${made.stderr.trim()}`);
      }
      step('installing the daemon (offline, from the extension)');
      const wheels = path.join(opts.extensionPath, 'server', 'wheels');
      const pip = [venv.python, '-m', 'pip', 'install', '--no-index', '--find-links', wheels];
      const installed = await exec(
        [...pip, '--disable-pip-version-check', '--no-input', '--quiet', opts.manifest.requirement],
        300_000,
        // The user's pip configuration (indexes, `user = true`, …) has no say in a private venv.
        { ...process.env, PIP_CONFIG_FILE: opts.platform === 'win32' ? 'nul' : '/dev/null' },
      );
      if (!installed.ok) {
        opts.log(installed.stderr);
        fs.rmSync(venv.dir, { recursive: true, force: true });
        throw new InstallError(
          `ardaemon: installing the bundled daemon failed (${installed.stderr.trim().split('\n').pop()}). ` +
            'See "ardaemon: Show Log", or set ardaemon.serverPath to a daemon you installed yourself.',
        );
      }
      const stamp: Stamp = {
        extension: opts.extensionVersion,
        build: opts.manifest.build,
        basePython: python.executable,
      };
      fs.writeFileSync(venv.stamp, JSON.stringify(stamp));
    });
    const installSeconds = (Date.now() - t0) / 1000;
    opts.log(`bundled daemon installed in ${installSeconds.toFixed(1)} s`);
    return { command: venv.ardaemon, installSeconds, python: python.executable };
  });
}
