"""Inline completion over real stdio: triggers, routing, cost rules, ranges, status."""

from __future__ import annotations

import asyncio
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
from editor import URI, change, inline, open_doc
from lsprotocol import types

pytestmark = pytest.mark.subprocess

FIB = "def fibonacci(n):\n"
BODY = "    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)"


async def settle(client: Client) -> None:
    # Notifications are processed in order; a round trip proves the earlier ones landed.
    await request(client, "ardaemon/selectModel", {"model": "glm-4.6", "role": "chat"})


@pytest.mark.parametrize(
    ("model", "path"),
    [("glm-4.6", "/v1/chat/completions"), ("claude-haiku-4-5-20251001", "/v1/messages")],
)
async def test_invoked_and_automatic_triggers_per_model(
    home: Path, gateway: Any, model: str, path: str
) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env, init_options={"models": {"completion": model}})
    try:
        open_doc(client, FIB + "\n\nprint(fibonacci(10))\n")
        result = await inline(client, 1, 0)
        assert result is not None
        (item,) = result.items
        assert item.insert_text == BODY
        assert item.range == types.Range(types.Position(1, 0), types.Position(1, 0))
        assert [r.path for r in gateway.requests] == [path]
        sent = gateway.requests[0].json
        assert sent["model"] == model and sent["stream"] is False
        assert sent["max_tokens"] == 128
        auto = await inline(client, 1, 0, types.InlineCompletionTriggerKind.Automatic)
        assert auto is not None and auto.items[0].insert_text == BODY
    finally:
        await stop_daemon(client)


async def test_cancel_previous_closes_the_older_upstream_request(
    daemon: Client, gateway: Any
) -> None:
    open_doc(daemon, "def slow(x):\n    ")
    gateway.chunk_delay = 0
    gateway.set_fault("hang", times=1)
    older = asyncio.ensure_future(inline(daemon, 1, 4))
    deadline = asyncio.get_running_loop().time() + 5
    while upstream(gateway) < 1:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    change(daemon, 2, 1, 4, "r")
    newer = await inline(daemon, 1, 5)
    closed = await asyncio.to_thread(gateway.wait_disconnect, 3.0)
    assert closed is not None and closed.disconnected, "the stand-in saw the older request closed"
    superseded = await older
    assert superseded is not None and len(superseded.items) == 0
    assert newer is not None


async def test_typing_through_and_cache_hits_make_no_upstream_request(
    daemon: Client, gateway: Any
) -> None:
    open_doc(daemon, FIB)
    first = await inline(daemon, 1, 0)
    assert first is not None and first.items[0].insert_text == BODY
    assert upstream(gateway) == 1
    # The user types the first characters of the ghost text.
    change(daemon, 2, 1, 0, "    if")
    through = await inline(daemon, 1, 6, types.InlineCompletionTriggerKind.Automatic)
    assert through is not None and through.items[0].insert_text == BODY[len("    if") :]
    # Typed back to where it started: the cache answers.
    daemon.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=FIB)],
        )
    )
    again = await request(
        daemon,
        "ardaemon/complete",
        {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 0}},
    )
    assert again["items"][0]["insertText"] == BODY and again["cached"] is True
    assert upstream(gateway) == 1, "no upstream request after the first"


async def test_manual_mode_sends_nothing_on_automatic_triggers(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env, init_options={"completion": {"manual": True}})
    try:
        open_doc(client, FIB)
        for _ in range(3):
            assert await inline(client, 1, 0, types.InlineCompletionTriggerKind.Automatic) is None
        assert upstream(gateway) == 0
        invoked = await inline(client, 1, 0)
        assert invoked is not None and invoked.items[0].insert_text == BODY
    finally:
        await stop_daemon(client)


@pytest.mark.parametrize("encoding", [None, "utf-8"])
async def test_ranges_with_emoji_and_cjk(home: Path, gateway: Any, encoding: str | None) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    from conftest import SERVER, ClientServerConfig, make_client

    client = await ClientServerConfig(
        server_command=SERVER, server_env=env, client_factory=make_client
    ).start()
    general = types.GeneralClientCapabilities(position_encodings=[encoding]) if encoding else None
    init = await client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(general=general))
    )
    try:
        assert init.capabilities.position_encoding == (encoding or "utf-16")
        line = 'label = "😀 你好" + name'
        gateway.add_reply('label = "😀 你好" ', "+ name.upper()")
        open_doc(client, line + "\n")
        cursor_chars = len('label = "😀 你好" ')
        head = line[:cursor_chars]
        units = {
            "utf-16": len(head.encode("utf-16-le")) // 2,
            "utf-8": len(head.encode("utf-8")),
        }[encoding or "utf-16"]
        assert units != cursor_chars, "the test needs a position that differs by encoding"
        result = await inline(client, 0, units)
        assert result is not None
        (item,) = result.items
        assert item.range.start == types.Position(0, units) == item.range.end
        # The daemon cut the line exactly at the cursor: the model saw "+ name" after it.
        sent = gateway.requests[-1].json
        prompt = "\\n".join(m["content"] for m in sent["messages"] if isinstance(m["content"], str))
        assert 'label = "😀 你好" ' in prompt and "+ name" in prompt
        assert item.insert_text == "+ name.upper()"[: len(item.insert_text)]
    finally:
        await stop_daemon(client)


async def test_status_notifications_in_order(daemon: Client, gateway: Any) -> None:
    open_doc(daemon, FIB)
    await inline(daemon, 1, 0)
    await settle(daemon)
    states = [s["state"] for s in daemon.statuses]
    assert states == ["inProgress", "idle"]
    assert daemon.statuses[0]["model"]
    gateway.set_fault("rate_limit", retry_after=300)
    change(daemon, 2, 1, 0, "x")  # not the start of the suggestion: no typing-through
    failed = await inline(daemon, 1, 1)
    assert failed is not None and len(failed.items) == 0, "no error response per keystroke"
    await settle(daemon)
    assert [s["state"] for s in daemon.statuses] == ["inProgress", "idle", "inProgress", "error"]
    error = daemon.statuses[-1]
    assert error["kind"] == "rate_limited" and "retry in 300 s" in error["message"].lower()


async def test_selected_completion_info_extends_the_suggest_widget_item(
    daemon: Client, gateway: Any
) -> None:
    gateway.add_reply("items.app", "(item)")
    open_doc(daemon, "items = []\nitems.ap")
    selected = types.SelectedCompletionInfo(
        range=types.Range(types.Position(1, 6), types.Position(1, 8)), text="append"
    )
    result = await inline(daemon, 1, 8, selected=selected)
    assert result is not None
    (item,) = result.items
    assert item.range == selected.range
    assert item.insert_text == "append(item)"


async def test_disabled_and_denied_languages(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(
        env, init_options={"completion": {"languages": {"deny": ["markdown"]}}}
    )
    try:
        open_doc(client, "# notes\n", uri="file:///n.md", language="markdown")
        assert await inline(client, 1, 0, uri="file:///n.md") is None
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"ardaemon": {"completion": {"enabled": False}}}
            )
        )
        open_doc(client, FIB)
        await settle(client)
        assert await inline(client, 1, 0) is None
        assert upstream(gateway) == 0
    finally:
        await stop_daemon(client)


@pytest.mark.parametrize(
    ("model", "expected", "absent"),
    [
        (
            "gpt-5",
            {"reasoning_effort": "minimal", "max_completion_tokens": 128},
            ["stop", "temperature", "max_tokens"],
        ),
        ("glm-4.6", {"thinking": {"type": "disabled"}, "max_tokens": 128, "temperature": 0.0}, []),
        ("claude-haiku-4-5-20251001", {"max_tokens": 128, "temperature": 0.0}, ["system_prompt"]),
    ],
)
async def test_completion_requests_keep_reasoning_off(
    daemon: Client, gateway: Any, model: str, expected: dict[str, Any], absent: list[str]
) -> None:
    result = await request(daemon, "ardaemon/complete", {"prefix": FIB, "model": model})
    assert result["items"][0]["insertText"] == BODY
    sent = gateway.requests[-1].json
    for key, value in expected.items():
        assert sent[key] == value, key
    for key in absent:
        assert key not in sent, key
    stops = sent.get("stop_sequences") if "claude" in model else sent.get("stop")
    assert (stops is None) == (model == "gpt-5"), "stop sequences end completions early"
