// The daemon's own definitions, read from the Python sources by the daemon's interpreter, so
// drift tests compare with the truth rather than a copy of it.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..', '..');

const DUMP = `
import json, sys, msgspec
import ardaemon.protocol as p, ardaemon.errors as e, ardaemon.settings as c, ardaemon.messages as m

def keys(struct, prefix=""):
    out = []
    for f in msgspec.structs.fields(struct):
        name = prefix + f.encode_name
        t = f.type
        if isinstance(t, type) and issubclass(t, msgspec.Struct):
            out += keys(t, name + ".")
        elif name == "completion.languages":
            # A table: the allow/deny lists, and <languageId>.model presets.
            out += [name + "." + k for k in c.LANGUAGE_LISTS]
        else:
            out.append(name)
    return out

def default(name):
    if name.startswith("completion.languages."):
        return []  # the allow/deny lists of an empty languages table
    node = msgspec.to_builtins(c.Settings())
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node

sys.path.insert(0, "tests")
from advice import samples  # one error per sentence of messages.py

shapes = {n: [f.encode_name for f in msgspec.structs.fields(t)]
          for n, t in vars(p).items()
          if isinstance(t, type) and issubclass(t, msgspec.Struct)
          and t.__module__ == p.__name__ and t is not p.Wire}
print(json.dumps({
    "methods": p.METHODS,
    "protocolVersion": p.PROTOCOL_VERSION,
    "codes": {"InvalidParams": p.INVALID_PARAMS, "RequestFailed": p.REQUEST_FAILED,
              "RequestCancelled": p.REQUEST_CANCELLED},
    "kinds": list(e.KINDS),
    "shapes": shapes,
    "settings": keys(c.Settings),
    "defaults": {key: default(key) for key in keys(c.Settings)},
    "messages": {key: {"kind": kind, "message": message}
                 for key, (kind, message) in samples(m.frontend_of("Visual Studio Code")).items()},
    "commands": {name: spelled["vscode"] for name, spelled in m.COMMANDS.items()},
}))
`;

export interface DaemonDefinitions {
  methods: Record<string, string>;
  protocolVersion: number;
  codes: Record<string, number>;
  kinds: string[];
  shapes: Record<string, string[]>;
  settings: string[];
  /** Each setting's built-in default (null when unset). */
  defaults: Record<string, unknown>;
  /** A sentence per `kind` or `kind/reason`, as the daemon renders it for VS Code. */
  messages: Record<string, { kind: string; message: string }>;
  /** The commands the daemon's messages name, in VS Code's words. */
  commands: Record<string, string>;
}

function pythons(): string[] {
  const fromEnv = process.env['ARDAEMON_PYTHON'];
  const venv = path.join(REPO, '.venv', 'bin', 'python');
  return [fromEnv, fs.existsSync(venv) ? venv : undefined, 'python3'].filter((p): p is string => !!p);
}

let cached: DaemonDefinitions | string | undefined;

/** The definitions, or a string saying why they could not be read. */
function daemonDefinitions(): DaemonDefinitions | string {
  if (cached !== undefined) {
    return cached;
  }
  const failures: string[] = [];
  for (const python of pythons()) {
    const run = spawnSync(python, ['-c', DUMP], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: REPO },
      timeout: 60_000,
    });
    if (run.status === 0) {
      cached = JSON.parse(run.stdout) as DaemonDefinitions;
      return cached;
    }
    failures.push(`${python}: ${(run.stderr || String(run.error)).trim().split('\n').pop()}`);
  }
  cached = `cannot import the daemon's contract (${failures.join('; ')}); run ./scripts/setup`;
  return cached;
}

/** The definitions; the calling test fails, saying why, when they cannot be read. */
export function defs(): DaemonDefinitions {
  const d = daemonDefinitions();
  if (typeof d === 'string') {
    assert.fail(d);
  }
  return d;
}
