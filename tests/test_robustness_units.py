"""In-process checks: a secret is never written into a readable file; a dying stdin reader
ends input (so the daemon exits and is restarted) instead of leaving it deaf."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ardaemon import files, transport


def test_atomic_write_never_writes_into_a_stale_readable_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "credentials.json"
    stale = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    stale.write_bytes(b"left by a crash")
    stale.chmod(0o644)
    modes: list[int] = []
    real_fdopen = os.fdopen

    def spy(fd: int, *args: Any, **kwargs: Any) -> Any:
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(files.os, "fdopen", spy)
    files.atomic_write(target, b'{"token": "x"}', 0o600)
    assert modes and modes[0] & 0o077 == 0, f"secret written into a file of mode {modes[0]:o}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not stale.exists()


async def test_a_reader_that_raises_ends_input_and_says_so() -> None:
    calls = 0

    def read(n: int) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            return b"Content-Length: 2\r\n\r\n{}"
        raise RuntimeError("boom")

    reader = transport.FrameReader(read)
    queue = transport.start_reader(reader, asyncio.get_running_loop())
    assert await asyncio.wait_for(queue.get(), 5) == b"{}"
    assert await asyncio.wait_for(queue.get(), 5) is None
    assert reader.failed
