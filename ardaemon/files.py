"""The daemon's files: written so a crash or a full disk never leaves half of one; TOML
read with a parser loaded on demand."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a temp file beside `path`, then rename it over: readers see old or new, whole.

    The temp file is created with `mode` from its first byte, so a 0600 secret is never
    readable by others, even briefly.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # A temp file left by a crash keeps its old mode under O_CREAT: start from a new one.
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def tomllib() -> Any:
    """The TOML parser, imported on demand: compiling its regexes costs ~15 ms of start-up."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib
