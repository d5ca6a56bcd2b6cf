"""The gateway stand-in at the byte level: SSE framing, auth, connections, control API and CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import TOKEN

from ardaemon.gateway import Gateway, routes

pytestmark = pytest.mark.subprocess

AUTH = {"authorization": f"Bearer {TOKEN}"}
ANTHROPIC = {"x-api-key": TOKEN, "anthropic-version": "2023-06-01"}
CHAT = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hello"}]}
CLAUDE = {
    "model": "claude-haiku-4-5-20251001",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "hello"}],
}


@pytest.fixture
def http(gateway: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.base_url, timeout=5) as client:
        yield client


def sse_frames(text: str) -> list[str]:
    assert text.endswith("\n\n")
    return text[:-2].split("\n\n")


def test_openai_stream_framing(http: httpx.Client) -> None:
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    response = http.post("/v1/chat/completions", json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.headers["x-request-id"] and response.headers["x-oneapi-request-id"]
    frames = sse_frames(response.text)
    assert frames[1] == ": ping"
    assert frames[-1] == "data: [DONE]"
    chunks = [
        json.loads(f.removeprefix("data: ")) for f in frames if f not in (": ping", "data: [DONE]")
    ]
    assert all(f.startswith("data: ") for f in frames if f != ": ping")
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_anthropic_stream_framing(http: httpx.Client) -> None:
    response = http.post("/v1/messages", json={**CLAUDE, "stream": True}, headers=ANTHROPIC)
    assert response.status_code == 200
    assert response.headers["request-id"].startswith("req_")
    names = []
    for frame in sse_frames(response.text):
        event, data = frame.split("\n")
        name = event.removeprefix("event: ")
        assert json.loads(data.removeprefix("data: "))["type"] == name
        names.append(name)
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    last_delta = json.loads(sse_frames(response.text)[-2].split("\n")[1][6:])
    assert last_delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}


def test_auth_rules(http: httpx.Client) -> None:
    for path, body in (("/v1/chat/completions", CHAT), ("/v1/messages", CLAUDE)):
        missing = http.post(path, json=body, headers={"anthropic-version": "2023-06-01"})
        assert missing.status_code == 401
        error = missing.json()["error"]
        assert error["type"] == "new_api_error" and error["message"].startswith("invalid token")
    assert http.get("/v1/models").status_code == 401
    # x-api-key is accepted on /v1/messages only; Bearer everywhere.
    assert http.post("/v1/messages", json=CLAUDE, headers=ANTHROPIC).status_code == 200
    assert (
        http.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": TOKEN}).status_code
        == 401
    )
    bearer = {**AUTH, "anthropic-version": "2023-06-01"}
    assert http.post("/v1/messages", json=CLAUDE, headers=bearer).status_code == 200
    both = {**ANTHROPIC, "authorization": "Bearer sk-stale"}
    assert http.post("/v1/messages", json=CLAUDE, headers=both).status_code == 200


def test_any_token_mode() -> None:
    with Gateway(token=None) as gateway:
        assert (
            httpx.get(
                gateway.base_url + "/v1/models", headers={"authorization": "Bearer x"}
            ).status_code
            == 200
        )
        assert httpx.get(gateway.base_url + "/v1/models").status_code == 401
        assert (
            httpx.get(
                gateway.base_url + "/v1/models", headers={"authorization": "Basic x"}
            ).status_code
            == 401
        )


def test_unknown_paths_404(http: httpx.Client) -> None:
    response = http.post("/v1/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/v1/chat/completions)"
    assert http.post("/chat/completions", json=CHAT, headers=AUTH).status_code == 404
    assert http.get("/v1/messages", headers=AUTH).status_code == 404


def test_messages_requires_anthropic_version(http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=CLAUDE, headers={"x-api-key": TOKEN})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }


def test_stream_disconnect_is_observed(gateway: Gateway, http: httpx.Client) -> None:
    gateway.chunk_delay = 0.2
    with http.stream(
        "POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH
    ) as r:
        first = next(r.iter_raw())
        assert first.startswith(b"data: ")
    gone = gateway.wait_disconnect(timeout=10)
    assert gone is not None
    assert gone.disconnected and gone.status == 200 and gone.path == "/v1/chat/completions"
    assert gone.finished_at is not None and gone.finished_at - gone.started_at < 1.0
    assert gateway.wait_disconnect(timeout=0.1) is None  # each disconnect is reported once


def test_complete_response_is_not_a_disconnect(gateway: Gateway, http: httpx.Client) -> None:
    http.post("/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH)
    http.close()
    assert gateway.wait_disconnect(timeout=0.3) is None
    assert [r.disconnected for r in gateway.requests] == [False]


def test_hang_then_client_timeout(gateway: Gateway) -> None:
    gateway.set_fault("hang", paths=["/v1/messages"])
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gateway.base_url + "/v1/messages", json=CLAUDE, headers=ANTHROPIC, timeout=0.5)
    gone = gateway.wait_disconnect(timeout=10)
    assert gone is not None and gone.path == "/v1/messages" and gone.status is None


def test_keep_alive(gateway: Gateway, http: httpx.Client) -> None:
    for _ in range(3):
        assert http.get("/v1/models", headers=AUTH).status_code == 200
        assert http.post(
            "/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH
        ).is_success
        assert http.post("/v1/messages", json=CLAUDE, headers=ANTHROPIC).is_success
    assert gateway.connections == 1
    assert gateway.count() == 9 and gateway.count("/v1/models") == 3


def test_latency(gateway: Gateway, http: httpx.Client) -> None:
    gateway.latency = 0.3
    start = time.monotonic()
    http.get("/v1/models", headers=AUTH)
    assert time.monotonic() - start >= 0.3
    gateway.set_fault("slow", delay=0.2, times=1)
    start = time.monotonic()
    http.get("/v1/models", headers=AUTH)
    assert time.monotonic() - start >= 0.5


def test_fault_paths_and_times(gateway: Gateway, http: httpx.Client) -> None:
    gateway.set_fault("server_error", paths=["/v1/messages"], times=2)
    assert http.get("/v1/models", headers=AUTH).status_code == 200
    statuses = [
        http.post("/v1/messages", json=CLAUDE, headers=ANTHROPIC).status_code for _ in range(3)
    ]
    assert statuses == [500, 500, 200]
    assert http.post("/v1/messages", json=CLAUDE, headers=ANTHROPIC).json()["type"] == "message"
    gateway.set_fault("rate_limit")
    assert http.get("/v1/models", headers=AUTH).status_code == 429
    gateway.clear_faults()
    assert http.get("/v1/models", headers=AUTH).status_code == 200
    with pytest.raises(ValueError, match="unknown fault"):
        gateway.set_fault("nonsense")


def test_drop_mid_stream(gateway: Gateway, http: httpx.Client) -> None:
    gateway.set_fault("drop", after=2, times=1)
    received = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream(
            "POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH
        ) as r,
    ):
        for part in r.iter_raw():
            received += part
    assert received.count(b"data: ") == 3  # the role chunk and two content chunks
    assert http.get("/v1/models", headers=AUTH).status_code == 200  # a new connection works


def test_model_not_found_on_messages(gateway: Gateway, http: httpx.Client) -> None:
    gateway.set_fault("model_not_found", times=1)
    response = http.post("/v1/messages", json=CLAUDE, headers=ANTHROPIC)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    gateway.set_fault("model_not_found", status=200, times=1)
    response = http.post("/v1/messages", json=CLAUDE, headers=ANTHROPIC)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == "model_not_found"


def test_control_endpoints(gateway: Gateway, http: httpx.Client) -> None:
    ok = http.post("/_gateway/fault", json={"name": "rate_limit", "times": 1, "retry_after": 3})
    assert ok.json() == {"ok": True}
    limited = http.get("/v1/models", headers=AUTH)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"

    http.post("/_gateway/replies", json={"rules": [["hello", "hi from rule"]]})
    reply = http.post("/v1/chat/completions", json=CHAT, headers=AUTH).json()
    assert reply["choices"][0]["message"]["content"] == "hi from rule"
    http.post("/_gateway/replies", json={"rules": [["hello", "first"]], "prepend": True})
    reply = http.post("/v1/chat/completions", json=CHAT, headers=AUTH).json()
    assert reply["choices"][0]["message"]["content"] == "first"

    http.post(
        "/_gateway/config", json={"latency": 0.01, "chunkDelay": 0.01, "models": ["only-one"]}
    )
    assert gateway.latency == 0.01 and gateway.chunk_delay == 0.01
    assert [m["id"] for m in http.get("/v1/models", headers=AUTH).json()["data"]] == ["only-one"]

    http.post("/_gateway/fault", json={"name": "server_error", "paths": ["/v1/models"]})
    assert http.get("/v1/models", headers=AUTH).status_code == 500
    http.post("/_gateway/clear")
    assert http.get("/v1/models", headers=AUTH).status_code == 200

    recorded = http.get("/_gateway/requests").json()
    assert [r["status"] for r in recorded] == [429, 200, 200, 200, 500, 200]
    assert all(r["path"].startswith("/v1/") for r in recorded)
    assert recorded[1]["json"] == CHAT and recorded[1]["disconnected"] is False
    assert http.post("/_gateway/fault", json={"name": "bogus"}).status_code == 400

    http.post("/_gateway/reset")
    assert gateway.count() == 0 and gateway.latency == 0.0
    assert len(http.get("/v1/models", headers=AUTH).json()["data"]) == 9


def test_control_wait_disconnect(gateway: Gateway, http: httpx.Client) -> None:
    gateway.set_fault("hang", times=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(gateway.base_url + "/v1/models", headers=AUTH, timeout=0.3)
    found = http.post("/_gateway/wait_disconnect", json={"timeout": 3}).json()
    assert found["path"] == "/v1/models" and found["disconnected"] is True
    assert http.post("/_gateway/wait_disconnect", json={"timeout": 0.1}).json() is None


def test_cli() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ardaemon.gateway", "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        prefix = "ardaemon-gateway listening on http://127.0.0.1:"
        assert line.startswith(prefix) and line.endswith("\n")
        base = line.strip().removeprefix("ardaemon-gateway listening on ")
        assert httpx.get(base + "/v1/models", headers=AUTH).json()["object"] == "list"
        assert httpx.post(base + "/_gateway/fault", json={"name": "overloaded"}).json() == {
            "ok": True
        }
        assert httpx.post(base + "/v1/messages", json=CLAUDE, headers=ANTHROPIC).status_code == 529
        assert len(httpx.get(base + "/_gateway/requests").json()) == 2
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0


async def test_async_task_cancel_closes_upstream(gateway: Gateway) -> None:
    """What the daemon does on $/cancelRequest: cancel the task reading an httpx.AsyncClient stream."""
    gateway.chunk_delay = 0.1
    body = {**CLAUDE, "stream": True}
    first = asyncio.Event()

    async def consume(client: httpx.AsyncClient) -> None:
        async with client.stream("POST", "/v1/messages", json=body, headers=ANTHROPIC) as r:
            async for _ in r.aiter_raw():
                first.set()

    async with httpx.AsyncClient(base_url=gateway.base_url) as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(first.wait(), 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    gone = await asyncio.to_thread(gateway.wait_disconnect, 3)
    assert gone is not None and gone.path == "/v1/messages" and gone.status == 200


def test_stand_in_bug_is_a_500_not_a_hang(
    gateway: Gateway, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="reply rule"):
        gateway.set_replies([("hello", 42)])  # type: ignore[list-item]

    async def broken(*_: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(routes, "handle", broken)
    response = http.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 500
    assert "stand-in bug" in response.json()["error"]["message"]


def test_catalog_pricing_as_openrouter_serves_it(gateway: Gateway, http: httpx.Client) -> None:
    gateway.set_prices({"gpt-5": (1.25, 10.0), "new-model": (0.1, 0.4)})
    models = {m["id"]: m for m in http.get("/v1/models", headers=AUTH).json()["data"]}
    # US dollars per token, as decimal strings; the other models keep no `pricing`.
    assert models["gpt-5"]["pricing"] == {
        "prompt": "0.00000125",
        "completion": "0.00001",
        "request": "0",
        "image": "0",
    }
    assert models["new-model"]["pricing"]["prompt"] == "0.0000001"
    assert "pricing" not in models["glm-4.6"]
    gateway.reset()
    assert all("pricing" not in m for m in http.get("/v1/models", headers=AUTH).json()["data"])
