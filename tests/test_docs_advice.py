"""Advice the project gives works: no package-index install of a name no index serves, no
plugin-manager snippet that names a repository that may not exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: `pip install ardaemon`, `pipx install ardaemon`, `pip install -U ardaemon`, `pipx reinstall
#: ardaemon` (a path such as `/path/to/ardaemon` or `.` is fine: it installs a checkout).
INDEX_INSTALL = re.compile(
    r"\bpipx? (?:re)?install (?:-U |--upgrade |--force )*ardaemon\b(?![/\w.-])"
)
#: `use { 'owner/ardaemon' …` or `{ 'owner/ardaemon' …`: a guessed GitHub repository.
GUESSED_REPO = re.compile(
    r"""(?:use\s*\{?\s*|^\s*\{\s*)['"][\w.-]+/ardaemon(?:\.nvim)?['"]""", re.M
)


def tracked_text_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "*.md", "*.txt", "*.lua", "*.py", "*.ts", "*.json", "*.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / p for p in out if not p.startswith("tests/test_docs_advice")]


def found(pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in tracked_text_files()
        for m in pattern.finditer(p.read_text(errors="ignore"))
    ]


@pytest.mark.subprocess  # git ls-files
def test_no_advice_to_install_from_a_package_index() -> None:
    assert not found(INDEX_INSTALL)


@pytest.mark.subprocess  # git ls-files
def test_no_plugin_snippet_names_a_guessed_repository() -> None:
    assert not found(GUESSED_REPO)


def test_the_patterns_catch_what_they_are_for() -> None:
    assert INDEX_INSTALL.search("run `pip install ardaemon`")
    assert INDEX_INSTALL.search("pipx reinstall ardaemon")
    assert INDEX_INSTALL.search("pip install -U ardaemon")
    assert not INDEX_INSTALL.search("pipx install /path/to/ardaemon")
    assert GUESSED_REPO.search("use { 'ardaemon/ardaemon', rtp = 'editors/nvim' }")
    assert not GUESSED_REPO.search("use { '~/src/ardaemon', rtp = 'editors/nvim' }")
