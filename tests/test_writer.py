"""The outgoing writer: `write` never blocks the caller; frames leave in call order, except
that an answer goes ahead of other requests' notifications (`Outbox`)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import random
import threading
from types import SimpleNamespace
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol.json_rpc import JsonRPCRequestMessage

from ardaemon.jsonrpc import REQUEST, StrictProtocol
from ardaemon.writer import Outbox, PipeWriter, QueueWriter, open_writer


def read_all(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 65536):
        into += chunk


async def close_and_read(writer: PipeWriter, r: int, w: int) -> bytes:
    """Start reading the pipe only now, close the writer (it waits for the backlog to drain)
    and return everything the pipe carried."""
    got = bytearray()
    reader = threading.Thread(target=read_all, args=(r, got))
    reader.start()
    await writer.aclose()
    os.close(w)
    reader.join(10)
    os.close(r)
    return bytes(got)


def test_frames_leave_in_order_even_while_the_reader_is_not_reading() -> None:
    r, w = os.pipe()
    writer = QueueWriter(w)
    frames = [
        b'Content-Length: %d\r\n\r\n{"n": %d}' % (len(b'{"n": %d}' % i), i) for i in range(20000)
    ]
    # Far more than a pipe holds (64 KiB): with a blocking write this loop would hang,
    # since nobody reads yet.
    for frame in frames:
        writer.write(frame)
    got = bytearray()
    reader = threading.Thread(target=read_all, args=(r, got))
    reader.start()
    writer.close()
    os.close(w)
    reader.join(10)
    os.close(r)
    assert bytes(got) == b"".join(frames)


def test_writes_from_several_points_keep_their_order() -> None:
    r, w = os.pipe()
    got = bytearray()
    reader = threading.Thread(target=read_all, args=(r, got))
    reader.start()
    writer = QueueWriter(w)
    for i in range(3000):
        writer.write(b"%d," % i)
        if i % 97 == 0:
            threading.Event().wait(0.001)  # let the drain thread catch up mid-stream
    writer.close()
    os.close(w)
    reader.join(10)
    os.close(r)
    assert got.decode().split(",")[:-1] == [str(i) for i in range(3000)]


def test_a_closed_reader_drops_output_without_raising() -> None:
    r, w = os.pipe()
    os.close(r)
    writer = QueueWriter(w)
    for _ in range(100):
        writer.write(b"x" * 1000)
    writer.close()
    writer.write(b"after")  # still no exception
    os.close(w)


async def test_the_pipe_writer_never_blocks_the_loop_and_keeps_order() -> None:
    r, w = os.pipe()
    writer = await PipeWriter.open(w)
    frames = [b"%d;" % i for i in range(200000)]  # ~1.3 MB, far more than the pipe holds
    for frame in frames:
        writer.write(frame)  # returns at once although nobody reads yet
    assert await close_and_read(writer, r, w) == b"".join(frames)


async def test_stdout_as_a_pipe_gets_the_pipe_writer() -> None:
    r, w = os.pipe()
    writer = await open_writer(w)
    assert isinstance(writer, PipeWriter)
    writer.write(b"hello")
    await writer.aclose()
    os.close(w)
    assert os.read(r, 100) == b"hello"
    os.close(r)


def test_an_answer_goes_ahead_of_other_requests_progress_never_its_own() -> None:
    box = Outbox()
    box.add(b"p1a,", 1)
    box.add(b"p2a,", 2)
    box.add(b"p1b,", 1)
    box.add(b"r2,", 2, answer=True)  # chat 2 ends: behind its own text, ahead of chat 1's
    box.add(b"r4,", 4, answer=True)  # never ahead of an earlier answer
    box.add(b"status,")  # nor of any frame that is not a request's progress
    box.add(b"p1c,", 1)
    box.add(b"r3,", 3, answer=True)
    box.add(b"r1,", 1, answer=True)
    assert box.take() == b"p1a,p2a,r2,r4,p1b,status,r3,p1c,r1,"
    assert len(box) == 0 and box.size == 0


def test_random_outboxes_keep_each_requests_order_and_the_notifications_order() -> None:
    rng = random.Random(5)
    for _ in range(300):
        box = Outbox()
        written: list[tuple[bytes, int | None, bool]] = []
        answered: set[int] = set()
        for n in range(rng.randrange(1, 40)):
            owner = rng.choice([None, 1, 2, 3, 4])
            answer = owner is not None and owner not in answered and rng.random() < 0.2
            if owner in answered:
                owner = None
            if answer:
                answered.add(owner)  # type: ignore[arg-type]
            frame = b"%d;" % n
            written.append((frame, owner, answer))
            box.add(frame, owner, answer)
        out = box.take(limit=1 << 30).split(b";")[:-1]
        order = {int(f): i for i, f in enumerate(out)}
        assert sorted(order) == list(range(len(written)))
        notes = [n for n, w in enumerate(written) if not w[2]]
        answers = [n for n, w in enumerate(written) if w[2]]
        assert sorted(notes, key=order.get) == notes, "notifications keep their order"  # type: ignore[arg-type]
        assert sorted(answers, key=order.get) == answers, "answers keep their order"  # type: ignore[arg-type]
        for a in answers:
            before = [n for n in range(a) if written[n][1] in (None, written[a][1])]
            assert all(order[n] < order[a] for n in before), "only others' progress overtaken"


def test_take_joins_up_to_a_limit_but_at_least_one_frame() -> None:
    box = Outbox()
    for frame in (b"aaaa", b"bb", b"cc", b"dddddd"):
        box.add(frame)
    assert box.take(limit=3) == b"aaaa"
    assert box.take(limit=4) == b"bbcc"
    assert box.take() == b"dddddd"


async def test_while_the_editor_reads_slowly_an_answer_overtakes_queued_progress() -> None:
    r, w = os.pipe()
    writer = await PipeWriter.open(w)
    notes = [b"note %d;" % i for i in range(40000)]  # ~400 KB: the pipe and transport fill
    for note in notes:
        writer.write(note, owner=1)
    await asyncio.sleep(0.01)  # the loop writes what the pipe takes, the rest waits
    writer.write(b"answer;", owner=2, answer=True)
    out = (await close_and_read(writer, r, w)).split(b";")[:-1]
    assert sorted(out) == sorted([n[:-1] for n in notes] + [b"answer"])
    assert [f for f in out if f != b"answer"] == [n[:-1] for n in notes], "progress in order"
    assert out.index(b"answer") < len(out) // 2, "the answer did not wait behind all of it"


def test_answers_and_progress_are_marked_with_their_request() -> None:
    protocol = LanguageServer("a", "1", protocol_cls=StrictProtocol).protocol
    out: list[tuple[Any, Any, bool]] = []

    def write(data: bytes, owner: Any = None, answer: bool = False) -> None:
        out.append((json.loads(data.split(b"\r\n\r\n", 1)[1]), owner, answer))

    protocol.set_writer(SimpleNamespace(write=write))
    assert isinstance(protocol, StrictProtocol)
    in_request = contextvars.copy_context()
    in_request.run(REQUEST.set, 7)
    in_request.run(protocol.notify, "ardaemon/didChangeStatus", {"state": "busy"})
    protocol.notify("$/progress", {"token": "t", "value": {"delta": "x"}}, 7)
    protocol.notify("ardaemon/didChangeStatus", {"state": "idle"})
    protocol._send_response(7, result={"content": "x"})
    protocol._send_response(8, result=types.Position(line=1, character=2))
    assert [(m.get("method"), owner, answer) for m, owner, answer in out] == [
        ("ardaemon/didChangeStatus", None, False),
        ("$/progress", 7, False),
        ("ardaemon/didChangeStatus", None, False),
        (None, 7, True),
        (None, 8, True),
    ]


async def test_a_request_handler_knows_its_request_id() -> None:
    server = LanguageServer("a", "1", protocol_cls=StrictProtocol)
    seen: list[Any] = []

    @server.feature("test/whoami")
    async def whoami(params: Any) -> None:
        await asyncio.sleep(0)
        seen.append(REQUEST.get())

    server.protocol.set_writer(SimpleNamespace(write=lambda *_: None))
    server.protocol.handle_message(
        JsonRPCRequestMessage(id=41, method="test/whoami", params={}, jsonrpc="2.0")
    )
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == [41] and REQUEST.get() is None
