"""HTTP/1.1 over asyncio streams with h11: keep-alive, chunked SSE, and seeing clients go away.

While a response is being produced, a second task keeps reading the socket: end-of-file there
means the client closed the connection, which is how a real server notices cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import socket
import time
from urllib.parse import urlsplit

import h11

from . import routes
from .routes import Reply
from .state import RecordedRequest, State

_READ_SIZE = 65536
BACKLOG = 1024
logger = logging.getLogger(__name__)


class GatewayServer:
    def __init__(self, state: State, host: str, port: int) -> None:
        self.state = state
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        # A backlog that takes 100+ connections at once: benchmarks open that many streams.
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self.port, backlog=BACKLOG
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.state.note_connection()
        sock = writer.get_extra_info("socket")
        if sock is not None:  # Nagle would hold small SSE chunks back for the next ACK
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await _Connection(self.state, reader, writer).run()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client left, or the server is stopping: nothing to answer
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _Connection:
    def __init__(
        self, state: State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.state = state
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.SERVER)
        self.client_gone = False

    async def run(self) -> None:
        while True:
            try:
                request = await self._read_request()
            except h11.RemoteProtocolError as exc:
                await self._send_simple(exc.error_status_hint, b"bad request\n")
                return
            if request is None:
                return
            keep_alive = await self._serve(request)
            if not keep_alive or self.client_gone or self.conn.our_state is not h11.DONE:
                return
            if self.conn.their_state is not h11.DONE:
                return
            self.conn.start_next_cycle()

    async def _read_request(self) -> RecordedRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.reader.read(_READ_SIZE))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return _record(head, bytes(body))
            elif isinstance(event, h11.ConnectionClosed):
                return None

    async def _serve(self, request: RecordedRequest) -> bool:
        """Answer one request while watching for the client leaving; True to keep the connection."""
        control = request.path.startswith("/_gateway/")
        if not control:
            self.state.record(request)
        respond = asyncio.create_task(self._respond(request))
        watch: asyncio.Task[bytes] | None = None
        try:
            while True:
                watch = asyncio.create_task(self.reader.read(_READ_SIZE))
                await asyncio.wait({respond, watch}, return_when=asyncio.FIRST_COMPLETED)
                if respond.done():
                    break
                data = _result(watch)
                if data:  # a pipelined request: keep it for the next cycle
                    self.conn.receive_data(data)
                    continue
                self.client_gone = True
                respond.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await respond
                self.state.finish(request, disconnected=not control)
                return False
            keep_alive = respond.result()
        finally:
            for task in (respond, watch):
                if task is not None and not task.done():
                    task.cancel()
            await asyncio.gather(
                *[t for t in (respond, watch) if t is not None], return_exceptions=True
            )
        if watch is not None and watch.done() and not watch.cancelled():
            data = _result(watch)
            if data:
                self.conn.receive_data(data)
            else:
                self.client_gone = True
        return keep_alive

    async def _respond(self, request: RecordedRequest) -> bool:
        try:
            reply = await routes.handle(self.state, request)
        except Exception as exc:  # a bug in the stand-in: say so instead of dropping the request
            logger.exception("gateway stand-in failed on %s %s", request.method, request.path)
            message = f"ardaemon gateway stand-in bug: {exc!r}"
            reply = routes.json_reply(500, {"error": {"message": message, "type": "stand_in_bug"}})
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        if reply.hang:
            await asyncio.Future()  # until the client leaves or the server stops
        if reply.drop and reply.stream is None:
            self.state.finish(request)
            return False
        try:
            await self._send(h11.Response(status_code=reply.status, headers=_headers(reply)))
            request.status = reply.status
            if reply.stream is None:
                await self._send_body(reply.body, reply.drip)
            else:
                for i, frame in enumerate(reply.stream):
                    if i and reply.chunk_delay > 0:
                        await asyncio.sleep(reply.chunk_delay)
                    await self._send_body(frame, reply.drip)
                if reply.drop:
                    self.state.finish(request)
                    return False
            await self._send(h11.EndOfMessage())
        except ConnectionError:
            self.client_gone = True
            self.state.finish(request, disconnected=not request.path.startswith("/_gateway/"))
            return False
        self.state.finish(request, status=reply.status)
        return True

    async def _send_body(self, data: bytes, drip: float) -> None:
        if drip <= 0:
            await self._send(h11.Data(data=data))
            return
        for i in range(len(data)):
            await self._send(h11.Data(data=data[i : i + 1]))
            await asyncio.sleep(drip)

    async def _send(self, event: h11.Event) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def _send_simple(self, status: int, body: bytes) -> None:
        with contextlib.suppress(h11.LocalProtocolError, ConnectionError):
            headers = [
                ("content-type", "text/plain"),
                ("content-length", str(len(body))),
                ("connection", "close"),
            ]
            await self._send(h11.Response(status_code=status, headers=headers))
            await self._send(h11.Data(data=body))
            await self._send(h11.EndOfMessage())


def _result(task: asyncio.Task[bytes]) -> bytes:
    """What the watcher read; a reset connection counts as end-of-file."""
    try:
        return task.result()
    except (ConnectionError, OSError):
        return b""


def _record(head: h11.Request, body: bytes) -> RecordedRequest:
    headers: dict[str, str] = {}
    for name, value in head.headers:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    target = urlsplit(head.target.decode("latin-1"))
    return RecordedRequest(
        method=head.method.decode("ascii"),
        path=target.path,
        query=target.query,
        headers=headers,
        json=routes.parse_json(body),
        body=body,
        started_at=time.time(),
    )


def _headers(reply: Reply) -> list[tuple[str, str]]:
    headers = [
        ("date", email.utils.formatdate(usegmt=True)),
        ("server", "ardaemon-gateway"),
        *reply.headers,
    ]
    if reply.stream is None:
        headers.append(("content-length", str(len(reply.body))))
    return headers
