"""`$/cancelRequest` closes the upstream connection at once and answers -32800."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from conftest import Client, request
from lsprotocol import types
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.subprocess


async def cancel_midway(daemon: Client, gateway: Any, method: str, params: dict[str, Any]) -> None:
    msg_id = f"req-{method}"
    pending = asyncio.ensure_future(
        daemon.protocol.send_request_async(method, params, msg_id=msg_id)
    )
    deadline = time.monotonic() + 10
    while not any(r.path.startswith("/v1/") and r.path != "/v1/models" for r in gateway.requests):
        assert time.monotonic() < deadline, "the request never reached the gateway"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # well inside the upstream reply
    daemon.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    # The upstream reply never ends (hang) or lasts far longer (0.3 s a chunk): an answer
    # at all, and -32800, is the cancel working; no wall-clock bound (the machine is shared).
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(pending, 30)
    assert err.value.code == -32800
    closed = await asyncio.to_thread(gateway.wait_disconnect, 30.0)
    assert closed is not None and closed.disconnected, "the upstream connection was closed"


@pytest.mark.parametrize("model", ["claude-haiku-4-5-20251001", "glm-4.6"])
async def test_cancel_streaming_chat(daemon: Client, gateway: Any, model: str) -> None:
    gateway.chunk_delay = 0.3
    params = {
        "model": model,
        "messages": [{"role": "user", "content": "tell me"}],
        "partialResultToken": "c",
    }
    await cancel_midway(daemon, gateway, "ardaemon/chat", params)
    received = len(daemon.progress.get("c", []))
    await asyncio.sleep(0.8)
    assert len(daemon.progress.get("c", [])) == received, "no tokens stream to nobody"


async def test_cancel_hanging_complete(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("hang")
    await cancel_midway(
        daemon, gateway, "ardaemon/complete", {"prefix": "def f(", "model": "glm-4.6"}
    )
    gateway.clear_faults()
    # Still serving.
    assert await request(daemon, "ardaemon/listModels", {})
