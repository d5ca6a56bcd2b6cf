"""The stdin frame parser fed by the event loop (`FrameReader.push`) gives exactly what the
blocking reader gives, however the bytes are split; `read_in_loop` delivers each frame and
then the end of input."""

from __future__ import annotations

import asyncio
import os
import random

from ardaemon import transport


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


#: Good frames mixed with what the reader must skip and resynchronise after.
STREAM = b"".join(
    [
        _frame(b'{"id":1}'),
        b"Content-Length: abc\r\n\r\n" + _frame(b'{"id":2}'),
        b"hello\n",
        b'content-LENGTH: 8\r\n\r\n{"id":3}',
        b'Content-Type: x\r\nContent-Length: 8\r\n\r\n{"id":4}',
        b"X-Junk: " + b"a" * 20000 + b"\r\n\r\n",
        bytes(range(256)) * 4,
        _frame('{"id":5,"t":"é\r\n"}'.encode()),
        b"Content-Length: 999999999999\r\n\r\n",
        _frame(b'{"id":6}'),
        b'Content-Length: 40\r\n\r\n{"id":7}',  # cut off by the end of input
    ]
)


def _pulled(data: bytes) -> list[bytes | None]:
    pieces = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    reader = transport.FrameReader(lambda n: pieces.pop(0) if pieces else b"")
    out: list[bytes | None] = []
    while (body := reader.read()) is not None:
        out.append(body)
    return [*out, None]


def test_pushed_pieces_of_any_size_give_the_frames_read_in_one_go() -> None:
    expected = _pulled(STREAM)
    assert len(expected) > 5 and expected[-1] is None
    rng = random.Random(7)
    for trial in range(200):
        reader = transport.FrameReader(lambda n: b"")
        got: list[bytes | None] = []
        at = 0
        while at < len(STREAM):
            size = 1 if trial % 10 == 0 else rng.randint(1, 3000)
            got += reader.push(STREAM[at : at + size])
            at += size
        assert None not in got
        got += reader.push(b"")
        assert got == expected, f"trial {trial}"
        assert reader.push(b"") == [None]  # ended stays ended


def test_a_frame_split_anywhere_comes_out_whole_once_complete() -> None:
    data = _frame(b'{"a":1}') + _frame(b'{"b":2}')
    for cut in range(1, len(data)):  # (b"" is the end of input)
        reader = transport.FrameReader(lambda n: b"")
        assert reader.push(data[:cut]) + reader.push(data[cut:]) == [b'{"a":1}', b'{"b":2}']


async def test_read_in_loop_delivers_frames_then_the_end() -> None:
    rfd, wfd = os.pipe()
    got: list[bytes | None] = []
    ended = asyncio.Event()

    def deliver(body: bytes | None) -> None:
        got.append(body)
        if body is None:
            ended.set()

    assert transport.is_pipe(rfd)
    reading = await transport.read_in_loop(rfd, transport.FrameReader(lambda n: b""), deliver)
    try:
        os.write(wfd, _frame(b'{"x":1}') + b"junk\n" + _frame(b'{"y":2}')[:10])
        os.write(wfd, _frame(b'{"y":2}')[10:])
        os.close(wfd)
        await asyncio.wait_for(ended.wait(), 5)
        assert got == [b'{"x":1}', b'{"y":2}', None]
    finally:
        reading.close()
        os.close(rfd)
