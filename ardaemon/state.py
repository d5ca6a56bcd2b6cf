"""The user's model selection, persisted in the state dir so a restart keeps it."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import msgspec

from .protocol import Selected

log = logging.getLogger(__name__)


def load_selection(path: Path) -> Selected:
    try:
        return msgspec.json.decode(path.read_bytes(), type=Selected)
    except FileNotFoundError:
        return Selected()
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        log.warning("ignoring unreadable selection file %s", path.name)
        return Selected()


def save_selection(path: Path, selected: Selected) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(msgspec.json.encode(selected))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
