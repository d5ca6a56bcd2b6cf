"""The model catalog: `GET /v1/models`, cached on disk per provider and base URL.

Within the freshness window no network call is made. When the upstream fails and a
cached catalog exists it is served as stale. Writes are atomic (temp file + rename), so a
crash or a full disk never leaves a half-written cache; a corrupt file is ignored and
replaced on the next successful fetch. The request itself is `upstream.list_models`; this
module never imports httpx.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, NamedTuple

import msgspec

from . import errors
from .config import SettingsStore
from .files import atomic_write
from .settings import Settings

log = logging.getLogger(__name__)


class CatalogModel(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    owned_by: str | None = None
    name: str | None = None
    endpoint_types: list[str] | None = None
    #: US dollars per token, when the catalog says (OpenRouter-style `pricing`).
    price_in: float | None = None
    price_out: float | None = None


class CachedCatalog(msgspec.Struct, kw_only=True):
    provider: str
    base_url: str
    fetched_at: float
    models: list[CatalogModel]

    @property
    def fetched_at_rfc3339(self) -> str:
        return (
            datetime.fromtimestamp(self.fetched_at, timezone.utc)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z")
        )

    def get(self, model_id: str) -> CatalogModel | None:
        return next((m for m in self.models if m.id == model_id), None)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models]


def cache_path(cache_dir: Path, provider: str, base_url: str) -> Path:
    import hashlib  # not at start-up: the path is needed once per settings change

    digest = hashlib.sha256(base_url.encode()).hexdigest()[:12]
    return cache_dir / f"catalog-{provider}-{digest}.json"


def load(path: Path) -> CachedCatalog | None:
    try:
        found = msgspec.json.decode(path.read_bytes(), type=CachedCatalog)
    except FileNotFoundError:
        return None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("ignoring unreadable catalog cache %s (%s)", path.name, type(exc).__name__)
        return None
    if not 0 <= found.fetched_at <= time.time() + 86400:  # 1e300 or -1e300 would
        # make fetchedAt unprintable: keep the models, as stale as can be.
        log.warning(
            "catalog cache %s has an impossible fetched_at; treating it as stale", path.name
        )
        found.fetched_at = 0.0
    return found


def save(path: Path, catalog: CachedCatalog) -> None:
    try:
        atomic_write(path, msgspec.json.encode(catalog))
    except OSError as exc:
        # The old cache stays whole; losing a refresh is better than losing the catalog.
        log.warning("could not write catalog cache %s (%s)", path.name, exc.strerror)


def is_fresh(catalog: CachedCatalog, max_age_hours: float) -> bool:
    age = time.time() - catalog.fetched_at
    return 0 <= age < max_age_hours * 3600


def close_matches(model: str, ids: Sequence[str]) -> list[str]:
    """Up to three ids like `model`, for "did you mean" (none for absurdly long input)."""
    import difflib

    if len(model) >= 200:
        return []

    lowered = {i.lower(): i for i in ids}
    found = difflib.get_close_matches(model.lower(), list(lowered), n=3, cutoff=0.5)
    found += [i for key, i in lowered.items() if model.lower() in key and i not in found]
    return [lowered.get(f, f) for f in found][:3]


Source = Literal["cache", "network"]


class Lookup(NamedTuple):
    catalog: CachedCatalog
    source: Source
    stale: bool


class CatalogStore:
    """The current provider's catalog: memory, then the disk cache, then `download`."""

    def __init__(
        self,
        cache_dir: Path,
        store: SettingsStore,
        download: Callable[[], Awaitable[CachedCatalog]],
    ) -> None:
        self.cache_dir = cache_dir
        self._store = store
        self._download = download
        self._memory: dict[Path, CachedCatalog] = {}
        self._path: tuple[Settings, Path] | None = None

    def path(self) -> Path:
        settings = self._store.settings  # the same object until the settings change
        if self._path is None or self._path[0] is not settings:
            found = cache_path(self.cache_dir, self._store.provider.name, self._store.base_url)
            self._path = (settings, found)
        return self._path[1]

    def cached(self) -> CachedCatalog | None:
        key = self.path()
        found = self._memory.get(key)
        if found is None:
            found = load(key)
            if found is not None:
                self._memory[key] = found
        return found

    async def get(self, refresh: bool = False) -> Lookup:
        """A fresh cached copy, else a download, else (the download failed) the stale copy."""
        cached = self.cached()
        max_age = self._store.settings.catalog.max_age_hours
        if cached and not refresh and is_fresh(cached, max_age):
            return Lookup(cached, "cache", False)
        try:
            fresh = await self._download()
        except errors.UpstreamError as exc:
            if cached is None:
                raise
            log.warning("catalog refresh failed (%s); serving the cached one", exc.kind)
            return Lookup(cached, "cache", True)
        self.put(fresh)
        return Lookup(fresh, "network", False)

    def price(self, provider: str, model: str) -> tuple[float, float] | None:
        """(input, output) US dollars per token when the cached catalog of the configured
        provider gives them: what the usage ledger prices a request with, unless
        `prices` in the settings says."""
        known = self.cached() if provider == self._store.provider.name else None
        entry = known.get(model) if known is not None else None
        if entry is not None and entry.price_in is not None and entry.price_out is not None:
            return entry.price_in, entry.price_out
        return None

    def put(self, found: CachedCatalog) -> None:
        key = cache_path(self.cache_dir, found.provider, found.base_url)
        save(key, found)
        self._memory[key] = found
