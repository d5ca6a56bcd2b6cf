"""Several candidates and acceptance feedback, over real stdio.

Also the protocol-level check for Neovim 0.12's built-in `vim.lsp.inline_completion`
(only 0.11 installs here): it consumes the standard request and needs items with
`insertText` and `range`, an optional `command` it runs on accept through
`workspace/executeCommand`, and `$/cancelRequest` answered with RequestCancelled.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    TOKEN,
    Client,
    isolated_env,
    request,
    start_daemon,
    stop_daemon,
    upstream,
)
from editor import URI, inline, open_doc
from lsprotocol import types
from pygls.exceptions import JsonRpcException

FIB = "def fibonacci(n):\n"
ALTERNATIVES = [
    "    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)",
    "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
]


async def start(home: Path, gateway: Any, **completion: Any) -> Client:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    return await start_daemon(
        env, init_options={"models": {"completion": "glm-4.6"}, "completion": completion}
    )


async def test_invoked_request_returns_distinct_candidates_automatic_one(
    home: Path, gateway: Any
) -> None:
    gateway.set_replies([("def fibonacci(n):", reply) for reply in ALTERNATIVES])
    client = await start(home, gateway, candidates=3)
    try:
        open_doc(client, FIB)
        result = await inline(client, 1, 0)
        assert result is not None
        texts = [item.insert_text for item in result.items]
        assert sorted(texts) == sorted(ALTERNATIVES), "three distinct, cleaned candidates"
        assert texts[0] == ALTERNATIVES[0], "the greedy answer comes first"
        sent = [r.json for r in gateway.requests if r.path == "/v1/chat/completions"]
        assert sorted(s["temperature"] for s in sent) == [0.0, 0.8, 0.8]
        gateway.reset()
        gateway.set_replies([("def fibonacci(n):", reply) for reply in ALTERNATIVES])
        auto = await inline(client, 1, 0, types.InlineCompletionTriggerKind.Automatic)
        assert auto is not None and len(auto.items) == 1
        assert upstream(gateway) == 0, "the greedy answer came from the cache"
    finally:
        await stop_daemon(client)


async def test_identical_candidates_collapse_to_one(home: Path, gateway: Any) -> None:
    client = await start(home, gateway, candidates=3)
    try:
        open_doc(client, FIB)
        result = await inline(client, 1, 0)
        assert result is not None and len(result.items) == 1
        assert upstream(gateway) == 3
    finally:
        await stop_daemon(client)


async def test_cancelling_cancels_every_candidate_request(home: Path, gateway: Any) -> None:
    client = await start(home, gateway, candidates=3)
    try:
        open_doc(client, FIB)
        gateway.set_fault("hang")
        pending = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION,
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=URI),
                    position=types.Position(1, 0),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                ),
                msg_id="inline-3",
            )
        )
        deadline = time.monotonic() + 10
        while upstream(gateway) < 3:
            assert time.monotonic() < deadline, "three upstream requests"
            await asyncio.sleep(0.02)
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="inline-3"))
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(pending, 5)
        assert err.value.code == -32800
        closed = [await asyncio.to_thread(gateway.wait_disconnect, 3.0) for _ in range(3)]
        assert all(c is not None and c.disconnected for c in closed), "all three closed"
    finally:
        gateway.clear_faults()
        await stop_daemon(client)


async def test_neovim_012_contract_items_range_command_and_accept(home: Path, gateway: Any) -> None:
    client = await start(home, gateway)
    try:
        caps = client.init_result.capabilities
        assert caps.inline_completion_provider
        assert caps.execute_command_provider is not None
        assert list(caps.execute_command_provider.commands) == ["ardaemon.accepted"]
        open_doc(client, FIB)
        result = await inline(client, 1, 0)
        assert result is not None
        (item,) = result.items
        assert isinstance(item.insert_text, str) and item.insert_text.startswith("    if n < 2")
        assert item.range == types.Range(types.Position(1, 0), types.Position(1, 0))
        assert item.command is not None and item.command.command == "ardaemon.accepted"
        assert item.command.arguments is not None
        assert [dict(a) for a in item.command.arguments] == [{"model": "glm-4.6"}]
        # What Neovim 0.12 (and vscode-languageclient) do when the user accepts it.
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=item.command.command, arguments=item.command.arguments
            )
        )
        status = await request(client, "ardaemon/status", {})
        assert status["acceptance"] == [{"model": "glm-4.6", "shown": 1, "accepted": 1}]
        assert status["token"] == {"source": "env", "detail": "AGENTROUTER_API_KEY"}
        with pytest.raises(JsonRpcException) as err:
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="ardaemon.accepted", arguments=[{"x": 1}])
            )
        assert err.value.code == -32602
    finally:
        await stop_daemon(client)
    # Counted locally: `ardaemon status` shows the rate per model after the daemon is gone.
    env = isolated_env(home)
    shown = subprocess.run(
        [sys.executable, "-m", "ardaemon", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    data = json.loads(shown.stdout)
    assert data["acceptance"] == [{"model": "glm-4.6", "shown": 1, "accepted": 1, "rate": 1.0}]
    text = subprocess.run(
        [sys.executable, "-m", "ardaemon", "status"], env=env, capture_output=True, text=True
    ).stdout
    assert "glm-4.6: 100% (1 of 1 shown)" in text
