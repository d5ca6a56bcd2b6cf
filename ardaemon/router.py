"""Which wire format and endpoint a request for one model uses, decided per request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .catalog import CachedCatalog, CatalogStore
from .config import SettingsStore
from .protocol import Api, Model
from .providers import ProviderSpec
from .settings import Settings

PATHS: dict[Api, str] = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
}
#: Native fill-in-the-middle endpoints per dialect (`ardaemon/wire/fim.py`).
FIM_PATHS: dict[str, str] = {
    "llamacpp": "/infill",
    "ollama": "/api/generate",
    "openai-completions": "/v1/completions",
    "mistral": "/v1/fim/completions",
}
CATALOG_PATH = "/v1/models"
ANTHROPIC_VERSION = "2023-06-01"


def bare_id(model_id: str) -> str:
    """A model id lower-cased and without its vendor prefix (`anthropic/Claude-x` → `claude-x`)."""
    return model_id.lower().rsplit("/", 1)[-1]


def is_claude(model_id: str) -> bool:
    """The contract's rule: the bare id starts with `claude`."""
    return bare_id(model_id).startswith("claude")


def wire_format(
    provider: ProviderSpec,
    model_id: str,
    endpoint_types: Sequence[str] | None = None,
    overrides: Mapping[str, Api] | None = None,
) -> Api:
    if overrides and model_id in overrides:
        return overrides[model_id]
    if provider.api != "auto":
        return provider.api
    api: Api = provider.claude_api if is_claude(model_id) else "openai"
    # The gateway's catalog may say which endpoints serve a model; believe it over the
    # name when the name's choice is not among them.
    if endpoint_types:
        offered = [t for t in endpoint_types if t in PATHS]
        if offered and api not in offered:
            api = "anthropic" if "anthropic" in offered else "openai"
    return api


@dataclass(frozen=True)
class Route:
    provider: ProviderSpec
    base_url: str
    model: str
    api: Api
    #: The FIM dialect when this completion goes to a native fill-in-the-middle endpoint.
    fim: str | None = None

    @property
    def url(self) -> str:
        if self.fim:
            return self.base_url + (self.provider.fim_path or FIM_PATHS[self.fim])
        return self.base_url + PATHS[self.api]

    def headers(self, token: str | None) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        anthropic = self.api == "anthropic" and not self.fim
        style = self.provider.anthropic_auth if anthropic else self.provider.auth
        if anthropic:
            headers["anthropic-version"] = ANTHROPIC_VERSION
        headers.update(auth_headers(style, token))
        return headers


def auth_headers(style: str, token: str | None) -> dict[str, str]:
    if not token:
        return {}
    headers = {}
    if style in ("bearer", "both"):
        headers["authorization"] = f"Bearer {token}"
    if style in ("x-api-key", "both"):
        headers["x-api-key"] = token
    return headers


def has_fim(provider: ProviderSpec, model_id: str) -> bool:
    """The providers table says this model has a FIM endpoint (`fim` + `fim_models` globs)."""
    import fnmatch

    name = model_id.lower()
    return bool(provider.fim) and any(
        fnmatch.fnmatchcase(name, pattern.lower()) for pattern in provider.fim_models
    )


def for_completion(r: Route) -> Route:
    """The route a completion takes: the model's FIM endpoint when it has one."""
    import dataclasses

    return dataclasses.replace(r, fim=r.provider.fim) if has_fim(r.provider, r.model) else r


def route(
    provider: ProviderSpec,
    base_url: str,
    model_id: str,
    endpoint_types: Sequence[str] | None = None,
    overrides: Mapping[str, Api] | None = None,
) -> Route:
    return Route(
        provider, base_url, model_id, wire_format(provider, model_id, endpoint_types, overrides)
    )


class Router:
    """Routes for the current settings and catalog, each worked out once per settings and
    catalog (requests ask for the same few models many times)."""

    #: Models whose route is remembered (requests may name any model).
    MEMO = 64

    def __init__(self, store: SettingsStore, catalog: CatalogStore) -> None:
        self._store = store
        self._catalog = catalog
        self._memo: dict[str, tuple[Settings, CachedCatalog, Route]] = {}

    def route(self, model: str, known: CachedCatalog | None = None) -> Route:
        known = known or self._catalog.cached() or _EMPTY
        settings = self._store.settings  # the same object until the settings change
        memo = self._memo.get(model)
        if memo is not None and memo[0] is settings and memo[1] is known:
            return memo[2]
        entry = known.get(model)
        found = route(
            self._store.provider,
            self._store.base_url,
            model,
            entry.endpoint_types if entry else None,
            settings.api_overrides,
        )
        if len(self._memo) >= self.MEMO:
            self._memo.clear()
        self._memo[model] = (settings, known, found)
        return found

    def listed(self, found: CachedCatalog) -> list[Model]:
        """A catalog's models as `ardaemon/listModels` lists them, each with its format."""
        provider = self._store.provider.name
        return [
            Model(
                id=m.id,
                api=self.route(m.id, found).api,
                provider=provider,
                name=m.name,
                owned_by=m.owned_by,
            )
            for m in found.models
        ]


_EMPTY = CachedCatalog(provider="", base_url="", fetched_at=0.0, models=[])
