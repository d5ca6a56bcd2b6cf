"""Run one model request: route → adapter → HTTP/SSE → one result shape.

`generate` is the single path every chat and completion takes upstream. Streaming deltas
go to `on_delta` as they arrive; the upstream response is closed in `finally`, so a
cancelled task (the editor's `$/cancelRequest`, or the total deadline) stops generation
at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx

from . import errors
from .http import Call, Http, send, transport_error
from .router import Route
from .sse import events
from .wire import ADAPTERS, Adapter
from .wire.base import Finish, LlmRequest, LlmResult, Message, TextDelta, ThinkFilter, UsageReport

__all__ = ["LlmRequest", "LlmResult", "Message", "generate"]


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
    read_timeout_setting: str = "ardaemon.requestTimeout",
    total_timeout: float | None = None,
    timeout_setting: str = "ardaemon.requestTimeout",
) -> LlmResult:
    """`read_timeout` bounds the wait for each byte; `total_timeout` the whole exchange
    (retries included): a gateway that drips a byte every few seconds cannot hold a
    request for minutes. Timeout messages name the setting that applies."""
    adapter = ADAPTERS[route.api]
    label = route.provider.label or route.provider.name
    call = Call(
        method="POST",
        url=route.url,
        headers=route.headers(token),
        body=json.dumps(adapter.build_body(req)).encode(),
        read_timeout=read_timeout,
        retries=retries,
        max_retry_wait=max_retry_wait,
        label=label,
        model=req.model,
        token_env=route.provider.token_env,
        timeout_setting=read_timeout_setting,
    )
    client = http.client(route.base_url, extra_headers)
    exchange = _exchange(client, call, adapter, req, on_delta)
    if total_timeout is None:
        return await exchange
    try:
        return await asyncio.wait_for(exchange, total_timeout)
    except asyncio.TimeoutError:
        raise errors.Timeout(
            f"{label} did not finish within {total_timeout:g} s: try again, or raise "
            f"`{timeout_setting}`.",
            model=req.model,
        ) from None


async def _exchange(
    client: httpx.AsyncClient,
    call: Call,
    adapter: Adapter,
    req: LlmRequest,
    on_delta: Callable[[str], None] | None,
) -> LlmResult:
    label = call.label
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
                raise errors.BadResponse(
                    f"{label} sent a reply that is not JSON: check the base URL.", model=req.model
                ) from None
            result: LlmResult = adapter.parse_result(data, label, req.model)
            result.text = _strip_think(result.text)
            return result
        return await _stream(response, adapter, call, on_delta)
    finally:
        await response.aclose()


async def _stream(
    response: httpx.Response,
    adapter: Adapter,
    call: Call,
    on_delta: Callable[[str], None] | None,
) -> LlmResult:
    label, model = call.label, call.model or ""
    parser = adapter.StreamParser(label, model)
    think = ThinkFilter()
    parts: list[str] = []
    result = LlmResult(text="", stop_reason="")

    def emit(text: str) -> None:
        if text:
            parts.append(text)
            if on_delta is not None:
                on_delta(text)

    try:
        async for event, data in events(response, label, model):
            for item in parser.feed(event, data):
                if isinstance(item, TextDelta):
                    emit(think.feed(item.text))
                elif isinstance(item, Finish):
                    result.stop_reason = item.stop_reason
                elif isinstance(item, UsageReport):
                    result.usage = item.usage
            if parser.done:
                break
    except httpx.HTTPError as exc:
        raise transport_error(exc, call) from None
    emit(think.flush())
    if not parser.done and not result.stop_reason:
        raise errors.NetworkError(
            f"{label} closed the stream before the reply was complete: try again.", model=model
        )
    result.text = "".join(parts)
    result.stop_reason = result.stop_reason or "end_turn"
    return result


def _strip_think(text: str) -> str:
    think = ThinkFilter()
    return think.feed(text) + think.flush()
