"""Which model each role uses, and the user's choice persisted so a restart keeps it.

The order for a role: the request's own `model`, (completions only: the language's preset,
the trigger's preset, the document's project file), the last selectModel (or `ardaemon
use`), the settings' `models.*`, the provider's default, the catalog's first model
(docs/protocol.md, "Model resolution").
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import msgspec

from . import errors
from .catalog import CachedCatalog, CatalogStore, close_matches
from .config import SettingsStore
from .files import atomic_write
from .protocol import Role, Selected
from .settings import Settings

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


class ModelChoice:
    def __init__(self, file: Path, store: SettingsStore, catalog: CatalogStore) -> None:
        self.file = file
        self._store = store
        self._catalog = catalog
        self._stored = StoredSelection()
        self._mtime: int | None = -1

    def stored(self) -> StoredSelection:
        """The persisted choice; re-read when another process (`ardaemon use`) changed it."""
        mtime = _mtime(self.file)
        if mtime != self._mtime:
            self._stored = _load(self.file)
            self._mtime = mtime
        return self._stored

    def model(
        self,
        role: Role,
        explicit: str | None = None,
        *,
        settings: Settings | None = None,
        trigger: str | None = None,
        language_id: str = "",
        project: str | None = None,
    ) -> str | None:
        """`settings`: the document's view (its presets); `trigger`: "automatic" or
        "invoked" picks that preset; `project`: the model the project file names."""
        s = self._store.settings
        provider = self._store.provider
        stored = self.stored()
        choices: tuple[str | None, ...]
        if role == "completion":
            c = (settings or s).completion
            preset = c.models.automatic if trigger == "automatic" else c.models.invoked
            choices = (
                explicit,
                c.language_model(language_id),
                preset if trigger is not None else None,
                project,
                stored.completion,
                s.completion.model,
                s.models.completion,
            )
            default = provider.completion_model
        else:
            choices = (explicit, stored.chat, s.models.chat)
            default = provider.chat_model
        return next((c for c in choices if c), None) or self._default(default)

    def require(self, role: Role, explicit: str | None = None, **how: Any) -> str:
        """`model`, or InvalidParams when no model is known; `how` as for `model`."""
        model = self.model(role, explicit, **how)
        if model is None:
            raise errors.NoModel(role)
        return model

    def current(self) -> Selected:
        """What requests naming no model use, per role."""
        return Selected(completion=self.model("completion"), chat=self.model("chat"))

    def select(self, model: str, role: Role | None, known: CachedCatalog | None) -> Selected:
        """Store `model` for `role` (both when None); refused when the catalog lacks it."""
        model = model.strip()
        if not model:
            raise errors.InvalidParams("`model` must not be empty.")
        if known is not None and known.get(model) is None:
            provider = self._store.provider
            raise errors.UnknownModel(model, close_matches(model, known.ids)).add_context(
                provider=provider.label or provider.name
            )
        stored = self.stored()
        self._save(
            StoredSelection(
                completion=model if role in (None, "completion") else stored.completion,
                chat=model if role in (None, "chat") else stored.chat,
                from_settings=stored.from_settings,
            )
        )
        return self.current()

    def apply_settings(self) -> None:
        """Models named in settings take over like a selection when they change.

        Called whenever a settings layer arrives, so the rule is the same for config.toml,
        initializationOptions and didChangeConfiguration: compare with the values applied
        last time (kept in the selection file), never with what happened to be loaded.
        """
        s = self._store.settings
        wanted = Selected(completion=s.completion.model or s.models.completion, chat=s.models.chat)
        stored = self.stored()
        seen = stored.from_settings
        if wanted == seen:
            return
        self._save(
            StoredSelection(
                completion=wanted.completion
                if wanted.completion and wanted.completion != seen.completion
                else stored.completion,
                chat=wanted.chat if wanted.chat and wanted.chat != seen.chat else stored.chat,
                from_settings=wanted,
            )
        )

    def _default(self, preferred: str | None) -> str | None:
        known = self._catalog.cached()
        if known is None or not known.models or (preferred and known.get(preferred)):
            return preferred
        return known.models[0].id

    def _save(self, stored: StoredSelection) -> None:
        self._stored = stored
        try:
            atomic_write(self.file, msgspec.json.encode(stored))
            self._mtime = _mtime(self.file)
        except OSError as exc:
            log.warning("could not save the model selection (%s)", exc.strerror)


def _load(path: Path) -> StoredSelection:
    try:
        return msgspec.json.decode(path.read_bytes(), type=StoredSelection)
    except FileNotFoundError:
        return StoredSelection()
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        log.warning("ignoring unreadable selection file %s", path.name)
        return StoredSelection()


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
