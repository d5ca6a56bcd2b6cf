"""ardaemon.netio, httpcore's network backend on plain asyncio.

Most cases run on both netio and httpcore's own anyio backend and must end alike: the same
bytes, or the same exception with the same words. That is what keeps the daemon's error
handling and messages as they were. AF_UNIX sockets and TLS over them keep these tests in
process. The TCP cases (connect, an HTTPS proxy's CONNECT tunnel) are marked `subprocess`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
import trustme
from httpcore._backends.anyio import AnyIOBackend

from ardaemon import netio
from ardaemon.http import Call, Http, send

BACKENDS = {"anyio": AnyIOBackend(), "netio": netio.Backend()}
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@contextlib.asynccontextmanager
async def unix_server(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A server on a fresh AF_UNIX path (short: a socket path has ~100 bytes at most)."""
    with tempfile.TemporaryDirectory(prefix="netio") as folder:
        path = os.path.join(folder, "s")
        server = await asyncio.start_unix_server(handler, path, ssl=tls)
        try:
            yield path
        finally:
            server.close()


async def outcome(step: Awaitable[Any]) -> Any:
    """What a step gave: its value, or its exception's type and words."""
    try:
        return await step
    except Exception as exc:
        return type(exc).__name__, str(exc)


async def read_all(stream: httpcore.AsyncNetworkStream, timeout: float = 5) -> list[Any]:
    """Every read until EOF or an error, as `outcome`s."""
    seen: list[Any] = []
    while True:
        got = await outcome(stream.read(65536, timeout))
        seen.append(got)
        if got == b"" or isinstance(got, tuple):
            return seen


async def on_both(case: Callable[[httpcore.AsyncNetworkBackend], Awaitable[Any]]) -> Any:
    """The case's result on both backends, which must agree."""
    results = {name: await case(backend) for name, backend in BACKENDS.items()}
    assert results["netio"] == results["anyio"], results
    return results["netio"]


async def test_reads_give_what_the_peer_sent_then_eof_as_anyio_does() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for part in (b"HTTP/1.1 200 OK\r\n", b"content-length: 2\r\n\r\n", b"ok"):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.close()

    async with unix_server(handler) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            stream = await backend.connect_unix_socket(path)
            seen = await read_all(stream)
            again = await outcome(stream.read(10))  # EOF stays EOF
            await stream.aclose()
            return b"".join(seen), again

        assert await on_both(case) == (
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
            b"",
        )


async def test_a_reset_reads_what_came_before_it_then_read_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.pause_reading()  # the request stays in the socket, unread
        writer.write(b"partial")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.transport.abort()  # closed with data unread: a reset (ECONNRESET) for the peer

    async with unix_server(handler) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            stream = await backend.connect_unix_socket(path)
            await stream.write(b"POST / HTTP/1.1\r\n\r\n")
            seen = await read_all(stream)
            after = await outcome(stream.write(b"more"))
            await stream.aclose()
            return seen, after

        seen, after = await on_both(case)
    assert seen == [b"partial", ("ReadError", "")]
    assert after == ("WriteError", "")


async def test_a_stalled_read_times_out_and_a_closed_stream_refuses_reads_and_writes() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client goes

    async with unix_server(handler) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            stream = await backend.connect_unix_socket(path)
            stalled = await outcome(stream.read(10, timeout=0.05))
            await stream.aclose()
            return stalled, await outcome(stream.read(10)), await outcome(stream.write(b"x"))

        assert await on_both(case) == (("ReadTimeout", ""), ("ReadError", ""), ("WriteError", ""))


async def test_a_write_the_peer_does_not_take_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)  # reads nothing

    async with unix_server(handler) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            stream = await backend.connect_unix_socket(path)
            try:
                return await outcome(stream.write(b"x" * (16 << 20), timeout=0.1))
            finally:
                await stream.aclose()

        assert await on_both(case) == ("WriteTimeout", "")


async def test_connect_errors_keep_anyios_words() -> None:
    with tempfile.TemporaryDirectory() as folder:
        missing = os.path.join(folder, "nobody")

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            return await outcome(backend.connect_unix_socket(missing))

        assert await on_both(case) == ("ConnectError", "[Errno 2] No such file or directory")


async def test_an_idle_connection_becomes_readable_when_the_peer_closes_it() -> None:
    """httpcore asks before reusing a kept-alive connection; a closed one must say so."""
    close = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await close.wait()
        writer.close()

    async with unix_server(handler) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            close.clear()
            stream = await backend.connect_unix_socket(path)
            await asyncio.sleep(0.02)
            idle = stream.get_extra_info("is_readable")
            close.set()
            for _ in range(500):
                if stream.get_extra_info("is_readable"):
                    break
                await asyncio.sleep(0.01)
            closed = stream.get_extra_info("is_readable")
            await stream.aclose()
            return idle, closed

        assert await on_both(case) == (False, True)


async def test_a_cancelled_read_leaves_a_stream_that_closes_and_frees_the_socket() -> None:
    peer_saw: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_saw.append(await reader.read())  # b"" once the client's socket is closed

    async with unix_server(handler) as path:
        stream = await netio.Backend().connect_unix_socket(path)
        reading = asyncio.ensure_future(stream.read(100, timeout=30))
        await asyncio.sleep(0.02)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        await stream.aclose()
        for _ in range(500):
            if peer_saw:
                break
            await asyncio.sleep(0.01)
        assert peer_saw == [b""]
        assert stream.get_extra_info("socket").fileno() == -1
        assert isinstance(stream, netio.Stream)
        assert stream._protocol.waiter is None and stream._protocol.timer is None


async def test_a_cancelled_streaming_response_closes_its_connection() -> None:
    """httpx over netio: a chat cancelled mid-stream gives its connection back closed."""
    peer_saw: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        peer_saw.append(await reader.read())  # then nothing more: a stalled stream

    async with unix_server(handler) as path:
        client = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=path))
        assert netio.install(client)
        got: list[bytes] = []

        async def chat() -> None:
            async with client.stream("GET", "http://gateway/v1/stream") as response:
                async for piece in response.aiter_raw():
                    got.append(piece)

        task = asyncio.ensure_future(chat())
        while not got:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(500):
            if peer_saw:
                break
            await asyncio.sleep(0.01)
        assert got == [b"first"] and peer_saw == [b""]
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool.connections == []
        await client.aclose()


async def test_a_slow_reader_pauses_the_socket_and_still_gets_every_byte() -> None:
    body = bytes(range(256)) * 8192  # 2 MiB

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(body)
        await writer.drain()
        writer.close()

    async with unix_server(handler) as path:
        stream = await netio.Backend().connect_unix_socket(path)
        assert isinstance(stream, netio.Stream)
        protocol = stream._protocol
        for _ in range(500):
            if protocol.reading_paused:
                break
            await asyncio.sleep(0.01)
        assert protocol.reading_paused and not stream._transport.is_reading()
        assert protocol.size <= netio.HIGH_WATER + 256 * 1024  # at most one more recv
        received = b"".join((await read_all(stream))[:-1])
        assert received == body and len(received) == len(body)
        await stream.aclose()


async def test_a_read_timeout_follows_each_reads_own_deadline() -> None:
    """One timer per connection serves every read: it must fire at the deadline of the
    read that waits, whether that is later or earlier than the one before."""
    send_after: asyncio.Queue[float] = asyncio.Queue()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (delay := await send_after.get()) >= 0:
            await asyncio.sleep(delay)
            writer.write(b"x")

    async with unix_server(handler) as path:
        stream = await netio.Backend().connect_unix_socket(path)
        send_after.put_nowait(0)
        assert await stream.read(10, timeout=0.05) == b"x"  # timer armed for +0.05 s
        send_after.put_nowait(0.2)
        # Waits past the first read's deadline: the timer moves on instead of firing.
        assert await stream.read(10, timeout=2) == b"x"
        # A shorter deadline than the armed one (+2 s): the timer moves earlier.
        stalled = asyncio.ensure_future(outcome(stream.read(10, timeout=0.05)))
        done, _ = await asyncio.wait([stalled], timeout=1)
        assert done and stalled.result() == ("ReadTimeout", "")
        # Armed for a short read that got its data, the timer must still end a later,
        # longer wait that gets nothing: it moves on to that wait's deadline, then fires.
        send_after.put_nowait(0)
        assert await stream.read(10, timeout=0.05) == b"x"
        stalled = asyncio.ensure_future(outcome(stream.read(10, timeout=0.3)))
        done, _ = await asyncio.wait([stalled], timeout=3)
        assert done and stalled.result() == ("ReadTimeout", "")
        # No timeout at all: a timer left from before must not end it.
        send_after.put_nowait(0.3)
        assert await stream.read(10, timeout=None) == b"x"
        send_after.put_nowait(-1)
        await stream.aclose()


async def test_a_requests_writes_leave_in_one_send_before_its_read() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readuntil(b"body"))

    async with unix_server(handler) as path:
        stream = await netio.Backend().connect_unix_socket(path)
        assert isinstance(stream, netio.Stream)
        sent: list[bytes] = []
        write = stream._transport.write

        def counted(data: Any) -> None:
            sent.append(bytes(data))
            write(data)

        stream._transport.write = counted  # type: ignore[method-assign]
        await stream.write(b"POST / HTTP/1.1\r\n\r\n")
        await stream.write(b"body")
        assert sent == []
        answer = b""
        while len(answer) < 23:
            answer += await stream.read(100, timeout=5)
        assert sent == [b"POST / HTTP/1.1\r\n\r\nbody"] and answer == sent[0]
        # Not followed by a read: out on the loop's next turn.
        await stream.write(b"more")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert sent[1:] == [b"more"]
        # As big as FLUSH_SIZE: at once.
        await stream.write(b"y" * netio.FLUSH_SIZE)
        assert len(sent) == 3
        await stream.aclose()


def tls_echo(prefix: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            writer.write(prefix + await reader.readuntil(b"\n"))
            await writer.drain()
            writer.transport.abort()  # no close_notify, as many HTTPS servers end

    return handler


async def test_tls_over_a_plain_connection_as_for_https_and_proxy_tunnels(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    async with unix_server(tls_echo(b"echo "), server_tls) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            plain = await backend.connect_unix_socket(path)
            tls = await plain.start_tls(client_tls, server_hostname="localhost", timeout=5)
            ssl_object = tls.get_extra_info("ssl_object")
            await tls.write(b"hello\n")
            seen = await read_all(tls)
            await tls.aclose()
            return (
                type(ssl_object).__name__,
                ssl_object.server_hostname,
                b"".join(seen[:-1]),
                seen[-1],
            )

        assert await on_both(case) == ("SSLObject", "localhost", b"echo hello\n", b"")


@pytest.mark.parametrize("hostname", ["localhost", "gateway.example"])
async def test_an_untrusted_or_wrong_certificate_is_a_connect_error_in_anyios_words(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext, hostname: str
) -> None:
    trusting_nobody = ssl.create_default_context(cafile=None, cadata=None)
    trusting_nobody.load_verify_locations(cadata=trustme.CA().cert_pem.bytes().decode())
    ctx = trusting_nobody if hostname == "localhost" else client_tls
    async with unix_server(tls_echo(b""), server_tls) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            plain = await backend.connect_unix_socket(path)
            return await outcome(plain.start_tls(ctx, server_hostname=hostname, timeout=5))

        kind, words = await on_both(case)
    assert kind == "ConnectError" and "CERTIFICATE_VERIFY_FAILED" in words


async def test_a_tls_handshake_nobody_answers_times_out_and_closes(
    client_tls: ssl.SSLContext,
) -> None:
    peer_saw: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # the ClientHello, never answered, until the client closes
        peer_saw.append(b"closed")

    async with unix_server(handler) as path:

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            peer_saw.clear()
            plain = await backend.connect_unix_socket(path)
            timed_out = await outcome(plain.start_tls(client_tls, "localhost", timeout=0.1))
            await plain.aclose()  # what httpcore does with a connection that failed
            for _ in range(500):
                if peer_saw:
                    break
                await asyncio.sleep(0.01)
            return timed_out, peer_saw[:]

        assert await on_both(case) == (("ConnectTimeout", ""), [b"closed"])


def test_the_daemons_clients_connect_through_netio_proxies_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    async def pools() -> list[Any]:
        async with Http().use("https://gateway.example", {}) as client:
            return [t._pool for t in (client._transport, *client._mounts.values())]  # type: ignore[union-attr]

    found = asyncio.run(pools())
    assert len(found) == 2 and any(isinstance(p, httpcore.AsyncHTTPProxy) for p in found)
    assert all(p._network_backend is netio.BACKEND for p in found)
    # Python 3.10's asyncio cannot run TLS inside an HTTPS proxy's TLS: anyio keeps that.
    monkeypatch.setattr(netio, "TLS_IN_TLS", False)
    assert all(p._network_backend is netio.BACKEND for p in asyncio.run(pools()))
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.corp:3128")
    direct, proxied = sorted(
        asyncio.run(pools()), key=lambda p: isinstance(p, httpcore.AsyncHTTPProxy)
    )
    assert direct._network_backend is netio.BACKEND
    assert proxied._network_backend is not netio.BACKEND

    async def injected() -> Any:
        fake = httpx.MockTransport(lambda request: httpx.Response(200))
        async with Http(fake).use("https://gateway.example", {}) as client:
            return client._transport

    assert isinstance(asyncio.run(injected()), httpx.MockTransport)  # a test's own, untouched


@pytest.mark.subprocess
async def test_tcp_connects_with_nodelay_and_options_and_fails_in_anyios_words() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        backend = netio.Backend()
        keepalive = (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        stream = await backend.connect_tcp(
            "127.0.0.1", port, timeout=5, local_address="127.0.0.1", socket_options=[keepalive]
        )
        sock = stream.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert stream.get_extra_info("ssl_object") is None
        await stream.aclose()
    finally:
        listener.close()

    async def refused(backend: httpcore.AsyncNetworkBackend) -> Any:
        return await outcome(backend.connect_tcp("127.0.0.1", port, timeout=5))

    assert await on_both(refused) == ("ConnectError", "All connection attempts failed")
    with pytest.raises(OverflowError, match="port must be 0-65535"):  # as under anyio
        await backend.connect_tcp("localhost", 99999)


@pytest.mark.subprocess
async def test_a_connect_nobody_accepts_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    try:
        # Fill the accept queue; the kernel then drops further SYNs, so a connect hangs.
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            queued.append(s)
        await asyncio.sleep(0.1)

        async def case(backend: httpcore.AsyncNetworkBackend) -> Any:
            return await outcome(backend.connect_tcp("127.0.0.1", port, timeout=0.2))

        assert await on_both(case) == ("ConnectTimeout", "")
    finally:
        for s in queued:
            s.close()
        listener.close()


@pytest.fixture
def https_gateway(
    server_tls: ssl.SSLContext, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """An HTTPS origin and an HTTP proxy in front of it (CONNECT), on this test's loop;
    the daemon's clients trust the origin's CA through SSL_CERT_FILE, as users do."""
    with tempfile.TemporaryDirectory() as folder:
        cafile = Path(folder) / "ca.pem"
        ca.cert_pem.write_to_path(str(cafile))
        monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        yield {"tunnels": []}


async def https_origin(tls: ssl.SSLContext) -> tuple[asyncio.Server, int]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        events = [b'data: {"n": 1, "got": "%s"}\n\n' % body, b"data: [DONE]\n\n"]
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n")
        writer.write(b"transfer-encoding: chunked\r\n\r\n")
        for event in events:
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


async def connect_proxy(
    tunnels: list[bytes], tls: ssl.SSLContext | None
) -> tuple[asyncio.Server, int]:
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        tunnels.append(head.split(b"\r\n")[0])
        port = head.split()[1].rsplit(b":", 1)[1]
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.subprocess
@pytest.mark.parametrize("proxy", [None, "http", "https"])
async def test_an_https_gateway_direct_and_through_a_proxy_tunnel(
    https_gateway: dict[str, Any],
    server_tls: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
    proxy: str | None,
) -> None:
    """The daemon's client and `send` against an HTTPS gateway; through an HTTP proxy
    (TLS over the CONNECT tunnel) and an HTTPS proxy (TLS inside the proxy's TLS)."""
    origin, port = await https_origin(server_tls)
    proxy_server, proxy_port = await connect_proxy(
        https_gateway["tunnels"], server_tls if proxy == "https" else None
    )
    if proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"{proxy}://localhost:{proxy_port}")
    else:
        monkeypatch.delenv("HTTPS_PROXY", raising=False)
    connects: list[tuple[str, int]] = []
    real_connect = netio.Backend.connect_tcp

    async def counted(self: netio.Backend, host: str, port: int, **kw: Any) -> Any:
        connects.append((host, port))
        return await real_connect(self, host, port, **kw)

    monkeypatch.setattr(netio.Backend, "connect_tcp", counted)
    http = Http()
    base = f"https://localhost:{port}"
    try:
        async with http.use(base, {}) as client:
            call = Call("POST", f"{base}/v1/chat/completions", {}, b"hi", read_timeout=5)
            response = await send(client, call)
            try:
                text = b"".join([chunk async for chunk in response.aiter_raw()])
                stream = response.extensions["network_stream"]
                tls_version = stream.get_extra_info("ssl_object").version()
            finally:
                await response.aclose()
    finally:
        await http.aclose()
        origin.close()
        proxy_server.close()
    assert text == b'data: {"n": 1, "got": "hi"}\n\ndata: [DONE]\n\n'
    assert tls_version in ("TLSv1.2", "TLSv1.3")
    if proxy:
        assert https_gateway["tunnels"] == [f"CONNECT localhost:{port} HTTP/1.1".encode()]
        netio_used = proxy == "http" or netio.TLS_IN_TLS
        assert connects == ([("localhost", proxy_port)] if netio_used else [])
    else:
        assert connects == [("localhost", port)] and https_gateway["tunnels"] == []
