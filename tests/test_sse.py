"""SSE framing (`ardaemon.sse`) against the spec's examples and against a whole-text
reading of the same stream, however the bytes are split (mid-line, mid-CRLF, mid-UTF-8,
mid-BOM)."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from ardaemon import errors
from ardaemon.sse import Framer, events


def framed(*chunks: bytes) -> list[tuple[str, str]]:
    framer = Framer()
    return [pair for chunk in chunks for pair in framer.feed(chunk)]


def every_split(data: bytes) -> list[list[tuple[str, str]]]:
    """The events for `data` cut in two at every byte, and fed a byte at a time."""
    outs = [framed(data[:i], data[i:]) for i in range(1, len(data))]
    outs.append(framed(*(data[i : i + 1] for i in range(len(data)))))
    return outs


# --- the spec's own examples (WHATWG HTML, "server-sent events") -------------------------


def test_multi_line_data_joins_with_newlines() -> None:
    data = b"data: YHOO\ndata: +2\ndata: 10\n\n"
    assert framed(data) == [("message", "YHOO\n+2\n10")]


def test_comments_ids_and_the_one_optional_space() -> None:
    data = (
        b": test stream\n\ndata: first event\nid: 1\n\n"
        b"data:second event\nid\n\ndata:  third event\n\n"
    )
    assert framed(data) == [
        ("message", "first event"),
        ("message", "second event"),
        ("message", " third event"),
    ]


def test_empty_data_fields_and_an_unfinished_last_event() -> None:
    # "data" alone is a data field with an empty value; the last event never ended.
    assert framed(b"data\n\ndata\ndata\n\ndata:") == [("message", ""), ("message", "\n")]


def test_the_space_after_the_colon_is_optional() -> None:
    assert framed(b"data:test\n\ndata: test\n\n") == [("message", "test"), ("message", "test")]


# --- names, comments, fields ---------------------------------------------------------------


def test_event_names_apply_to_one_event_and_need_data() -> None:
    data = (
        b"event: message_start\ndata: {}\n\n"
        b"data: plain\n\n"
        b"event: ping\n\n"  # no data: nothing is dispatched, and the name is forgotten
        b"data: after\n\n"
        b": keep-alive comment\n"
        b"retry: 100\nfoo: bar\nevent: done\ndata: [DONE]\n\n"
    )
    assert framed(data) == [
        ("message_start", "{}"),
        ("message", "plain"),
        ("message", "after"),
        ("done", "[DONE]"),
    ]


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending(end: bytes) -> None:
    data = end.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    for out in [framed(data), *every_split(data)]:
        assert out == [("e", "a\nb"), ("message", "c")]


def test_a_crlf_split_between_reads_is_one_line_end() -> None:
    # Read as CR then LF, the LF would be a blank line and dispatch "a" alone.
    assert framed(b"data: a\r", b"\ndata: b\r\n\r\n") == [("message", "a\nb")]
    assert framed(b"data: a\r", b"\r\n") == [("message", "a")]
    assert framed(b"data: a\r", b"", b"\n\n") == [("message", "a")]


def test_utf8_split_anywhere_and_a_leading_bom() -> None:
    data = "\ufeffdata: héllo 🙂 日本\n\n".encode()
    for out in [framed(data), *every_split(data)]:
        assert out == [("message", "héllo 🙂 日本")]
    # Only one BOM is dropped; a second one is part of a field name (ignored).
    assert framed("\ufeff\ufeffdata: x\n\ndata: y\n\n".encode()) == [("message", "y")]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert framed(b"data: a\xffb\n\n") == [("message", "a\ufffdb")]


def test_one_read_gives_all_its_events_at_once() -> None:
    framer = Framer()
    assert framer.feed(b"data: 1\n\ndata: 2\n\ndata: 3") == [("message", "1"), ("message", "2")]
    assert framer.feed(b"\n\n") == [("message", "3")]


# --- random streams against a whole-text reading -------------------------------------------


def reference(data: bytes) -> list[tuple[str, str]]:
    """The spec's algorithm, written out plainly over the whole decoded text."""
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)[:-1]  # the last piece is unterminated
    out: list[tuple[str, str]] = []
    event, buffer = "", ""
    for line in lines:
        if line == "":
            if buffer:
                out.append((event or "message", buffer[:-1]))
            event, buffer = "", ""
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                buffer += value + "\n"
            elif name == "event":
                event = value
    return out


PIECES = [
    b'data: {"x": 1}',
    b"data:",
    b"data",
    b"data:  two spaces",
    "data: é🙂".encode(),
    b"event: content_block_delta",
    b"event:",
    b": ping",
    b":",
    b"id: 7",
    b"retry: 3000",
    b"other: field",
    b"data: a:b:c",
    b"",
    b"",
]


def test_random_streams_and_random_reads_match_the_whole_text_reading() -> None:
    rng = random.Random(12)
    for trial in range(400):
        ends = [b"\n", b"\r\n", b"\r"]
        parts = [rng.choice(PIECES) + rng.choice(ends) for _ in range(rng.randint(0, 40))]
        data = (b"\xef\xbb\xbf" if trial % 5 == 0 else b"") + b"".join(parts)
        expected = reference(data)
        k = max(0, min(len(data) - 1, rng.randint(0, 30)))
        cuts = sorted(rng.sample(range(1, len(data)), k))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert framed(*chunks) == expected, (trial, chunks)


# --- over an httpx response ----------------------------------------------------------------


class Pieces(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def read_events(content_type: str, chunks: list[bytes]) -> list[list[tuple[str, str]]]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, stream=Pieces(chunks))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with client, client.stream("GET", "http://gateway.test/") as response:
        return [batch async for batch in events(response)]


async def test_events_come_per_read_from_a_response() -> None:
    chunks = [b"data: a\n\ndata: b\n", b"\ndata: c\r", b"\n\r\n", b": ping\n\n"]
    got = await read_events("text/event-stream; charset=utf-8", chunks)
    assert got == [[("message", "a")], [("message", "b")], [("message", "c")]]


async def test_a_json_error_instead_of_a_stream_is_classified() -> None:
    body = b'{"error": {"message": "model overloaded", "type": "overloaded_error"}}'
    with pytest.raises(errors.ArdaemonError):
        await read_events("application/json", [body])
    with pytest.raises(errors.BadResponse):
        await read_events("text/html", [b"<html>"])
