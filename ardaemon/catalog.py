"""The model catalog: `GET /v1/models`, cached on disk per provider and base URL.

Within the freshness window no network call is made. When the upstream fails and a
cached catalog exists it is served as stale. Writes are atomic (temp file + rename), so a
crash or a full disk never leaves a half-written cache; a corrupt file is ignored and
replaced on the next successful fetch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import msgspec

from . import errors
from .files import atomic_write
from .http import Call, Http, error_in_body, send, transport_error
from .router import ANTHROPIC_VERSION, CATALOG_PATH, auth_headers

log = logging.getLogger(__name__)


class CatalogModel(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    owned_by: str | None = None
    name: str | None = None
    endpoint_types: list[str] | None = None


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


def parse_models(data: Any, label: str) -> list[CatalogModel]:
    error = error_in_body(data, label, None)
    if error:
        raise error
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise errors.BadResponse(
            f"{label} sent a model list ardaemon could not read: check the base URL."
        )
    models = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        types = item.get("supported_endpoint_types")
        models.append(
            CatalogModel(
                id=item["id"],
                owned_by=item.get("owned_by") if isinstance(item.get("owned_by"), str) else None,
                name=item.get("display_name") or item.get("name") or None,
                endpoint_types=[t for t in types if isinstance(t, str)]
                if isinstance(types, list)
                else None,
            )
        )
    return models


async def fetch(
    http: Http,
    *,
    provider: str,
    label: str,
    base_url: str,
    auth_style: str,
    token: str | None,
    extra_headers: dict[str, str],
    timeout: float,
    anthropic: bool = False,
    token_env: str | None = None,
) -> CachedCatalog:
    headers = auth_headers(auth_style, token)
    if anthropic:
        # Anthropic's own API wants its version header on every route, /v1/models too.
        headers["anthropic-version"] = ANTHROPIC_VERSION
    call = Call(
        method="GET",
        url=base_url + CATALOG_PATH,
        headers=headers,
        body=None,
        read_timeout=timeout,
        label=label,
        token_env=token_env,
    )
    response = await send(http.client(base_url, extra_headers), call)
    try:
        body = await response.aread()
    except httpx.HTTPError as exc:
        raise transport_error(exc, call) from None
    finally:
        await response.aclose()
    try:
        data = json.loads(body)
    except ValueError:
        raise errors.BadResponse(
            f"{label} sent a model list that is not JSON: check the base URL."
        ) from None
    return CachedCatalog(
        provider=provider,
        base_url=base_url,
        fetched_at=time.time(),
        models=parse_models(data, label),
    )


def is_fresh(catalog: CachedCatalog, max_age_hours: float) -> bool:
    age = time.time() - catalog.fetched_at
    return 0 <= age < max_age_hours * 3600


def close_matches(model: str, ids: Sequence[str]) -> list[str]:
    import difflib

    lowered = {i.lower(): i for i in ids}
    found = difflib.get_close_matches(model.lower(), list(lowered), n=3, cutoff=0.5)
    found += [i for key, i in lowered.items() if model.lower() in key and i not in found]
    return [lowered.get(f, f) for f in found][:3]
