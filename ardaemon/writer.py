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
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import deque
from typing import Protocol

from .transport import is_pipe

log = logging.getLogger(__name__)

#: Bytes joined into one write; bigger bursts go out in several.
MAX_BATCH = 1 << 20


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    async def aclose(self, timeout: float = 5.0) -> None: ...


async def open_writer(fd: int) -> Writer:
    if is_pipe(fd):
        try:
            return await PipeWriter.open(fd)
        except (OSError, ValueError) as exc:
            log.debug("no pipe transport for stdout (%s); using a writer thread", exc)
    return QueueWriter(fd)


class _Lost(asyncio.BaseProtocol):
    def __init__(self) -> None:
        self.lost = False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost and exc is not None:
            log.warning("stdout closed (%s); dropping outgoing messages", exc)
        self.lost = True


class PipeWriter:
    def __init__(self, transport: asyncio.WriteTransport, protocol: _Lost) -> None:
        self._transport = transport
        self._protocol = protocol
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        # Never pause: the daemon cannot hold back its answers, only queue them.
        transport.set_write_buffer_limits(high=1 << 62)

    @classmethod
    async def open(cls, fd: int) -> PipeWriter:
        pipe = os.fdopen(fd, "wb", buffering=0, closefd=False)
        transport, protocol = await asyncio.get_running_loop().connect_write_pipe(_Lost, pipe)
        return cls(transport, protocol)

    def write(self, data: bytes) -> None:
        if self._protocol.lost:
            return
        self._pending.append(data)
        if len(self._pending) == 1:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._pending and not self._protocol.lost:
            self._transport.write(b"".join(self._pending))
        self._pending.clear()

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let what is buffered reach the editor (within `timeout`), then close."""
        self._flush()
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
        self._queue: deque[bytes] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._broken = False
        self._thread = threading.Thread(target=self._drain, name="ardaemon-stdout", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        if self._broken:
            return
        with self._wake:
            self._queue.append(data)
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
            parts = [self._queue.popleft()]
            size = len(parts[0])
            while self._queue and size < MAX_BATCH:
                parts.append(self._queue.popleft())
                size += len(parts[-1])
        return parts[0] if len(parts) == 1 else b"".join(parts)

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
