"""scripts/lib.sh, which scripts/test, scripts/vscode-e2e and editors/nvim/scripts/lint share:
npm ci only when the lock file changed, a progress line per step, long output in a named log."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "scripts" / "lib.sh"


def bash(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` after sourcing lib.sh, with a fake `npm` that logs its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    npm = bin_dir / "npm"
    npm.write_text('#!/bin/sh\necho "$PWD $*" >> "$NPM_CALLS"\nmkdir -p node_modules\n')
    npm.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "NPM_CALLS": str(tmp_path / "npm-calls"),
    }
    env.pop("ARDAEMON_T0", None)
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; . {LIB}; {script}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )


def test_npm_ci_runs_only_when_the_lock_changes(tmp_path: Path) -> None:
    pkg = tmp_path / "ext"
    pkg.mkdir()
    (pkg / "package-lock.json").write_text('{"lockfileVersion": 3}')
    calls = tmp_path / "npm-calls"
    for _ in range(2):
        assert bash(f"npm_ci {pkg}", tmp_path).returncode == 0
    assert calls.read_text().splitlines() == [f"{pkg} ci --no-audit --no-fund --loglevel=error"]
    (pkg / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    done = bash(f"npm_ci {pkg}", tmp_path)
    assert done.returncode == 0
    assert len(calls.read_text().splitlines()) == 2
    assert "npm ci in" in done.stderr and "changed package-lock.json" in done.stderr


def test_step_prints_the_elapsed_time(tmp_path: Path) -> None:
    # A fixed clock: with the real one, a second boundary between the two reads gave 1:16.
    done = bash('date() { echo 1000075; }; ARDAEMON_T0=1000000; step "build code-server"', tmp_path)
    assert done.stderr == "==> [1:15] build code-server\n"


def test_logged_names_its_log_and_shows_the_tail_on_failure(tmp_path: Path) -> None:
    name = f"test-scripts-{os.getpid()}"
    log = ROOT / "artifacts" / "setup-logs" / f"{name}.log"
    try:
        ok = bash(f"logged {name} sh -c 'echo compiling; echo done'", tmp_path)
        assert ok.returncode == 0
        assert ok.stdout == "" and f"output: {log}" in ok.stderr
        assert log.read_text() == "compiling\ndone\n"
        bad = bash(f"logged {name} sh -c 'echo gyp ERR! build error; exit 3'", tmp_path)
        assert bad.returncode == 1
        assert (
            "gyp ERR! build error" in bad.stderr and f"the whole output is in {log}" in bad.stderr
        )
    finally:
        log.unlink(missing_ok=True)
