"""httpcore's network layer on plain asyncio: sockets read by an asyncio Protocol, no anyio.

httpx's default backend goes through anyio on asyncio. Per read, httpcore's anyio stream
opens a cancel scope (`fail_after`); anyio then yields a loop turn when data is waiting,
or resumes the transport's reading for the wait and pauses it after (two epoll changes).
Every SSE chunk of every streamed chat pays that, on the thread that shares the GIL with
the request loop. Here reading stays on (paused only when much is left unread); `read`
takes what the protocol buffered and waits (a future, one timer per connection) only when
nothing is there. A request's writes (headers, then body) leave in one send.

Errors map as httpcore's anyio backend maps them, messages included, so the daemon's error
handling sees the same exceptions: `ConnectError` / `ConnectTimeout` for connect and TLS
set-up, `ReadError` / `ReadTimeout`, `WriteError` / `WriteTimeout`; EOF reads as b"".
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import ssl
import sys
from collections import deque
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import httpcore
import httpx
from httpcore import (
    AsyncNetworkBackend,
    AsyncNetworkStream,
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

#: Bytes buffered unread before the socket stops being read (httpcore reads 64 KiB at a
#: time); reading resumes once a read brings it under `LOW_WATER`.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
#: Writes are held (see `_Protocol.flush`) up to this many bytes.
FLUSH_SIZE = 64 * 1024
#: Stagger of connection attempts to a host's addresses (RFC 8305), as anyio's default.
HAPPY_EYEBALLS_DELAY = 0.25
#: asyncio runs TLS over a TLS connection (an HTTPS proxy's tunnel) from Python 3.11 on.
TLS_IN_TLS = sys.version_info >= (3, 11)
#: anyio's words for a refused or unreachable address; the daemon shows them to the user.
CONNECT_FAILED = "All connection attempts failed"


class _Protocol(asyncio.Protocol):
    """Buffers what the socket delivers; one waiter at a time (httpcore reads and writes
    a connection from one task at a time)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.eof = False
        #: The connection is gone: its error, or `None` for a clean close.
        self.lost: BaseException | None = None
        self.gone = False
        self.reading_paused = False
        self.writing_paused = False
        self.waiter: asyncio.Future[None] | None = None
        self.drain: asyncio.Future[None] | None = None
        #: Writes held until the task reads, or until the loop's next turn (`flush`).
        self.unsent: list[bytes] = []
        self.unsent_size = 0
        self.flush_due = False
        #: When a waiting read times out; one timer per connection follows it (below).
        self.deadline = math.inf
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        if self.size > HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close our side too: a client has nothing to send once the server is done

    def connection_lost(self, exc: Exception | None) -> None:
        self.gone, self.lost = True, exc
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._wake()
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)

    def wait_data(self, timeout: float | None) -> asyncio.Future[None]:
        """A future for the next data, EOF or loss; TimeoutError after `timeout`.

        The timer is not renewed per read (a call_later and its cancel on every chunk):
        it stays scheduled while later reads push the deadline out, and when it fires
        early it moves itself to the current deadline."""
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        if timeout is None:
            self.deadline = math.inf
        else:
            self.deadline = loop.time() + timeout
            if self.timer is None or self.timer.when() > self.deadline:
                if self.timer is not None:
                    self.timer.cancel()
                self.timer = loop.call_at(self.deadline, self._timer_fired)
        return self.waiter

    def _timer_fired(self) -> None:
        assert self.timer is not None
        fired_at, self.timer = self.timer.when(), None
        if self.waiter is None or self.waiter.done():
            return  # no read waits: the next one arms it again
        if self.deadline <= fired_at:
            self.waiter.set_exception(TimeoutError())
        elif self.deadline < math.inf:
            self.timer = asyncio.get_running_loop().call_at(self.deadline, self._timer_fired)

    def flush(self) -> None:
        self.flush_due = False
        unsent = self.unsent
        if not unsent:
            return
        data = unsent[0] if len(unsent) == 1 else b"".join(unsent)
        unsent.clear()
        self.unsent_size = 0
        if self.transport is not None and not self.gone:
            self.transport.write(data)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        chunks = self.chunks
        if len(chunks) == 1 and self.size <= max_bytes:  # the usual case: one read's worth
            data = chunks.popleft()
            self.size = 0
        else:
            out: list[bytes] = []
            room = max_bytes
            while chunks and room:
                piece = chunks.popleft()
                if len(piece) > room:
                    chunks.appendleft(piece[room:])
                    piece = piece[:room]
                out.append(piece)
                room -= len(piece)
            data = b"".join(out)
            self.size -= len(data)
        if self.reading_paused and self.size <= LOW_WATER and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()
        return data


class Stream(AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        if p.unsent:
            p.flush()
        if not p.size and not p.eof and not p.gone and not self._closed:
            try:
                await p.wait_data(timeout)
            except TimeoutError:
                raise ReadTimeout(TimeoutError()) from None
            finally:
                p.waiter = None
        if p.size:
            return p.take(max_bytes)
        if self._closed:
            raise ReadError("")
        if p.lost is not None:
            raise ReadError("") from p.lost
        return b""  # EOF (anyio's EndOfStream, which httpcore reads as b"")

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        p = self._protocol
        if self._closed:
            raise WriteError("")
        if p.gone or p.eof:  # after the peer's EOF our side closed too (`eof_received`)
            raise WriteError("") from p.lost
        p.unsent.append(buffer)
        p.unsent_size += len(buffer)
        if p.unsent_size < FLUSH_SIZE:
            if not p.flush_due:
                p.flush_due = True
                asyncio.get_running_loop().call_soon(p.flush)
            return
        p.flush()
        if p.writing_paused and not p.gone:
            p.drain = asyncio.get_running_loop().create_future()
            try:
                await _within(timeout, p.drain)
            except TimeoutError:
                raise WriteTimeout(TimeoutError()) from None
            finally:
                p.drain = None
            if p.lost is not None:
                raise WriteError("") from p.lost

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._protocol._wake()
            # At once, as anyio ends its close: nothing httpcore closes still needs sending,
            # and TLS's close_notify exchange could keep a dead peer's socket for 30 s.
            self._transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            tls = await _within(
                timeout,
                loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                ),
            )
        except TimeoutError:
            await self.aclose()
            raise ConnectTimeout(TimeoutError()) from None
        except OSError as exc:  # ssl.SSLError is one
            await self.aclose()
            raise ConnectError(exc) from exc
        if tls is None:  # the connection closed during the handshake
            await self.aclose()
            raise ConnectError("")
        assert isinstance(tls, asyncio.Transport)
        self._protocol.transport = tls
        return Stream(tls, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            # asyncio's socket-like view (fileno, getsockopt, setsockopt, names), not the
            # raw socket: reading it behind the loop's back would steal bytes.
            return self._transport.get_extra_info("socket")
        if info == "is_readable":
            # Reading stays on, so anything the peer sent (data, EOF, a reset) is already
            # here; with TLS, unlike a poll of the raw socket, a session ticket the server
            # sends after the handshake does not count as readable (it is TLS's own).
            p = self._protocol
            return bool(p.size) or p.eof or p.gone or self._closed
        return None


class Backend(AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncNetworkStream:
        if not 0 <= port <= 65535:
            # As the socket layer says it under anyio. asyncio would resolve a host name
            # with the port wrapped (99999 → 34463) and, racing addresses, lose the error.
            raise OverflowError("connect(): port must be 0-65535.")
        loop = asyncio.get_running_loop()
        connecting = loop.create_connection(
            _Protocol,
            host,
            port,
            local_addr=None if local_address is None else (local_address, 0),
            happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
        )  # asyncio turns Nagle off on TCP sockets (TCP_NODELAY), as anyio did
        return await self._connected(connecting, timeout, socket_options, CONNECT_FAILED)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncNetworkStream:
        connecting = asyncio.get_running_loop().create_unix_connection(_Protocol, path)
        return await self._connected(connecting, timeout, socket_options, failed=None)

    async def _connected(
        self,
        connecting: Awaitable[tuple[asyncio.Transport, _Protocol]],
        timeout: float | None,
        socket_options: Iterable[SocketOption] | None,
        failed: str | None,
    ) -> Stream:
        """`failed`: the words for an OSError (its own when None)."""
        try:
            transport, protocol = await _within(timeout, connecting)
        except TimeoutError:
            raise ConnectTimeout(TimeoutError()) from None
        except OSError as exc:
            # A name that does not resolve keeps its own words, as under anyio.
            own = failed is None or isinstance(exc, socket.gaierror)
            raise ConnectError(exc if own else failed) from exc
        try:
            sock = transport.get_extra_info("socket")
            for option in socket_options or ():
                sock.setsockopt(*option)
        except OSError as exc:
            transport.abort()
            raise ConnectError(exc) from exc
        return Stream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _within(timeout: float | None, step: Awaitable[T]) -> T:
    """Connect, TLS set-up and a write waiting for room: not per read, so a task for the
    timeout is fine."""
    try:
        return await asyncio.wait_for(step, timeout)
    except asyncio.TimeoutError:  # before Python 3.11 not the built-in TimeoutError
        raise TimeoutError() from None


BACKEND = Backend()


def install(client: httpx.AsyncClient) -> bool:
    """Make `client`'s connection pools (the direct one and those behind proxies) open
    their connections through `BACKEND`; before any request. httpx has no public way to
    hand its transports a network backend, so this sets httpcore's pool attribute; with
    httpx internals that differ, the client keeps httpcore's default (False). So does an
    HTTPS proxy's pool where asyncio cannot run TLS inside its TLS (`TLS_IN_TLS`)."""
    transports = [client._transport, *client._mounts.values()]
    pools = [getattr(t, "_pool", None) for t in transports if t is not None]
    if not all(isinstance(p, httpcore.AsyncConnectionPool) for p in pools):
        log.debug("httpx's transports are not as expected: httpcore's network backend kept")
        return False
    for pool in pools:
        assert isinstance(pool, httpcore.AsyncConnectionPool)
        if TLS_IN_TLS or not _https_proxy(pool):
            pool._network_backend = BACKEND
    return True


def _https_proxy(pool: httpcore.AsyncConnectionPool) -> bool:
    return isinstance(pool, httpcore.AsyncHTTPProxy) and pool._proxy_url.scheme == b"https"
