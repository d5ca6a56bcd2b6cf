"""The two test layers: a test not marked `subprocess` cannot start a process or open a
network socket (conftest's guard), so `scripts/check`'s unit layer stays in process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest
from conftest import WHOLE_MODULE, pytest_collection_modifyitems

REFUSED = "not marked `subprocess`"


def test_an_unmarked_test_cannot_start_a_process() -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    with pytest.raises(AssertionError, match=REFUSED):
        os.posix_spawn(sys.executable, [sys.executable, "-c", "pass"], os.environ)
    with pytest.raises(AssertionError, match=REFUSED):
        os.system("true")

    async def spawn() -> None:
        await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")

    with pytest.raises(AssertionError, match=REFUSED):
        asyncio.run(spawn())


def test_an_unmarked_test_cannot_use_the_network() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match=REFUSED):
        sock.bind(("127.0.0.1", 0))
    with pytest.raises(AssertionError, match=REFUSED):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    left, right = socket.socketpair()  # what an event loop wakes itself with: allowed
    left.close()
    right.close()


@pytest.mark.subprocess
def test_a_marked_test_can() -> None:
    assert subprocess.run([sys.executable, "-c", "pass"], check=True).returncode == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))


def test_a_process_fixture_marks_its_test() -> None:
    class Item:
        def __init__(self, *fixturenames: str) -> None:
            self.fixturenames = fixturenames
            self.marks: list[str] = []

        def add_marker(self, mark: pytest.MarkDecorator) -> None:
            self.marks.append(mark.name)

    daemon, gateway, plain = Item("home", "daemon"), Item("gateway"), Item("home", "tmp_path")
    pytest_collection_modifyitems([daemon, gateway, plain])  # type: ignore[list-item]
    assert (daemon.marks, gateway.marks, plain.marks) == (["subprocess"], ["subprocess"], [])


def test_whole_module_marks_are_recognised() -> None:
    assert WHOLE_MODULE.search('"""doc"""\n\npytestmark = pytest.mark.subprocess\n')
    assert WHOLE_MODULE.search("pytestmark = [pytest.mark.subprocess, pytest.mark.x]\n")
    assert not WHOLE_MODULE.search("@pytest.mark.subprocess\ndef test_one() -> None: ...\n")
    assert not WHOLE_MODULE.search("pytestmark = pytest.mark.subprocessing\n")
