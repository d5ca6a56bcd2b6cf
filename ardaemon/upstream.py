"""Everything that goes to the gateway: model requests and the catalog request.

`generate` is the single path every chat and completion takes upstream (route → adapter →
HTTP/SSE → one result shape). Streaming deltas
go to `on_delta` as they arrive; the upstream response is closed in `finally`, so a
cancelled task (the editor's `$/cancelRequest`, or the total deadline) stops generation
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TypedDict, get_args

import httpx
import msgspec

from . import errors
from .catalog import CachedCatalog
from .config import SettingsStore
from .http import Call, Http, send, transport_error
from .providers import ProviderSpec
from .router import ANTHROPIC_VERSION, CATALOG_PATH, Route, auth_headers
from .settings import Settings
from .sse import events
from .streamloop import StreamLoop
from .wire import Adapter, anthropic, catalog, fim, openai
from .wire.base import (
    FimInput,
    Finish,
    LlmRequest,
    LlmResult,
    Message,
    TextDelta,
    ThinkFilter,
    UsageReport,
)

__all__ = [
    "FimInput",
    "LlmRequest",
    "LlmResult",
    "Message",
    "Upstream",
    "generate",
    "list_models",
]


#: The wire formats, by `Route.api`; mypy checks each module against `wire.Adapter` here.
ADAPTERS: dict[str, Adapter] = {"openai": openai, "anthropic": anthropic}
#: Native fill-in-the-middle, one adapter per dialect (`wire/fim.py`, `router.FIM_PATHS`).
FIM_ADAPTERS: dict[str, Adapter] = {d: fim.Adapter(d) for d in get_args(fim.Dialect)}


async def generate(
    http: Http,
    route: Route,
    token: str | None,
    req: LlmRequest,
    *,
    extra_headers: dict[str, str],
    read_timeout: float,
    retries: int = 2,
    max_retry_wait: float = 60.0,
    on_delta: Callable[[str], None] | None = None,
    read_timeout_setting: str = "requestTimeout",
    total_timeout: float | None = None,
    timeout_setting: str = "requestTimeout",
) -> LlmResult:
    """`read_timeout` bounds the wait for each byte; `total_timeout` the whole exchange
    (retries included): a gateway that drips a byte every few seconds cannot hold a
    request for minutes. Timeout messages name the setting (key) that applies."""
    adapter = FIM_ADAPTERS[route.fim] if route.fim else ADAPTERS[route.api]
    if req.stream_usage != route.provider.stream_usage:
        req = msgspec.structs.replace(req, stream_usage=route.provider.stream_usage)
    call = Call(
        method="POST",
        url=route.url,
        headers=route.headers(token),
        body=json.dumps(adapter.build_body(req)).encode(),
        read_timeout=read_timeout,
        retries=retries,
        max_retry_wait=max_retry_wait,
        timeout_setting=read_timeout_setting,
    )
    async with http.use(route.base_url, extra_headers) as client:
        with _about(route.provider, req.model):
            exchange = _exchange(client, call, adapter, req, on_delta)
            if total_timeout is None:
                return await exchange
            try:
                if sys.version_info >= (3, 11):
                    # No task of its own (wait_for's costs a task and loop turns a request).
                    async with asyncio.timeout(total_timeout):
                        return await exchange
                return await asyncio.wait_for(exchange, total_timeout)
            except asyncio.TimeoutError:
                raise errors.Timeout(
                    reason="total", seconds=total_timeout, setting_key=timeout_setting
                ) from None


@contextlib.contextmanager
def _about(provider: ProviderSpec, model: str | None) -> Iterator[None]:
    """The one place an upstream error learns who and which model it is about."""
    try:
        yield
    except errors.ArdaemonError as exc:
        exc.add_context(
            provider=provider.label or provider.name,
            token_env=provider.token_env,
            base_url_env=provider.base_url_env,
            model=model,
        )
        raise


async def _exchange(
    client: httpx.AsyncClient,
    call: Call,
    adapter: Adapter,
    req: LlmRequest,
    on_delta: Callable[[str], None] | None,
) -> LlmResult:
    response = await send(client, call)
    try:
        if not req.stream:
            try:
                body = await response.aread()
            except httpx.HTTPError as exc:
                raise transport_error(exc, call) from None
            try:
                data = json.loads(body)
            except ValueError:
                raise errors.BadResponse(reason="not_json") from None
            result = adapter.parse_result(data)
            result.text = _strip_think(result.text)
        else:
            result = await _stream(response, adapter, call, on_delta)
    finally:
        await response.aclose()
    result.cost = header_cost(response.headers)
    return result


def header_cost(headers: Mapping[str, str]) -> float | None:
    """LiteLLM's per-call cost header, when it is a usable number."""
    raw = headers.get("x-litellm-response-cost")
    try:
        cost = float(raw) if raw else None
    except ValueError:
        return None
    return cost if cost is not None and math.isfinite(cost) and cost >= 0 else None


async def _stream(
    response: httpx.Response,
    adapter: Adapter,
    call: Call,
    on_delta: Callable[[str], None] | None,
) -> LlmResult:
    parser = adapter.StreamParser()
    think = ThinkFilter()
    parts: list[str] = []
    result = LlmResult(text="", stop_reason="")

    def emit(text: str) -> None:
        if text:
            parts.append(text)
            if on_delta is not None:
                on_delta(text)

    try:
        async for batch in events(response):
            texts: list[str] = []  # one hand-over per network read, not per event
            try:
                for event, data in batch:
                    for item in parser.feed(event, data):
                        if isinstance(item, TextDelta):
                            texts.append(item.text)
                        elif isinstance(item, Finish):
                            result.stop_reason = item.stop_reason
                        elif isinstance(item, UsageReport):
                            result.usage = item.usage
                    if parser.done:
                        break
            finally:  # text before an error event still reaches the editor first
                if texts:
                    emit(think.feed("".join(texts)))
            if parser.done:
                break
    except httpx.HTTPError as exc:
        raise transport_error(exc, call) from None
    emit(think.flush())
    if not parser.done and not result.stop_reason:
        raise errors.NetworkError(reason="stream_cut")
    result.text = "".join(parts)
    result.stop_reason = result.stop_reason or "end_turn"
    return result


def _strip_think(text: str) -> str:
    think = ThinkFilter()
    return think.feed(text) + think.flush()


async def list_models(
    http: Http,
    provider: ProviderSpec,
    base_url: str,
    token: str | None,
    *,
    extra_headers: dict[str, str],
    timeout: float,
) -> CachedCatalog:
    """`GET /v1/models`, always over the network (the cache is `catalog.CatalogStore`)."""
    with _about(provider, None):
        headers = auth_headers(provider.auth, token)
        if provider.api == "anthropic":
            # Anthropic's own API wants its version header on every route, /v1/models too.
            headers["anthropic-version"] = ANTHROPIC_VERSION
        call = Call(
            method="GET",
            url=base_url + CATALOG_PATH,
            headers=headers,
            body=None,
            read_timeout=timeout,
        )
        async with http.use(base_url, extra_headers) as client:
            response = await send(client, call)
            try:
                body = await response.aread()
            except httpx.HTTPError as exc:
                raise transport_error(exc, call) from None
            finally:
                await response.aclose()
        try:
            data = json.loads(body)
        except ValueError:
            raise errors.BadResponse(reason="models_not_json") from None
        return CachedCatalog(
            provider=provider.name,
            base_url=base_url,
            fetched_at=time.time(),
            models=catalog.parse(data),
        )


class _ReadBudget(TypedDict):
    read_timeout: float


class Budget(_ReadBudget, total=False):
    """How long and how often one `generate` may try, and which setting says so."""

    read_timeout_setting: str
    total_timeout: float
    timeout_setting: str
    retries: int
    max_retry_wait: float


#: A suggestion that arrives after the user moved on is worthless: wait at most this long
#: for a server-requested retry.
COMPLETION_MAX_RETRY_WAIT = 2.0


class Upstream:
    """The way out for the current settings: one pool of httpx clients, model requests
    with the time budget of their purpose, and the catalog request."""

    def __init__(
        self,
        store: SettingsStore,
        transport: httpx.AsyncBaseTransport | None = None,
        stream_loop: StreamLoop | None = None,
    ) -> None:
        self.store = store
        self.http = Http(transport)
        #: Streamed requests run there, with clients of their own (a pool is per loop).
        self.stream_loop = stream_loop
        self.stream_http = Http(transport)

    async def generate(
        self,
        target: Route,
        token: str | None,
        req: LlmRequest,
        on_delta: Callable[[str], None] | None = None,
        *,
        settings: Settings | None = None,
        deadline: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> LlmResult:
        """`settings`: a document's view (project file) instead of the global one;
        `deadline` (monotonic): the time left for a fallback; `headers`: instead of the
        user's (a fallback on another provider gets none of them)."""
        s = settings or self.store.settings
        budget: Budget
        if req.purpose == "completion":
            budget = Budget(
                read_timeout=s.completion.timeout,
                read_timeout_setting="completion.timeout",
                total_timeout=s.completion.timeout,
                timeout_setting="completion.timeout",
                retries=1,
                max_retry_wait=COMPLETION_MAX_RETRY_WAIT,
            )
        else:
            budget = Budget(
                read_timeout=s.request_timeout,
                total_timeout=s.chat.timeout,
                timeout_setting="chat.timeout",
            )
        if deadline is not None:
            left = max(0.0, deadline - time.monotonic())
            budget["total_timeout"] = min(budget.get("total_timeout", left), left)
        extra_headers = s.headers if headers is None else headers

        def run(http: Http, deltas: Callable[[str], None] | None) -> Awaitable[LlmResult]:
            return generate(
                http, target, token, req, extra_headers=extra_headers, on_delta=deltas, **budget
            )

        if self.stream_loop is None or not req.stream:
            return await run(self.http, on_delta)
        return await self.stream_loop.run(lambda deltas: run(self.stream_http, deltas), on_delta)

    async def list_models(self, token: str | None) -> CachedCatalog:
        s = self.store.settings
        return await list_models(
            self.http,
            self.store.provider,
            self.store.base_url,
            token,
            extra_headers=s.headers,
            timeout=min(s.request_timeout, 30.0),
        )

    async def aclose(self) -> None:
        await self.http.aclose()
        if self.stream_loop is not None:
            await self.stream_loop.aclose_soon(self.stream_http.aclose)
