"""One shared httpx client per provider (the last few settings' worth), retries before the first body byte, error mapping.

Retries follow the official SDKs: connection errors and 408/409/429/5xx/529, at most
`retries` times, backing off `min(0.5 * 2**n, 8)` s with jitter, or the server's
`retry-after(-ms)` when it is at most 60 s. Nothing is retried once a body byte was read.
Redirects are never followed: a redirect to another host would carry the token there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import random
import ssl
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

from . import __version__, errors
from .credentials import redact
from .wire.faults import classify, retry_after_seconds

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
#: Our own name on every upstream request, formatted as SDKs do, so a gateway can
#: recognise (and allow-list) this client; never another product's identity.
USER_AGENT = (
    f"ardaemon/{__version__} ({platform.system() or 'unknown'}; {platform.machine() or 'unknown'})"
    f" python/{platform.python_version()} httpx/{httpx.__version__}"
)
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
MAX_RETRY_AFTER = 60.0


#: What httpx reads to choose its CA bundle (with `trust_env`, its default); certifi without.
CA_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR")
_tls_lock = threading.Lock()
_tls: tuple[tuple[str | None, ...], ssl.SSLContext] | None = None


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client shares: loading the CA bundle costs 20-50 ms
    and ~1.8 MiB a context, and each client would otherwise build its own, the first one on
    the request loop. Built once, by whichever thread asks first (`Service.warm_up`, off the loop, as a
    rule); the others wait for it. Built as httpx builds a client's default (`verify=True`,
    `trust_env=True`), so `SSL_CERT_FILE` / `SSL_CERT_DIR` keep working; with another value
    of them than the context was built for, a new context replaces it.

    Sharing across threads and clients is safe: clients only wrap sockets with it, and
    httpcore's one change to it, the ALPN list, is the same "http/1.1" for every client."""
    global _tls
    key = tuple(os.environ.get(name) or None for name in CA_ENV)
    with _tls_lock:
        if _tls is None or _tls[0] != key:
            _tls = (key, httpx.create_ssl_context())
        return _tls[1]


class Http:
    """Keeps one `AsyncClient` (and so one keep-alive pool) per base URL and header set, for
    the `KEEP` most recently used; settings changes make new sets, so older clients are
    closed, each once its last request in flight ends."""

    KEEP = 8

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._clients: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], httpx.AsyncClient]
        self._clients = OrderedDict()
        self._in_flight: Counter[httpx.AsyncClient] = Counter()
        #: Evicted while a request was in flight: closed when the last one ends.
        self._retired: set[httpx.AsyncClient] = set()

    @contextlib.asynccontextmanager
    async def use(
        self, base_url: str, headers: Mapping[str, str]
    ) -> AsyncIterator[httpx.AsyncClient]:
        """The client for this base URL and headers, held open until the block ends."""
        key = (base_url, tuple(sorted(headers.items())))
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                headers={"User-Agent": USER_AGENT, **headers},
                timeout=httpx.Timeout(30.0, connect=CONNECT_TIMEOUT),
                follow_redirects=False,
                # Behind a proxy, its pool uses this context too (only for the origin).
                verify=tls_context() if self._transport is None else True,
                transport=self._transport,
                limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=90),
            )
            # httpx has no public way to give a client a jar of another class.
            client._cookies = _Cookies()
            if self._transport is None:
                # Imported here: httpcore loads with a first client anyway, not at warm-up,
                # where it would count in the daemon's memory after start-up (~1 MiB for
                # ~11 ms; the TLS context built there saves more per MiB).
                from . import netio

                netio.install(client)
            self._clients[key] = client
        self._clients.move_to_end(key)
        self._in_flight[client] += 1
        try:
            while len(self._clients) > self.KEEP:
                _, old = self._clients.popitem(last=False)
                self._retired.add(old)
                if not self._in_flight[old]:
                    await self._close(old)
            yield client
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]
                if client in self._retired:
                    await self._close(client)

    async def _close(self, client: httpx.AsyncClient) -> None:
        self._retired.discard(client)
        await client.aclose()

    async def aclose(self) -> None:
        clients = [*self._clients.values(), *self._retired]
        self._clients, self._retired = OrderedDict(), set()
        for client in clients:
            await client.aclose()


@dataclass(frozen=True)
class Call:
    """One upstream request, described once so retries can rebuild it."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    read_timeout: float
    retries: int = 2
    #: Longest server-requested wait (retry-after) worth sleeping through; longer → report.
    max_retry_wait: float = 60.0
    #: The settings key a timeout message tells the user to raise.
    timeout_setting: str = "requestTimeout"


class _Cookies(httpx.Cookies):
    """httpx's jar, which looks at a response only when it sets a cookie (the look costs
    ~40 µs a response: a urllib Request is built for it)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


async def send(client: httpx.AsyncClient, call: Call) -> httpx.Response:
    """An open 2xx response (caller closes it), or the classified error."""
    timeout = httpx.Timeout(call.read_timeout, connect=CONNECT_TIMEOUT)
    attempt = 0
    url = httpx.URL(call.url)  # parsed once (build_request would parse the string twice)
    while True:
        request = client.build_request(
            call.method, url, headers=dict(call.headers), content=call.body, timeout=timeout
        )
        started = time.perf_counter()
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            error: errors.ArdaemonError = transport_error(exc, call)
            retryable = isinstance(exc, httpx.ConnectTimeout)
        except httpx.TransportError as exc:
            error, retryable = transport_error(exc, call), True
        except Exception as exc:
            # A base URL with an impossible port reaches the socket layer and comes back as
            # OverflowError inside anyio's ExceptionGroup, not as an httpx error.
            if not isinstance(_leaf(exc), (ValueError, OverflowError)):
                raise
            error, retryable = unusable_address(_leaf(exc), call), False
        else:
            log.debug(
                "%s %s -> %d in %.0f ms",
                call.method,
                url.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            if response.status_code < 300:
                return response
            try:
                body = await response.aread()
            except httpx.HTTPError:
                body = b""
            finally:
                await response.aclose()
            error = classify(response.status_code, response.headers, body)
            retryable = response.status_code in RETRY_STATUSES
            if retryable and error.retry_after is None:
                error.retry_after = retry_after_seconds(response.headers)
        if not retryable or attempt >= call.retries:
            raise error
        wait = _backoff(attempt, error.retry_after, call.max_retry_wait)
        if wait is None:
            raise error
        log.info("retrying %s in %.2f s after %s", httpx.URL(call.url).path, wait, error.kind)
        await asyncio.sleep(wait)
        attempt += 1


def _backoff(attempt: int, retry_after: float | None, limit: float) -> float | None:
    if retry_after is not None:
        return retry_after if retry_after <= min(limit, MAX_RETRY_AFTER) else None
    base: float = min(0.5 * 2.0**attempt, 8.0)
    return base * (1 - 0.25 * random.random())


def transport_error(exc: httpx.HTTPError, call: Call) -> errors.ArdaemonError:
    """A transport failure as the error tree says it (also while reading a 2xx body,
    which is never retried: part of the reply may be out)."""
    host = httpx.URL(call.url).host
    if isinstance(exc, httpx.ConnectTimeout):
        return errors.NetworkError(reason="connect_timeout", host=host, seconds=CONNECT_TIMEOUT)
    if isinstance(exc, httpx.TimeoutException):
        return errors.Timeout(seconds=call.read_timeout, setting_key=call.timeout_setting)
    if isinstance(exc, httpx.ConnectError):
        return errors.NetworkError(reason="connect", host=host, cause=_reason(exc))
    return errors.NetworkError(host=host, cause=_reason(exc))


def unusable_address(exc: BaseException, call: Call) -> errors.ArdaemonError:
    url = httpx.URL(call.url)
    return errors.NetworkError(reason="connect", host=f"{url.host}:{url.port}", cause=_reason(exc))


def _leaf(exc: BaseException) -> BaseException:
    while inner := getattr(exc, "exceptions", None):  # (Base)ExceptionGroup, or its backport
        exc = inner[0]
    return exc


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return redact(text.splitlines()[0])[:160]
