"""The user's model selection, persisted in the state dir so a restart keeps it."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec

from .files import atomic_write
from .protocol import Selected

log = logging.getLogger(__name__)


class StoredSelection(msgspec.Struct, rename="camel", kw_only=True):
    completion: str | None = None
    chat: str | None = None
    #: The settings' `models.*` values when last applied. A different value later (from
    #: config.toml, initializationOptions or didChangeConfiguration alike) is a new
    #: choice and takes over; the same value again does not undo a later selectModel.
    from_settings: Selected = msgspec.field(default_factory=Selected)

    @property
    def selected(self) -> Selected:
        return Selected(completion=self.completion, chat=self.chat)


def load_selection(path: Path) -> StoredSelection:
    try:
        return msgspec.json.decode(path.read_bytes(), type=StoredSelection)
    except FileNotFoundError:
        return StoredSelection()
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        log.warning("ignoring unreadable selection file %s", path.name)
        return StoredSelection()


def save_selection(path: Path, stored: StoredSelection) -> None:
    atomic_write(path, msgspec.json.encode(stored))
