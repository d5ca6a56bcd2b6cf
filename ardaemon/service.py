"""The daemon's work, free of pygls: list and select models, chat, complete.

JSON-RPC handlers (`server.py`) and the CLI both call this one object, so routing, the
catalog, errors and credentials have exactly one implementation. It is a facade over its
parts: the catalog cache (`catalog.CatalogStore`), the model choice
(`selection.ModelChoice`), routes (`router.Router`), tokens (`credentials.Tokens`),
completion requests (`completion.requests.Completions`), the fallback chain and usage
ledger (`dispatch.Dispatch`, `usage.Meter`), the status line (`status.Activity`) and the
way out (`upstream.Upstream`, the one lazily imported part).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from . import credentials, errors, usage
from .catalog import CachedCatalog, CatalogStore
from .chat import Chats
from .completion.requests import Completions
from .config import SettingsStore
from .dispatch import Dispatch
from .feedback import Feedback
from .paths import Paths
from .protocol import ListModelsResult, Role, Selected, StatusResult, UsageResult
from .providers import ProviderSpec
from .router import Router
from .selection import ModelChoice
from .settings import Settings
from .status import Activity

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
        self.tokens = credentials.Tokens(lambda: self.store.provider, paths, self.environ)
        self.catalog = CatalogStore(paths.cache_dir, self.store, self._download_catalog)
        self.models = ModelChoice(paths.selection_file, self.store, self.catalog)
        self.router = Router(self.store, self.catalog)
        self.activity = Activity()
        self.feedback = Feedback(paths.feedback_file)
        ledger = usage.Ledger(paths.state_dir)
        self.meter = usage.Meter(ledger, self.catalog.price, self.activity.budget_warning)
        self.dispatch = Dispatch(
            self.store, self.tokens, lambda: self.upstream, self.meter, self.router.route
        )
        self.completions = Completions(
            self.store, self.models, self.router.route, self.dispatch, self.activity
        )
        # The requests themselves: `chat.py` and `completion/requests.py`.
        self.chat = Chats(self.store, self.models, self.dispatch, self.activity).chat
        self.complete = self.completions.complete
        self._transport = transport
        self._upstream: Upstream | None = None

    @property
    def upstream(self) -> Upstream:
        """The one lazy-import seam: httpx, SSE and the wire formats load on first use (or
        in `warm_up`, right after `initialized`), so answering `initialize` costs no more
        than pygls itself."""
        if self._upstream is None:
            # The real network (no test transport): streams get a loop of their own.
            from .streamloop import StreamLoop
            from .upstream import Upstream

            loop = StreamLoop() if self._transport is None else None
            self._upstream = Upstream(self.store, self._transport, loop)
        return self._upstream

    @staticmethod
    def warm_up() -> None:
        """Import the request path ahead of the first request (called off the event loop)."""
        from . import upstream  # noqa: F401
        from .completion import postprocess, prompt  # noqa: F401  (the answer's clean-up)

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

    def usage(self, since: str | None = None, by: usage.GroupBy = "model") -> UsageResult:
        try:
            return usage.summarize(
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
