"""Outgoing frames to stdout without ever blocking the event loop, in order.

pygls writes each message with a blocking `write` + `flush`: when the editor reads slowly
(100 chats streaming) the whole loop stalls on a full pipe, and every request waits.

- `PipeWriter`, when stdout is a pipe or a socket (how editors start the daemon): an
  asyncio pipe transport, no thread (no hand-over of the GIL per message). What one turn
  of the loop writes goes out in one system call right after it (each write wakes the
  editor, which on a busy machine takes the CPU from us); what the pipe has no room for
  is buffered, in order.
- `QueueWriter` otherwise (a terminal, a file, Windows): `write` appends to a queue that
  one thread drains, joining what piled up into one `os.write`. Making a terminal
  non-blocking would leak O_NONBLOCK into the shell that shares it.

Both queue in an `Outbox`: an answer to a request goes ahead of the `$/progress` of other
requests waiting before it (while 100 chats stream), never ahead of its own request's
(a chat's text stays before its result) or of any other frame.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Hashable
from typing import Protocol

from .transport import is_pipe

log = logging.getLogger(__name__)

#: Bytes joined into one write; bigger bursts go out in several.
MAX_BATCH = 1 << 20
#: Bytes the pipe transport holds before frames wait in the outbox instead.
HIGH_WATER = 64 * 1024


class Writer(Protocol):
    def write(self, data: bytes, owner: Hashable = None, answer: bool = False) -> None: ...

    def close(self) -> None: ...

    async def aclose(self, timeout: float = 5.0) -> None: ...


class Outbox:
    """Frames not yet written, in the order they are to leave.

    `owner` is the id of the request a frame answers (`answer`) or reports progress of;
    None for every other frame. An answer goes ahead of the progress of other requests
    waiting before it (the editor waits on the answer; the progress is only text to show),
    never ahead of its own request's progress, another answer or any other frame. So each
    request's frames keep their order, and the notifications keep theirs."""

    def __init__(self) -> None:
        self._frames: list[tuple[bytes, Hashable, bool]] = []
        self.size = 0

    def __len__(self) -> int:
        return len(self._frames)

    def add(self, data: bytes, owner: Hashable = None, answer: bool = False) -> None:
        frames = self._frames
        at = len(frames)
        if answer:
            while at and not frames[at - 1][2] and frames[at - 1][1] not in (None, owner):
                at -= 1
        frames.insert(at, (data, owner, answer))
        self.size += len(data)

    def take(self, limit: int = MAX_BATCH) -> bytes:
        """The frames from the front, joined: all of them, or at least one and up to
        `limit` bytes."""
        frames = self._frames
        count, size = 0, 0
        while count < len(frames) and (count == 0 or size + len(frames[count][0]) <= limit):
            size += len(frames[count][0])
            count += 1
        data = frames[0][0] if count == 1 else b"".join(f[0] for f in frames[:count])
        del frames[:count]
        self.size -= size
        return data

    def clear(self) -> None:
        self._frames.clear()
        self.size = 0


async def open_writer(fd: int) -> Writer:
    if is_pipe(fd):
        try:
            return await PipeWriter.open(fd)
        except (OSError, ValueError) as exc:
            log.debug("no pipe transport for stdout (%s); using a writer thread", exc)
    return QueueWriter(fd)


class _Pipe(asyncio.BaseProtocol):
    def __init__(self) -> None:
        self.lost = False
        self.paused = False
        self.on_resume: Callable[[], None] = lambda: None

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.on_resume()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost and exc is not None:
            log.warning("stdout closed (%s); dropping outgoing messages", exc)
        self.lost = True


class PipeWriter:
    def __init__(self, transport: asyncio.WriteTransport, protocol: _Pipe) -> None:
        self._transport = transport
        self._protocol = protocol
        self._outbox = Outbox()
        self._due = False
        self._loop = asyncio.get_running_loop()
        # Past HIGH_WATER in the transport (the editor reads slower than we write), frames
        # wait in the outbox, where an answer can still go ahead of other requests' progress.
        transport.set_write_buffer_limits(high=HIGH_WATER)
        protocol.on_resume = self._flush

    @classmethod
    async def open(cls, fd: int) -> PipeWriter:
        pipe = os.fdopen(fd, "wb", buffering=0, closefd=False)
        transport, protocol = await asyncio.get_running_loop().connect_write_pipe(_Pipe, pipe)
        return cls(transport, protocol)

    def write(self, data: bytes, owner: Hashable = None, answer: bool = False) -> None:
        if self._protocol.lost:
            return
        self._outbox.add(data, owner, answer)
        if not self._due:
            self._due = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._due = False
        while self._outbox and not self._protocol.paused and not self._protocol.lost:
            self._transport.write(self._outbox.take(HIGH_WATER))
        if self._protocol.lost:
            self._outbox.clear()

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let what is queued reach the editor (within `timeout`), then close."""
        while self._outbox and not self._protocol.lost:
            self._transport.write(self._outbox.take())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (
            not self._protocol.lost
            and self._transport.get_write_buffer_size()
            and loop.time() < deadline
        ):
            await asyncio.sleep(0.005)
        self.close()

    def close(self) -> None:
        self._transport.close()


class QueueWriter:
    """pygls' writer interface (`write`, `close`) over a file descriptor."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._queue = Outbox()
        self._wake = threading.Condition()
        self._closing = False
        self._broken = False
        self._thread = threading.Thread(target=self._drain, name="ardaemon-stdout", daemon=True)
        self._thread.start()

    def write(self, data: bytes, owner: Hashable = None, answer: bool = False) -> None:
        if self._broken:
            return
        with self._wake:
            self._queue.add(data, owner, answer)
            if len(self._queue) == 1:
                self._wake.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is queued (within `timeout`), then stop the thread."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join(timeout)

    async def aclose(self, timeout: float = 5.0) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close, timeout)

    def _take(self) -> bytes | None:
        with self._wake:
            while not self._queue:
                if self._closing:
                    return None
                self._wake.wait()
            return self._queue.take()

    def _drain(self) -> None:
        while (data := self._take()) is not None:
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as exc:  # the editor closed our stdout: nobody left to answer
                log.warning("stdout closed (%s); dropping outgoing messages", exc.strerror)
                self._broken = True
                with self._wake:
                    self._queue.clear()
                return
