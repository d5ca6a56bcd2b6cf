"""Server-sent events from an open httpx response.

httpx-sse does the framing (multi-line `data:`, comments such as `: ping`, CRLF, `event:`
names) the way the SSE spec says; hand-rolled splitting on blank lines gets these wrong.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
from httpx_sse import EventSource

from . import errors
from .wire.faults import error_in_body


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event name, data) pairs; a non-SSE answer is read and classified instead."""
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        body = await response.aread()
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        raise error_in_body(data) or errors.BadResponse(
            reason="not_event_stream", content_type=content_type or "no content type"
        )
    async for sse in EventSource(response).aiter_sse():
        yield sse.event, sse.data
