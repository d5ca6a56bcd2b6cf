"""The user's model selection, persisted in the state dir so a restart keeps it."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec

from .files import atomic_write
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
    atomic_write(path, msgspec.json.encode(selected))
