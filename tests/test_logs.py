"""The daemon's log file: rotation by size, nothing lost but the oldest."""

from __future__ import annotations

import logging
from pathlib import Path

from ardaemon.logs import RotatingFile


def test_the_log_file_rotates_by_size_keeping_two_older_files(tmp_path: Path) -> None:
    path = tmp_path / "ardaemon.log"
    handler = RotatingFile(path, max_bytes=1000, backups=2)
    log = logging.Logger("rotation")
    log.addHandler(handler)
    lines = [f"record {i:04d} " + "x" * 40 for i in range(200)]  # 52 bytes a line
    for line in lines:
        log.warning("%s", line)
    handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["ardaemon.log", "ardaemon.log.1", "ardaemon.log.2"]
    sizes = [(tmp_path / name).stat().st_size for name in files]
    assert all(size < 1000 + 52 for size in sizes), sizes
    assert sizes[1] >= 1000 and sizes[2] >= 1000, "rotated once full"
    kept = "".join((tmp_path / name).read_text("utf-8") for name in reversed(files))
    assert kept.splitlines() == lines[-len(kept.splitlines()) :], "the newest, in order"
    assert len(kept.splitlines()) > 2 * 1000 // 52
