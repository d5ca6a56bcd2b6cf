"""The console sessions in README.md and docs/cli.md are real: each runs against the gateway
stand-in, in a terminal (a pty, as a user sees it), and must print what the docs show, modulo
the port, the home directory, timings and the Python/package versions of this machine.

Conventions in the docs: blocks run in order in one fresh home (`/home/me`); `$ cat FILE` shows
a file the session uses (the test writes it first); a comment naming `--fault NAME` runs that
command against a stand-in started with that flag; a line `…` stands for any lines.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from test_cli import run_in_pty

from ardaemon.gateway import DEFAULT_TOKEN, Gateway, isolated_env

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "cli.md"]
DOC_HOME = "/home/me"
DOC_URL = "http://127.0.0.1:8765"
BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def sessions(doc: Path) -> list[tuple[str, list[str]]]:
    """Every `$ command` of the doc's console blocks, with the lines the doc shows after it."""
    out: list[tuple[str, list[str]]] = []
    for block in BLOCK.findall(doc.read_text("utf-8")):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
    return [(cmd, _trim(lines)) for cmd, lines in out]


def _trim(lines: list[str]) -> list[str]:
    while lines and lines[-1] == "":  # a line of spaces is content (`cat fib.py`)
        lines = lines[:-1]
    return lines


def normalize(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = re.sub(r"\(\d+ ms\)", "(N ms)", line.rstrip())
        line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:8765", line)
        line = re.sub(r"(?<=\S) {2,}", "  ", line)  # table columns move with the port's width
        if re.match(r"[✓✗] (python|packages) ", line):
            line = re.sub(r"\d+(\.\d+)+\S*", "V", line)
            line = re.sub(r" at /\S+", " at PYTHON", line)
        out.append(line)
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """`…` in the docs stands for any number of lines (also at the end of a line's text)."""
    if not expected:
        return not actual
    head, *rest = expected
    if head.strip() == "…":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    if not actual:
        return False
    ok = actual[0].startswith(head[:-1].rstrip(", ")) if head.endswith("…") else head == actual[0]
    return ok and matches(rest, actual[1:])


def run_in_terminal(command: str, env: dict[str, str], cwd: Path) -> list[str]:
    """Run `command` with bash in a pty; type the stand-in's token at a hidden prompt."""
    _, shown = run_in_pty([], env, DEFAULT_TOKEN, argv=["/bin/bash", "-c", command], cwd=cwd)
    text = ANSI.sub("", shown).replace("\r\n", "\n")
    # What a terminal keeps of a line a spinner rewrote: the text after the last \r.
    return _trim([line.rsplit("\r", 1)[-1] for line in text.split("\n")])


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_documented_sessions_are_real(doc: Path, tmp_path: Path) -> None:
    steps = sessions(doc)
    assert steps, f"no console sessions in {doc}"
    home, work, bin_dir = tmp_path / "me", tmp_path / "work", tmp_path / "bin"
    for d in (home, work, bin_dir):
        d.mkdir()
    shim = bin_dir / "ardaemon"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ardaemon "$@"\n')
    shim.chmod(0o755)
    with Gateway(DEFAULT_TOKEN) as gateway:
        # The platform's default dirs under this HOME, as in the docs; no provider variable
        # (token, base URL) of the developer's.
        env: dict[str, Any] = {
            k: v
            for k, v in isolated_env(home).items()
            if not k.startswith(("XDG_", "ARDAEMON_", "PYTHON_KEYRING"))
        }
        env.update(
            HOME=str(home),
            PATH=f"{bin_dir}:{os.environ['PATH']}",
            AGENTROUTER_BASE_URL=gateway.base_url,
            # A machine without a keychain (headless Linux): tokens go to the 0600 file.
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
            NO_COLOR="1",
            TERM="xterm",
        )
        for command, shown in steps:
            if shows := re.fullmatch(r"cat (\S+)", command):
                (work / shows[1]).write_text("\n".join(shown) + "\n")
            faults = re.findall(r"--fault (\w+)", command.partition("#")[2])
            for name in faults:
                gateway.set_fault(name)
            try:
                actual = run_in_terminal(command.partition("  #")[0], env, work)
            finally:
                gateway.clear_faults()
            actual = [line.replace(str(home), DOC_HOME) for line in actual]
            expected, got = normalize(shown), normalize(actual)
            assert matches(expected, got), f"{doc.name}: `$ {command}` printed:\n" + "\n".join(
                actual
            )
