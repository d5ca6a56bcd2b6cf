"""http.send: statuses → the error tree, retries and their waits, transport failures; all
in process through httpx.MockTransport (milliseconds, no sockets)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ardaemon import credentials, errors, http
from ardaemon.http import Call, Http, send

URL = "https://gw.example/v1/chat/completions"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(http.asyncio, "sleep", sleep)
    return slept


async def call(handler: Handler, **overrides: Any) -> httpx.Response:
    pool = Http(transport=httpx.MockTransport(handler))
    try:
        async with pool.use("https://gw.example", {}) as client:
            return await send(client, Call("POST", URL, {}, b"{}", read_timeout=5.0, **overrides))
    finally:
        await pool.aclose()


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    content = b"" if body is None else json.dumps(body).encode()
    return lambda request: httpx.Response(status, content=content, headers=headers)


CASES: list[tuple[int, object, dict[str, str], type[errors.UpstreamError], str]] = [
    (401, {"error": {"message": "bad key"}}, {}, errors.AuthError, ""),
    (
        403,
        {"error": {"message": "unauthorized client detected"}},
        {},
        errors.UnauthorizedClient,
        "",
    ),
    (400, {"error": {"type": "authentication_error", "message": "x"}}, {}, errors.AuthError, ""),
    (429, {"error": {"message": "slow"}}, {"retry-after": "120"}, errors.RateLimited, ""),
    (529, {"type": "error", "error": {"type": "overloaded_error"}}, {}, errors.Overloaded, ""),
    (503, {"error": {"message": "server overloaded"}}, {}, errors.Overloaded, ""),
    (404, {"error": {"code": "model_not_found", "message": "no"}}, {}, errors.ModelNotFound, ""),
    (400, {"error": {"message": "The model `x` does not exist"}}, {}, errors.ModelNotFound, ""),
    (404, None, {}, errors.ModelNotFound, ""),
    (301, None, {"location": "https://elsewhere"}, errors.UpstreamError, "redirect"),
    (400, {"error": {"message": "bad request"}}, {}, errors.UpstreamError, ""),
    (500, "oops", {}, errors.UpstreamError, ""),
]


@pytest.mark.parametrize(("status", "body", "headers", "cls", "reason"), CASES)
async def test_statuses_become_the_error_tree(
    waits: list[float],
    status: int,
    body: object,
    headers: dict[str, str],
    cls: type[errors.UpstreamError],
    reason: str,
) -> None:
    with pytest.raises(errors.UpstreamError) as caught:
        await call(answer(status, body, headers), retries=0)
    assert type(caught.value) is cls and caught.value.reason == reason
    assert caught.value.status == status


async def test_the_gateways_own_words_are_kept_as_detail_without_the_token() -> None:
    credentials.remember("sk-abcdefghijklmnopqrstuvwxyz123456")
    body = {"error": {"message": "key sk-abcdefghijklmnopqrstuvwxyz123456 is invalid.\nmore"}}
    with pytest.raises(errors.AuthError) as caught:
        await call(answer(401, body))
    assert caught.value.detail.startswith("key ") and "abcdefghijklmnop" not in caught.value.detail
    assert "more" not in caught.value.detail and not caught.value.detail.endswith(".")


async def test_retryable_statuses_are_retried_then_succeed(waits: list[float]) -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(503 if len(seen) < 3 else 200, json={"ok": True})

    response = await call(handler, retries=2)
    assert response.status_code == 200 and len(seen) == 3
    assert len(waits) == 2 and 0.3 < waits[0] <= 0.5 and 0.7 < waits[1] <= 1.0


async def test_retry_after_is_honoured_unless_it_is_too_long(waits: list[float]) -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(429, headers={"retry-after-ms": "1500"}, json={})

    with pytest.raises(errors.RateLimited):
        await call(handler, retries=1)
    assert waits == [1.5] and len(seen) == 2
    waits.clear()
    with pytest.raises(errors.RateLimited) as caught:
        await call(answer(429, {}, {"retry-after": "30"}), retries=2, max_retry_wait=2.0)
    assert waits == [] and caught.value.retry_after == 30


async def test_client_errors_are_never_retried(waits: list[float]) -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(400, json={})

    with pytest.raises(errors.UpstreamError):
        await call(handler, retries=2)
    assert len(seen) == 1 and waits == []


@pytest.mark.parametrize(
    ("exc", "cls", "reason"),
    [
        (httpx.ConnectTimeout("slow"), errors.NetworkError, "connect_timeout"),
        (httpx.ConnectError("refused"), errors.NetworkError, "connect"),
        (httpx.ReadTimeout("slow"), errors.Timeout, ""),
        (httpx.RemoteProtocolError("peer closed"), errors.NetworkError, ""),
    ],
)
async def test_transport_failures(
    waits: list[float], exc: Exception, cls: type[errors.ArdaemonError], reason: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(cls) as caught:
        await call(handler, retries=0, timeout_setting="completion.timeout")
    assert caught.value.reason == reason
    if cls is errors.Timeout:
        assert caught.value.facts == {"seconds": 5.0, "setting_key": "completion.timeout"}
    else:
        assert caught.value.facts["host"] == "gw.example"


async def test_redirects_are_not_followed_and_every_request_says_who_we_are() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": "https://evil.example/"})

    with pytest.raises(errors.UpstreamError):
        await call(handler)
    assert [r.url.host for r in seen] == ["gw.example"]
    assert seen[0].headers["user-agent"].startswith("ardaemon/")


async def test_clients_of_old_settings_are_closed_once_their_requests_end() -> None:
    """Each settings change (base URL, headers) makes a client: only the last `KEEP` stay,
    and one with a request in flight closes when that request ends, not under it."""
    pool = Http(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))
    get = Call("GET", "https://gw.example/v1/models", {}, None, read_timeout=5.0)
    async with pool.use("https://gw.example", {"x-set": "0"}) as busy:
        seen = []
        for n in range(1, Http.KEEP + 2):
            async with pool.use("https://gw.example", {"x-set": str(n)}) as client:
                seen.append(client)
        assert not busy.is_closed, "evicted, but a request is in flight on it"
        assert (await send(busy, get)).status_code == 200
        assert seen[0].is_closed and not any(c.is_closed for c in seen[1:])
    assert busy.is_closed, "closed when its last request ended"
    # The most recently used stay: using one again keeps it and gives the same client.
    async with pool.use("https://gw.example", {"x-set": "2"}) as again:
        assert again is seen[1]
    async with pool.use("https://gw.example", {"x-set": "0"}) as fresh:
        assert fresh is not busy and not fresh.is_closed
    assert seen[2].is_closed and not seen[1].is_closed
    await pool.aclose()
    assert all(c.is_closed for c in [fresh, *seen])


async def test_cookies_a_response_sets_go_back_and_no_set_cookie_costs_nothing() -> None:
    """The pool's clients keep cookies as httpx does (the jar only skips responses that set
    none); fails if the jar is not in use or drops a cookie."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        headers = {"set-cookie": "__cf_bm=abc; Path=/"} if len(seen) == 1 else {}
        return httpx.Response(200, content=b"{}", headers=headers)

    pool = Http(transport=httpx.MockTransport(handler))
    try:
        async with pool.use("https://gw.example", {}) as client:
            assert isinstance(client.cookies, http._Cookies)
            for _ in range(3):
                await (await send(client, Call("POST", URL, {}, b"{}", read_timeout=5.0))).aclose()
    finally:
        await pool.aclose()
    assert seen == [None, "__cf_bm=abc", "__cf_bm=abc"]


@pytest.fixture
def no_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """No shared TLS context built yet, and httpx's default CA bundle (certifi)."""
    monkeypatch.setattr(http, "_tls", None)
    for name in http.CA_ENV:
        monkeypatch.delenv(name, raising=False)


def client_tls(client: httpx.AsyncClient) -> Any:
    return client._transport._pool._ssl_context  # type: ignore[attr-defined]


async def test_every_client_shares_one_tls_context_built_once_whoever_asks_first(
    no_tls_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Warm-up, request loop and stream loop may ask at once: one builds, the others wait
    and reuse it; every client (new settings, the stream loop's pool) gets that context."""
    built: list[int] = []
    real = httpx.create_ssl_context

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        built.append(threading.get_ident())
        time.sleep(0.05)  # so that the threads below meet while it is being built
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", slow_build)
    with ThreadPoolExecutor(4) as threads:
        contexts = list(threads.map(lambda _: http.tls_context(), range(8)))
    assert len(built) == 1 and all(c is contexts[0] for c in contexts)
    requests, streams = Http(), Http()
    try:
        async with (
            requests.use("https://gw.example", {}) as one,
            requests.use("https://gw.example", {"x-set": "1"}) as other,
            streams.use("https://gw.example", {}) as streamed,
        ):
            assert len({one, other, streamed}) == 3
            assert all(client_tls(c) is contexts[0] for c in (one, other, streamed))
    finally:
        await requests.aclose()
        await streams.aclose()
    assert len(built) == 1


async def test_a_client_for_another_ca_bundle_gets_a_context_that_trusts_it(
    no_tls_context: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`SSL_CERT_FILE` (a corporate CA) works as with httpx's own default: a client made
    under another value does not get the context built for the old one."""
    import certifi

    default = http.tls_context()
    bundle = Path(certifi.where()).read_text()
    end = "-----END CERTIFICATE-----\n"
    one_ca = tmp_path / "ca.pem"
    one_ca.write_text(bundle[: bundle.index(end) + len(end)])
    monkeypatch.setenv("SSL_CERT_FILE", str(one_ca))
    pool = Http()
    try:
        async with pool.use("https://gw.example", {}) as client:
            custom = client_tls(client)
    finally:
        await pool.aclose()
    assert custom is not default and custom is http.tls_context()
    assert custom.cert_store_stats()["x509_ca"] == 1
    assert default.cert_store_stats()["x509_ca"] > 1
