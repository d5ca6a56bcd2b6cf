"""The daemon's work, free of pygls: list and select models, chat, complete.

JSON-RPC handlers (`server.py`) and the CLI both call this one object, so routing, the
catalog, errors and credentials have exactly one implementation. Its parts: the catalog
cache (`catalog.CatalogStore`), the model choice (`selection.ModelChoice`), routes
(`router.Router`), completion requests (`completion.requests.Completions`) and the way
out (`upstream.Upstream`, the one lazily imported part).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from . import credentials, errors
from .catalog import CachedCatalog, CatalogStore
from .completion import Snippet
from .completion.engine import Engine, Trigger
from .completion.requests import Completions
from .config import Paths, ProviderSpec, Settings, SettingsStore
from .feedback import Feedback
from .protocol import (
    Acceptance,
    ChatParams,
    ChatResult,
    CompleteResult,
    ListModelsResult,
    Model,
    Role,
    Selected,
    StatusResult,
    TokenSource,
)
from .router import Route, Router
from .selection import ModelChoice
from .status import Activity
from .wire import LlmRequest, LlmResult, Message

if TYPE_CHECKING:
    import httpx

    from .upstream import Upstream


class Service:
    def __init__(
        self,
        paths: Paths,
        store: SettingsStore | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.paths = paths
        self.environ = os.environ if environ is None else environ
        self.store = store or SettingsStore(paths, environ=self.environ)
        self.catalog = CatalogStore(paths.cache_dir, self.store, self._download_catalog)
        self.models = ModelChoice(paths.selection_file, self.store, self.catalog)
        self.router = Router(self.store, self.catalog)
        self.activity = Activity()
        self.completions = Completions(
            self._generate, self.router.route, lambda: self.settings.completion, self.activity
        )
        self.feedback = Feedback(paths.feedback_file)
        self._transport = transport
        self._upstream: Upstream | None = None

    @property
    def upstream(self) -> Upstream:
        """The one lazy-import seam: httpx, SSE and the wire formats load on first use (or
        in `warm_up`, right after `initialized`), so answering `initialize` costs no more
        than pygls itself."""
        if self._upstream is None:
            from .upstream import Upstream

            self._upstream = Upstream(self.store, self._transport)
        return self._upstream

    @staticmethod
    def warm_up() -> None:
        """Import the request path ahead of the first request (called off the event loop)."""
        from . import upstream  # noqa: F401

    @property
    def engine(self) -> Engine:
        return self.completions.engine

    # --- settings & credentials ---------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.store.settings

    @property
    def provider(self) -> ProviderSpec:
        return self.store.provider

    @property
    def base_url(self) -> str:
        return self.store.base_url

    @property
    def label(self) -> str:
        return self.provider.label or self.provider.name

    def token(self) -> tuple[str | None, credentials.Source]:
        return credentials.lookup(self.provider, self.paths, self.environ)

    def _require_token(self) -> str | None:
        return credentials.require(self.provider, self.paths, self.environ)

    def token_source(self) -> TokenSource:
        return credentials.source_of(self.provider, self.paths, self.environ)

    def status(self) -> StatusResult:
        counts = self.feedback.counts()
        return StatusResult(
            token=self.token_source(),
            acceptance=[Acceptance(m, c.shown, c.accepted) for m, c in sorted(counts.items())],
        )

    def settings_changed(self, before: Settings) -> None:
        self.models.apply_settings()
        after = self.settings
        if (before.provider, before.base_url) != (after.provider, after.base_url):
            self.engine.clear()

    # --- models -------------------------------------------------------------------------

    async def download_catalog(self, token: str | None) -> CachedCatalog:
        """`GET /v1/models` with this token, as every catalog request is sent (no cache)."""
        return await self.upstream.list_models(token)

    async def _download_catalog(self) -> CachedCatalog:
        return await self.download_catalog(self._require_token())

    async def list_models(self, refresh: bool = False) -> ListModelsResult:
        found, source, stale = await self.catalog.get(refresh)
        return ListModelsResult(
            models=[
                Model(
                    id=m.id,
                    api=self.route_for(m.id, found).api,
                    provider=self.provider.name,
                    name=m.name,
                    owned_by=m.owned_by,
                )
                for m in found.models
            ],
            source=source,
            stale=stale,
            fetched_at=found.fetched_at_rfc3339,
            selected=self.models.current(),
        )

    async def select_model(self, model: str, role: Role | None) -> Selected:
        known = self.catalog.cached()
        if known is None and model.strip():
            with contextlib.suppress(errors.ArdaemonError):
                known = (await self.catalog.get()).catalog
        return self.models.select(model, role, known)

    def route_for(self, model: str, known: CachedCatalog | None = None) -> Route:
        return self.router.route(model, known)

    # --- chat and completion ------------------------------------------------------------

    async def chat(
        self, params: ChatParams, on_delta: Callable[[str], None] | None = None
    ) -> ChatResult:
        if not params.messages:
            raise errors.InvalidParams("`messages` must not be empty.")
        if params.max_tokens is not None and params.max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        model = self.models.require("chat", params.model)
        target = self.route_for(model)
        req = LlmRequest(
            model=model,
            messages=tuple(Message(m.role, m.content) for m in params.messages),
            max_tokens=params.max_tokens or self.settings.chat.max_tokens,
            temperature=params.temperature,
            stream=on_delta is not None,
            purpose="chat",
        )
        result = await self._generate(target, req, on_delta)
        return ChatResult(
            content=result.text,
            model=model,
            api=target.api,
            stop_reason=result.stop_reason,
            usage=result.usage,
        )

    async def complete(
        self,
        prefix: str,
        suffix: str,
        *,
        language_id: str = "",
        path: str | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        document: str | None = None,
        trigger: Trigger = "explicit",
        snippets: Sequence[Snippet] = (),
        candidates: int = 1,
    ) -> CompleteResult | None:
        """Up to `candidates` distinct completions (`completion.requests`); None when a
        newer request for the same document superseded this one."""
        if max_tokens is not None and max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        return await self.completions.complete(
            prefix,
            suffix,
            model=self.models.require("completion", model),
            max_tokens=max_tokens,
            language_id=language_id,
            path=path,
            document=document,
            trigger=trigger,
            snippets=snippets,
            candidates=candidates,
        )

    async def _generate(
        self, target: Route, req: LlmRequest, on_delta: Callable[[str], None] | None = None
    ) -> LlmResult:
        return await self.upstream.generate(target, self._require_token(), req, on_delta)

    def forget_document(self, uri: str) -> None:
        self.engine.forget(uri)

    async def aclose(self) -> None:
        self.feedback.flush()
        if self._upstream is not None:
            await self._upstream.aclose()
