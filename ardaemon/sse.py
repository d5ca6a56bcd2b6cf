"""Server-sent events from an open httpx response, framed as the SSE spec says.

WHATWG HTML, "Parsing an event stream": lines end with CRLF, LF or CR; a line starting
with `:` is a comment; `field: value` loses one space after the colon; `data` lines join
with "\\n"; a blank line dispatches the event (none when no data came); `event` names it
("message" otherwise); a leading BOM is dropped; an unterminated last event is dropped.

Hand-written instead of httpx-sse: it frames the bytes of each network read in one pass
(no text decoder, line iterator and event object per line), and hands every event of
that read over at once, so a stream costs one step of the consumer per read, not per
event. 100 chats streaming are ~20,000 events a second.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from . import errors
from .wire.faults import error_in_body

BOM = b"\xef\xbb\xbf"


class Framer:
    """Bytes in (split anywhere: mid-line, mid-CRLF, mid-UTF-8), (event, data) pairs out."""

    def __init__(self) -> None:
        self._tail = b""  # an unfinished line
        self._after_cr = False  # the last byte seen ended a line with CR: skip one LF
        self._started = False  # past a possible BOM
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buf = self._tail + chunk if self._tail else chunk
        if not self._started:
            if len(buf) < len(BOM) and BOM.startswith(buf):
                self._tail = buf  # may still become a BOM
                return []
            self._started = True
            if buf.startswith(BOM):
                buf = buf[len(BOM) :]
        if b"\r" in buf:
            self._after_cr = buf.endswith(b"\r")
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        self._tail = lines.pop()
        out: list[tuple[str, str]] = []
        for raw in lines:
            if not raw:
                if self._data:
                    out.append((self._event or "message", "\n".join(self._data)))
                    self._data = []
                self._event = ""
                continue
            line = raw.decode("utf-8", "replace")
            field, colon, value = line.partition(":")
            if not field and colon:
                continue  # a comment (": ping")
            if value[:1] == " ":
                value = value[1:]
            if field == "data":
                self._data.append(value)
            elif field == "event":
                self._event = value
            # `id` and `retry` matter to a reconnecting browser, not here; others are ignored.
        return out


async def events(response: httpx.Response) -> AsyncIterator[list[tuple[str, str]]]:
    """The (event name, data) pairs of each network read, as one list; a non-SSE answer
    is read and classified instead."""
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
    framer = Framer()
    async for chunk in response.aiter_bytes():
        batch = framer.feed(chunk)
        if batch:
            yield batch
