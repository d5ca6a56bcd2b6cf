"""The daemon's work, free of pygls: catalog, selection, chat and completion.

JSON-RPC handlers (`server.py`) and the CLI both call this one object, so routing, the
catalog, errors and credentials have exactly one implementation.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from . import catalog, credentials, errors
from .config import Paths, ProviderSpec, Settings, SettingsStore
from .http import Http
from .protocol import (
    ChatParams,
    ChatResult,
    CompleteResult,
    CompletionItem,
    ListModelsResult,
    Model,
    Role,
    Selected,
    Status,
)
from .providers import LlmRequest, Message, generate
from .router import Route, route
from .state import load_selection, save_selection

if TYPE_CHECKING:
    from .catalog import CachedCatalog

log = logging.getLogger(__name__)

StatusSink = Callable[[Status], None]
CACHE_SIZE = 256


class Service:
    def __init__(
        self,
        paths: Paths,
        store: SettingsStore | None = None,
        *,
        http: Http | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.paths = paths
        self.environ = os.environ if environ is None else environ
        self.store = store or SettingsStore(paths, environ=self.environ)
        self.http = http or Http()
        self.selection = load_selection(paths.selection_file)
        self.on_status: StatusSink | None = None
        self._catalogs: dict[str, CachedCatalog] = {}
        self._completions: OrderedDict[tuple[str, ...], str] = OrderedDict()

    # --- settings & credentials ---------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.store.settings

    @property
    def provider(self) -> ProviderSpec:
        return self.store.provider

    @property
    def label(self) -> str:
        return self.provider.label or self.provider.name

    def token(self) -> tuple[str | None, credentials.Source]:
        return credentials.lookup(self.provider, self.paths, self.environ)

    def _require_token(self) -> str | None:
        token, _ = self.token()
        if token is None and self.provider.token_required:
            env = self.provider.token_env or "the provider's token variable"
            raise errors.AuthError(f"No token for {self.label}: set {env} or run `ardaemon login`.")
        return token

    def settings_changed(self, before: Settings) -> None:
        """A model chosen in the editor's settings takes over like a fresh selection."""
        after = self.settings
        changed = {}
        completion_before = before.completion.model or before.models.completion
        completion_after = after.completion.model or after.models.completion
        if completion_after and completion_after != completion_before:
            changed["completion"] = completion_after
        if after.models.chat and after.models.chat != before.models.chat:
            changed["chat"] = after.models.chat
        if changed:
            self.selection = Selected(
                completion=changed.get("completion", self.selection.completion),
                chat=changed.get("chat", self.selection.chat),
            )
            self._save_selection()
        if (before.provider, before.base_url) != (after.provider, after.base_url):
            self._completions.clear()

    # --- catalog ------------------------------------------------------------------------

    def _catalog_path(self) -> str:
        return str(catalog.cache_path(self.paths.cache_dir, self.provider.name, self.base_url))

    @property
    def base_url(self) -> str:
        return self.store.base_url

    def cached_catalog(self) -> CachedCatalog | None:
        key = self._catalog_path()
        found = self._catalogs.get(key)
        if found is None:
            from pathlib import Path

            found = catalog.load(Path(key))
            if found is not None:
                self._catalogs[key] = found
        return found

    async def fetch_catalog(self, refresh: bool = False) -> tuple[CachedCatalog, str, bool]:
        """(catalog, source, stale): fresh cache, else network, else stale cache."""
        from pathlib import Path

        cached = self.cached_catalog()
        if cached and not refresh and catalog.is_fresh(cached, self.settings.catalog.max_age_hours):
            return cached, "cache", False
        try:
            token = self._require_token()
            fresh = await catalog.fetch(
                self.http,
                provider=self.provider.name,
                label=self.label,
                base_url=self.base_url,
                auth_style=self.provider.auth,
                token=token,
                extra_headers=self.settings.headers,
                timeout=min(self.settings.request_timeout, 30.0),
            )
        except errors.UpstreamError as exc:
            if cached is None:
                raise
            log.warning("catalog refresh failed (%s); serving the cached one", exc.kind)
            return cached, "cache", True
        key = self._catalog_path()
        catalog.save(Path(key), fresh)
        self._catalogs[key] = fresh
        return fresh, "network", False

    async def list_models(self, refresh: bool = False) -> ListModelsResult:
        found, source, stale = await self.fetch_catalog(refresh)
        models = [
            Model(
                id=m.id,
                api=self.route_for(m.id, found).api,
                provider=self.provider.name,
                name=m.name,
                owned_by=m.owned_by,
            )
            for m in found.models
        ]
        return ListModelsResult(
            models=models,
            source="network" if source == "network" else "cache",
            stale=stale,
            fetched_at=found.fetched_at_rfc3339,
            selected=self.selected(),
        )

    # --- selection ----------------------------------------------------------------------

    def selected(self) -> Selected:
        return Selected(
            completion=self.model_for("completion", None, required=False),
            chat=self.model_for("chat", None, required=False),
        )

    async def select_model(self, model: str, role: Role | None) -> Selected:
        model = model.strip()
        if not model:
            raise errors.InvalidParams("Invalid params: `model` must not be empty.")
        known = self.cached_catalog()
        if known is None:
            try:
                known, _, _ = await self.fetch_catalog()
            except errors.ArdaemonError:
                known = None
        if known is not None and known.get(model) is None:
            near = catalog.close_matches(model, known.ids)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise errors.InvalidParams(
                f"Unknown model '{model}' at {self.label}.{hint} "
                "List the models with ardaemon/listModels."
            )
        self.selection = Selected(
            completion=model if role in (None, "completion") else self.selection.completion,
            chat=model if role in (None, "chat") else self.selection.chat,
        )
        self._save_selection()
        return self.selected()

    def _save_selection(self) -> None:
        try:
            save_selection(self.paths.selection_file, self.selection)
        except OSError as exc:
            log.warning("could not save the model selection (%s)", exc.strerror)

    def model_for(self, role: Role, explicit: str | None, required: bool = True) -> str | None:
        s = self.settings
        choices: tuple[str | None, ...]
        if role == "completion":
            choices = (explicit, self.selection.completion, s.completion.model, s.models.completion)
            default = self.provider.completion_model
        else:
            choices = (explicit, self.selection.chat, s.models.chat)
            default = self.provider.chat_model
        model = next((c for c in choices if c), None) or self._default_model(default)
        if model is None and required:
            raise errors.InvalidParams(
                f"No {role} model selected: pick one with ardaemon/selectModel or "
                f"set `ardaemon.models.{role}`."
            )
        return model

    def _default_model(self, preferred: str | None) -> str | None:
        known = self.cached_catalog()
        if known is None or not known.models or (preferred and known.get(preferred)):
            return preferred
        return known.models[0].id

    def route_for(self, model: str, known: CachedCatalog | None = None) -> Route:
        entry = (known or self.cached_catalog() or _EMPTY).get(model)
        return route(
            self.provider,
            self.base_url,
            model,
            entry.endpoint_types if entry else None,
            self.settings.api_overrides,
        )

    # --- chat ---------------------------------------------------------------------------

    async def chat(
        self, params: ChatParams, on_delta: Callable[[str], None] | None = None
    ) -> ChatResult:
        if not params.messages:
            raise errors.InvalidParams("Invalid params: `messages` must not be empty.")
        if params.max_tokens is not None and params.max_tokens < 1:
            raise errors.InvalidParams("Invalid params: `maxTokens` must be at least 1.")
        model = self.model_for("chat", params.model)
        assert model is not None
        target = self.route_for(model)
        req = LlmRequest(
            model=model,
            messages=tuple(Message(m.role, m.content) for m in params.messages),
            max_tokens=params.max_tokens or self.settings.chat.max_tokens,
            temperature=params.temperature,
            stream=on_delta is not None,
            purpose="chat",
        )
        result = await generate(
            self.http,
            target,
            self._require_token(),
            req,
            extra_headers=self.settings.headers,
            read_timeout=self.settings.request_timeout,
            on_delta=on_delta,
        )
        return ChatResult(
            content=result.text,
            model=model,
            api=target.api,
            stop_reason=result.stop_reason,
            usage=result.usage,
        )

    # --- completion ---------------------------------------------------------------------

    async def complete(
        self,
        prefix: str,
        suffix: str,
        *,
        language_id: str = "",
        path: str | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
    ) -> CompleteResult:
        from .completion import build_context, build_prompt, postprocess

        if max_tokens is not None and max_tokens < 1:
            raise errors.InvalidParams("Invalid params: `maxTokens` must be at least 1.")
        chosen = self.model_for("completion", model)
        assert chosen is not None
        target = self.route_for(chosen)
        ctx = build_context(
            prefix,
            suffix,
            language_id=language_id,
            path=path,
            multiline=None if self.settings.completion.multiline else False,
        )
        limit = max_tokens or self.settings.completion.max_tokens
        key = (chosen, target.api, str(limit), ctx.language_id, ctx.prefix, ctx.suffix)
        hit = self._completions.get(key)
        if hit is not None:
            self._completions.move_to_end(key)
            return CompleteResult(
                items=[CompletionItem(hit)] if hit else [],
                model=chosen,
                api=target.api,
                cached=True,
            )
        prompt = build_prompt(ctx, target.api)
        messages = [Message("system", prompt.system)] if prompt.system else []
        messages += [Message("user" if r == "user" else "assistant", c) for r, c in prompt.messages]
        if prompt.prefill:
            messages.append(Message("assistant", prompt.prefill))
        req = LlmRequest(
            model=chosen,
            messages=tuple(messages),
            max_tokens=limit,
            temperature=0.0,
            stop=prompt.stop,
            purpose="completion",
        )
        self._status(Status(state="inProgress", model=chosen))
        started = time.perf_counter()
        try:
            result = await generate(
                self.http,
                target,
                self._require_token(),
                req,
                extra_headers=self.settings.headers,
                read_timeout=self.settings.completion.timeout,
                retries=1,
            )
        except errors.ArdaemonError as exc:
            self._status(Status(state="error", message=exc.message, model=chosen, kind=exc.kind))
            raise
        except BaseException:
            self._status(Status(state="idle", model=chosen))
            raise
        text = postprocess(result.text, ctx)
        log.info(
            "completion %s via %s: %d chars in %.0f ms",
            chosen,
            target.api,
            len(text),
            (time.perf_counter() - started) * 1000,
        )
        self._completions[key] = text
        if len(self._completions) > CACHE_SIZE:
            self._completions.popitem(last=False)
        self._status(Status(state="idle", model=chosen))
        return CompleteResult(
            items=[CompletionItem(text)] if text else [], model=chosen, api=target.api, cached=False
        )

    def _status(self, status: Status) -> None:
        if self.on_status is not None:
            self.on_status(status)

    async def aclose(self) -> None:
        await self.http.aclose()


class _Empty:
    def get(self, model_id: str) -> None:
        return None


_EMPTY = _Empty()
