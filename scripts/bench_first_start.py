"""First start of the bundled daemon: what the VS Code extension does once per install.

The same two commands as editors/vscode/src/serverInstall.ts (`python -m venv`, then pip
offline from the VSIX's wheelhouse), timed per CPython found on PATH (python3.10 … python3.13),
plus the daemon's first `--version` from the new venv. Needs build/wheelhouse/<this machine>
(`scripts/package-vsix --wheelhouse-only`). Prints a table; a second run of a start (venv
reused) costs nothing but a stat, so it is not measured.

Usage: .venv/bin/python scripts/bench_first_start.py [--runs 3] [--python /path/to/python3.12 ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

spec = importlib.util.spec_from_file_location("package_vsix", ROOT / "scripts" / "package-vsix.py")
assert spec and spec.loader
package_vsix = importlib.util.module_from_spec(spec)
spec.loader.exec_module(package_vsix)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", action="append", help="default: python3.10 … on PATH")
    args = parser.parse_args()
    house = ROOT / "build" / "wheelhouse" / package_vsix.host_target()
    wheels = sorted(house.glob("ardaemon-*.whl"))
    if not wheels:
        sys.exit(f"no wheelhouse at {house}: run scripts/package-vsix --wheelhouse-only")
    version = wheels[-1].name.split("-")[1]
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    print(
        f"{'python':<8} {'venv s':>7} {'install s':>10} {'--version s':>12} {'total s':>8}  (median of {args.runs})"
    )
    pythons = args.python or [f"python{minor}" for minor in package_vsix.PYTHONS]
    for python in pythons:
        probe = (
            subprocess.run(
                [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
            )
            if shutil.which(python)
            else None
        )
        if not probe or probe.returncode != 0:
            print(f"{python:<8} (does not run)")
            continue
        minor = probe.stdout.strip()
        rows: list[tuple[float, float, float]] = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                venv = Path(tmp) / "venv"
                made = timed([python, "-m", "venv", str(venv)], env)
                installed = timed(
                    [
                        *(str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index"),
                        *("--find-links", str(house), "--disable-pip-version-check"),
                        *("--no-input", "--quiet", f"ardaemon=={version}"),
                    ],
                    env,
                )
                first = timed([str(venv / "bin" / "ardaemon"), "--version"], env)
                rows.append((made, installed, first))
        made, installed, first = sorted(rows, key=sum)[len(rows) // 2]
        total = made + installed + first
        print(f"{minor:<8} {made:7.1f} {installed:10.1f} {first:12.2f} {total:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
