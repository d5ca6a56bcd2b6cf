"""Incoming LSP base-protocol frames on stdin: bounded, resynchronising, never deaf.

pygls's reader (`pygls.io_.run_async`) stops reading for good after one malformed
header (it waits for a `Content-Length` it will never accept), trusts any declared
length (10^11 → MemoryError) and matches the header name case-sensitively. This reader
replaces it: it caps a frame at `MAX_FRAME` bytes, skips junk up to the next valid
`Content-Length` header and logs one WARNING line per skipped stretch.

It reads the file descriptor with `os.read` on a daemon thread, so a stop on a signal
never waits for (or deadlocks on) a blocked read of stdin.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

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
    """Blocking reader of frame bodies; `read()` returns None at end of input."""

    def __init__(self, read: Callable[[int], bytes], max_frame: int = MAX_FRAME) -> None:
        self._read = read
        self._buf = bytearray()
        self.max_frame = max_frame
        self.skipped = 0  # junk bytes dropped since the last good frame
        self.failed = False  # input ended because reading raised, not at EOF

    def read(self) -> bytes | None:
        length: int | None = None
        in_headers = False
        pending: bytes | None = None
        while True:
            line = pending if pending is not None else self._line()
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
                    body = self._exactly(length)
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

    def _fill(self, want: int = CHUNK) -> bool:
        chunk = self._read(max(CHUNK, want))
        if not chunk:
            return False
        self._buf += chunk
        return True

    def _line(self) -> bytes | None:
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
            if not self._fill():
                if not self._buf:
                    return None
                line = bytes(self._buf)
                self._buf.clear()
                return line

    def _exactly(self, n: int) -> bytes | None:
        while len(self._buf) < n:
            if not self._fill(n - len(self._buf)):
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
