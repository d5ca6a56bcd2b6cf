"""The outgoing writer: `write` never blocks the caller, frames leave in call order."""

from __future__ import annotations

import os
import threading

from ardaemon.writer import PipeWriter, QueueWriter, open_writer


def read_all(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 65536):
        into += chunk


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
    got = bytearray()
    reader = threading.Thread(target=read_all, args=(r, got))
    reader.start()
    await writer.aclose()
    os.close(w)
    reader.join(10)
    os.close(r)
    assert bytes(got) == b"".join(frames)


async def test_stdout_as_a_pipe_gets_the_pipe_writer() -> None:
    r, w = os.pipe()
    writer = await open_writer(w)
    assert isinstance(writer, PipeWriter)
    writer.write(b"hello")
    await writer.aclose()
    os.close(w)
    assert os.read(r, 100) == b"hello"
    os.close(r)
