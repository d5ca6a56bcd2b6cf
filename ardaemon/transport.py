"""Incoming LSP base-protocol frames on stdin: bounded, resynchronising, never deaf.

pygls's reader (`pygls.io_.run_async`) stops reading for good after one malformed
header (it waits for a `Content-Length` it will never accept), trusts any declared
length (10^11 → MemoryError) and matches the header name case-sensitively. This reader
replaces it: it caps a frame at `MAX_FRAME` bytes, skips junk up to the next valid
`Content-Length` header and logs one WARNING line per skipped stretch.

When stdin is a pipe or a socket (how editors start the daemon) the event loop reads it
(`read_in_loop`): a request is parsed and dispatched in the loop turn its bytes arrive in.
A reader thread handing frames over would need the GIL and a loop turn per frame, and a
loop busy with 100 streams made a request wait behind ~100 such turns (seconds). Other
stdins (a terminal, a file, Windows) are read with `os.read` on a daemon thread
(`start_reader`), so a stop on a signal never waits for a blocked read; making a terminal
non-blocking would leak O_NONBLOCK into the shell that shares it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
import sys
import threading
from collections.abc import Callable, Generator
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
#: A parsing step: yields how many bytes it wants, is sent what was read (b"" at the end).
Steps = Generator[int, bytes, T]

#: Largest frame body accepted; larger ones are skipped with a log line.
MAX_FRAME = 64 * 1024 * 1024
#: A header line longer than this is junk (real ones are < 100 bytes).
MAX_LINE = 8192
#: Read-ahead chunk.
CHUNK = 64 * 1024
#: Frames read ahead of the dispatcher (back-pressure on a flooding client).
QUEUE_DEPTH = 16

# A Content-Length header, possibly glued to the end of junk (a body that was not
# framed right is usually followed directly by the next frame's header).
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?\n\Z", re.I)
_HEADER = re.compile(rb"[!#-'*+.0-9A-Z^-z|~-]+[ \t]*:[^\r\n]*\r?\n\Z")


class FrameReader:
    """Frame bodies from a byte stream: pulled with `read()` (with the blocking `read`
    callable; None at end of input) or pushed with `push(data)` as bytes arrive. One parser serves
    both (generators that ask for bytes), so resynchronisation is the same either way."""

    def __init__(self, read: Callable[[int], bytes], max_frame: int = MAX_FRAME) -> None:
        self._read = read
        self._buf = bytearray()
        self.max_frame = max_frame
        self.skipped = 0  # junk bytes dropped since the last good frame
        self.failed = False  # input ended because reading raised, not at EOF
        self._steps: Steps[bytes | None] | None = None  # a frame half parsed by `push`

    def read(self) -> bytes | None:
        """The next frame body, reading with the blocking `read` callable as needed."""
        steps = self._frame()
        try:
            want = next(steps)
            while True:
                want = steps.send(self._read(want))
        except StopIteration as done:
            result: bytes | None = done.value
            return result

    def push(self, data: bytes) -> list[bytes | None]:
        """The frames `data` completes, for a reader fed by the event loop; `b""` marks the
        end of input, and the list then ends with None."""
        out: list[bytes | None] = []
        pending: bytes | None = data
        while True:
            try:
                if self._steps is None:
                    self._steps = self._frame()
                    next(self._steps)  # a frame already buffered completes here
                if pending is None:
                    return out
                chunk = pending
                pending = None if chunk else b""  # once ended, every later read is empty
                self._steps.send(chunk)
            except StopIteration as done:
                self._steps = None
                out.append(done.value)
                if done.value is None:
                    return out

    def _frame(self) -> Steps[bytes | None]:
        length: int | None = None
        in_headers = False
        pending: bytes | None = None
        while True:
            line = pending if pending is not None else (yield from self._line())
            pending = None
            if line is None:
                if self.skipped:
                    self._report_skip("end of input")
                return None
            if in_headers:
                if line in (b"\r\n", b"\n"):
                    if length is None:
                        self._junk(line, "headers without Content-Length")
                        in_headers = False
                        continue
                    body = yield from self._exactly(length)
                    if body is None:
                        log.warning("input ended inside a %d-byte frame", length)
                        return None
                    if self.skipped:
                        self._report_skip("next valid frame")
                    return body
                match = _CONTENT_LENGTH.match(line)
                if match:
                    length = self._length(match.group(1))
                    if length is None:
                        in_headers = False
                elif not _HEADER.match(line):
                    # Headers that never ended with an empty line: rescan this line.
                    self._note("headers not ended by an empty line")
                    in_headers, length, pending = False, None, line
                continue
            match = _CONTENT_LENGTH.search(line)
            if match:
                if match.start():
                    self._junk(line[: match.start()], "junk before a header")
                length = self._length(match.group(1))
                in_headers = length is not None
            elif _HEADER.match(line):
                in_headers, length = True, None  # e.g. Content-Type first
            elif line not in (b"\r\n", b"\n"):
                self._junk(line, "not a header")

    def _length(self, raw: bytes) -> int | None:
        if not raw.isdigit() or len(raw) > 20:
            self._junk(raw, f"bad Content-Length {raw[:40]!r}")
            return None
        value = int(raw)
        if value > self.max_frame:
            log.warning(
                "frame of %d bytes is over the %d-byte cap; skipping to the next header",
                value,
                self.max_frame,
            )
            return None
        return value

    def _note(self, why: str) -> None:
        if not self.skipped:
            log.warning("malformed input (%s); resynchronising on the next header", why)
        self.skipped += 1

    def _junk(self, data: bytes, why: str) -> None:
        self._note(why)
        self.skipped += len(data)

    def _report_skip(self, where: str) -> None:
        log.warning("skipped %d bytes of malformed input before the %s", self.skipped, where)
        self.skipped = 0

    def _fill(self, want: int = CHUNK) -> Steps[bool]:
        chunk = yield max(CHUNK, want)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def _line(self) -> Steps[bytes | None]:
        """Up to and including `\\n`; a long run without one comes back in pieces
        that keep its last bytes for the next piece (a glued header stays whole)."""
        start = 0
        while True:
            end = self._buf.find(b"\n", start, MAX_LINE)
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line
            if len(self._buf) >= MAX_LINE:
                line = bytes(self._buf[: MAX_LINE - 256])
                del self._buf[: MAX_LINE - 256]
                return line
            start = len(self._buf)
            if not (yield from self._fill()):
                if not self._buf:
                    return None
                line = bytes(self._buf)
                self._buf.clear()
                return line

    def _exactly(self, n: int) -> Steps[bytes | None]:
        while len(self._buf) < n:
            if not (yield from self._fill(n - len(self._buf))):
                return None
        body = bytes(self._buf[:n])
        del self._buf[:n]
        return body


def read_fd(fd: int) -> Callable[[int], bytes]:
    def read(n: int) -> bytes:
        try:
            return os.read(fd, n)
        except OSError:
            return b""

    return read


def start_reader(
    reader: FrameReader, loop: asyncio.AbstractEventLoop
) -> asyncio.Queue[bytes | None]:
    """Frames from a daemon thread into a bounded queue; None marks end of input."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_DEPTH)

    def pump() -> None:
        while True:
            try:
                body = reader.read()
            except Exception:
                # A reader that dies quietly leaves a daemon alive but deaf: end input and
                # say why, so the daemon exits non-zero and the editor restarts it.
                log.exception("reading stdin failed")
                reader.failed = True
                body = None
            try:
                asyncio.run_coroutine_threadsafe(queue.put(body), loop).result()
            except RuntimeError:  # the loop is gone: we are stopping
                return
            if body is None:
                return

    threading.Thread(target=pump, name="ardaemon-stdin", daemon=True).start()
    return queue


def is_pipe(fd: int) -> bool:
    """A pipe or a socket, outside Windows: can be read (or written) by the event loop."""
    mode = os.fstat(fd).st_mode
    return sys.platform != "win32" and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode))


class _Intake(asyncio.Protocol):
    def __init__(self, reader: FrameReader, deliver: Callable[[bytes | None], None]) -> None:
        self._reader = reader
        self._deliver = deliver
        self._ended = False

    def data_received(self, data: bytes) -> None:
        try:
            bodies = self._reader.push(data)
        except Exception:
            log.exception("reading stdin failed")
            self._reader.failed = True
            bodies = [None]
        for body in bodies:
            self._give(body)

    def _give(self, body: bytes | None) -> None:
        if self._ended:
            return
        self._ended = body is None
        self._deliver(body)

    def eof_received(self) -> bool:
        self.data_received(b"")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.warning("reading stdin failed: %s", exc)
            self._reader.failed = True
        self._give(None)


async def read_in_loop(
    fd: int, reader: FrameReader, deliver: Callable[[bytes | None], None]
) -> asyncio.ReadTransport:
    """Read a pipe or socket `fd` on the running loop; `deliver` gets each frame body as it
    completes (in the same turn), then None once at end of input."""
    pipe = os.fdopen(fd, "rb", buffering=0, closefd=False)
    loop = asyncio.get_running_loop()
    read_transport, _ = await loop.connect_read_pipe(lambda: _Intake(reader, deliver), pipe)
    return read_transport
