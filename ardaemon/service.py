"""The daemon's work, free of pygls: list and select models, chat, complete.

JSON-RPC handlers (`server.py`) and the CLI both call this one object, so routing, the
catalog, errors and credentials have exactly one implementation. It is a facade over its
parts: the catalog cache (`catalog.CatalogStore`), the model choice
(`selection.ModelChoice`), routes (`router.Router`), tokens (`credentials.Tokens`),
completion requests (`completion.requests.Completions`), the fallback chain and usage
ledger (`dispatch.Dispatch`, `usage.Meter`), the status line (`status.Activity`) and the
way out (`upstream.Upstream`). All but settings, tokens, feedback and the status line are
built on first use: answering `initialize` imports little more than pygls itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from . import credentials, errors
from .config import SettingsStore
from .feedback import Feedback
from .paths import Paths
from .protocol import ListModelsResult, Role, Selected, StatusResult, UsageResult
from .providers import ProviderSpec
from .settings import Settings
from .status import Activity

if TYPE_CHECKING:
    import httpx

    from .catalog import CachedCatalog, CatalogStore
    from .chat import Chats
    from .completion.requests import Completions
    from .dispatch import Dispatch
    from .router import Router
    from .selection import ModelChoice
    from .upstream import Upstream
    from .usage import GroupBy, Meter


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
        self.tokens = credentials.Tokens(lambda: self.store.provider, paths, self.environ)
        self.activity = Activity()
        self.feedback = Feedback(paths.feedback_file)
        self._transport = transport
        self._upstream: Upstream | None = None

    # --- the other parts, built on first use ------------------------------------------
    # Each part imports its module when first used: answering `initialize` must cost
    # little more than an empty pygls server. `warm_up` imports them all right after
    # `initialized`, off the event loop, so the first request finds them loaded.

    @cached_property
    def catalog(self) -> CatalogStore:
        from .catalog import CatalogStore

        return CatalogStore(self.paths.cache_dir, self.store, self._download_catalog)

    @cached_property
    def models(self) -> ModelChoice:
        from .selection import ModelChoice

        return ModelChoice(self.paths.selection_file, self.store, self.catalog)

    @cached_property
    def router(self) -> Router:
        from .router import Router

        return Router(self.store, self.catalog)

    @cached_property
    def meter(self) -> Meter:
        from .usage import Ledger, Meter

        ledger = Ledger(self.paths.state_dir)
        return Meter(ledger, self.catalog.price, self.activity.budget_warning)

    @cached_property
    def dispatch(self) -> Dispatch:
        from .dispatch import Dispatch

        return Dispatch(
            self.store, self.tokens, lambda: self.upstream, self.meter, self.router.route
        )

    @cached_property
    def completions(self) -> Completions:
        """`ardaemon/complete` and inline completion requests (`completions.complete`)."""
        from .completion.requests import Completions

        return Completions(self.store, self.models, self.router.route, self.dispatch, self.activity)

    @cached_property
    def chats(self) -> Chats:
        """`ardaemon/chat` requests (`chats.chat`)."""
        from .chat import Chats

        return Chats(self.store, self.models, self.dispatch, self.activity)

    @property
    def upstream(self) -> Upstream:
        """The way out: httpx, SSE and the wire formats."""
        if self._upstream is None:
            # The real network (no test transport): streams get a loop of their own.
            from .streamloop import StreamLoop
            from .upstream import Upstream

            loop = StreamLoop() if self._transport is None else None
            self._upstream = Upstream(self.store, self._transport, loop)
        return self._upstream

    @staticmethod
    def warm_up() -> None:
        """Load the request path ahead of the first request (called off the event loop):
        its modules, then the shared TLS context (30-60 ms), last so that a request sent at
        once gets its imports first. The parts themselves are built on the loop, on first use."""
        from . import catalog, chat, dispatch, router, selection, streamloop, upstream, usage  # noqa: F401
        from .completion import postprocess, prompt, requests  # noqa: F401
        from .http import tls_context

        tls_context()

    # --- settings ---------------------------------------------------------------------

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

    def settings_changed(self, before: Settings) -> None:
        self.models.apply_settings()
        after = self.settings
        if (before.provider, before.base_url) != (after.provider, after.base_url):
            self.completions.engine.clear()

    def status(self) -> StatusResult:
        return StatusResult(token=self.tokens.source(), acceptance=self.feedback.acceptance())

    # --- models -----------------------------------------------------------------------

    async def download_catalog(self, token: str | None) -> CachedCatalog:
        """`GET /v1/models` with this token, as every catalog request is sent (no cache)."""
        return await self.upstream.list_models(token)

    async def _download_catalog(self) -> CachedCatalog:
        return await self.download_catalog(self.tokens.require())

    async def list_models(self, refresh: bool = False) -> ListModelsResult:
        found, source, stale = await self.catalog.get(refresh)
        return ListModelsResult(
            models=self.router.listed(found),
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

    # --- usage, documents -------------------------------------------------------------

    def usage(self, since: str | None = None, by: GroupBy = "model") -> UsageResult:
        from .usage import summarize

        try:
            return summarize(
                self.paths.state_dir, since, by, self.settings.usage.daily_token_warning
            )
        except ValueError as exc:
            raise errors.InvalidParams(f"{exc}.") from None

    def forget_document(self, uri: str) -> None:
        self.completions.engine.forget(uri)

    async def aclose(self) -> None:
        self.feedback.flush()
        if self._upstream is not None:
            await self._upstream.aclose()
