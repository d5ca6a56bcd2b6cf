"""The fixed contract with editors (`/work/shared/protocol.md`), name by name, over real stdio.

Each test quotes the part of the contract it holds the daemon to. Shapes are checked as
written there: every required field with its type, optional fields typed when present,
camelCase names; additive fields are allowed (the contract says so).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    ROOT,
    SERVER,
    TOKEN,
    Client,
    ClientServerConfig,
    documented_kinds,
    isolated_env,
    make_client,
    request,
    start_daemon,
    stop_daemon,
)
from editor import inline, open_doc
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from stdio import framed, initialize, read_frame, replies, send, shut_down, spawned

import ardaemon

CLAUDE = "claude-haiku-4-5-20251001"
OTHER = "glm-4.6"
HI = [{"role": "user", "content": "hi"}]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def shape(obj: Any, required: dict[str, Any], optional: dict[str, Any] | None = None) -> None:
    """`obj` is an object with the required fields (types checked), optional ones typed when
    present, and only camelCase names."""
    assert isinstance(obj, dict), obj
    for name, typ in required.items():
        assert name in obj, f"missing `{name}` in {obj}"
        assert isinstance(obj[name], typ), f"`{name}`: {obj[name]!r} is not {typ}"
    for name, typ in (optional or {}).items():
        if name in obj:
            assert isinstance(obj[name], typ), f"`{name}`: {obj[name]!r} is not {typ}"
    for name in obj:
        assert "_" not in name, f"`{name}` is not camelCase"


async def rpc_error(client: Client, method: str, params: Any) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as err:
        await request(client, method, params)
    error = err.value
    # `{code, message, data: {kind, status?, retryAfter?, model?}}`; one sentence, no trace.
    assert isinstance(error.data, dict) and isinstance(error.data.get("kind"), str), error.data
    shape(error.data, {"kind": str}, {"status": int, "retryAfter": (int, float), "model": str})
    assert error.message and "Traceback" not in error.message and TOKEN not in error.message
    assert "\n" not in error.message.strip()
    return error


# --- starting it ----------------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--stdio"]])
async def test_initialize_answers_server_info_and_inline_provider(
    env: dict[str, str], extra: list[str]
) -> None:
    """`ardaemon serve` (and `serve --stdio`): `serverInfo: {name: "ardaemon", version}`,
    `inlineCompletionProvider` advertised."""
    config = ClientServerConfig(
        server_command=[*SERVER, *extra], server_env=env, client_factory=make_client
    )
    client: Client = await config.start()  # type: ignore[assignment]
    try:
        result = await client.initialize_session(
            types.InitializeParams(capabilities=types.ClientCapabilities())
        )
        assert result.server_info is not None
        assert result.server_info.name == "ardaemon"
        assert result.server_info.version == ardaemon.__version__
        assert result.capabilities.inline_completion_provider not in (None, False)
    finally:
        await stop_daemon(client)


@pytest.mark.subprocess
def test_shutdown_exit_is_clean_and_only_protocol_on_stdout(home: Path) -> None:
    """Exits cleanly on `shutdown` + `exit` (code 0); `exit` alone exits with code 1."""
    for with_shutdown, code in ((True, 0), (False, 1)):
        with spawned(home, AGENTROUTER_API_KEY=TOKEN) as proc:
            initialize(proc)
            if with_shutdown:
                shut_down(proc)
            else:
                send(proc, {"method": "initialized", "params": {}})
            send(proc, {"method": "exit"})
            assert proc.wait(30) == code
            assert proc.stderr and TOKEN.encode() not in proc.stderr.read()


@pytest.mark.subprocess
def test_malformed_json_and_invalid_request_are_answered(home: Path) -> None:
    """Additions: malformed JSON gets -32700 (`id: null`), an invalid request -32600; the
    daemon keeps serving."""
    with spawned(home) as proc:
        initialize(proc)
        assert proc.stdin and proc.stdout
        body = b"{not json"
        proc.stdin.write(framed(body))
        send(
            proc,
            {"jsonrpc": "1.0", "id": 2, "method": "shutdown"},
            {"id": [4], "method": "shutdown"},
            {"id": 3, "method": "shutdown"},
        )
        answers = [read_frame(proc.stdout) for _ in range(4)]
        errors = [(a["error"]["code"], a["id"]) for a in answers if "error" in a]
        # docs/protocol.md: -32600 carries the request's id when that id is valid, else null.
        assert sorted(errors, key=str) == [(-32600, 2), (-32600, None), (-32700, None)]
        assert any(a.get("id") == 3 and "result" in a for a in answers), "still serving"
        doc = " ".join((ROOT / "docs" / "protocol.md").read_text(encoding="utf-8").split())
        assert "-32600, with the request's `id` when it is a valid one" in doc


# --- ardaemon/listModels --------------------------------------------------------------


def check_list_result(result: dict[str, Any]) -> None:
    shape(
        result,
        {"models": list, "source": str, "stale": bool, "fetchedAt": str, "selected": dict},
    )
    assert result["source"] in ("network", "cache")
    assert RFC3339.match(result["fetchedAt"]), result["fetchedAt"]
    assert set(result["selected"]) >= {"completion", "chat"}
    for role in ("completion", "chat"):
        assert result["selected"][role] is None or isinstance(result["selected"][role], str)
    for model in result["models"]:
        shape(
            model,
            {"id": str, "api": str, "provider": str},
            {"name": str, "ownedBy": str},
        )
        assert model["api"] in ("openai", "anthropic")


async def test_list_models_network_cache_refresh_and_stale(daemon: Client, gateway: Any) -> None:
    """Network first, then the disk cache without a network call; `refresh: true` forces
    one; a failing upstream with a cache gives `stale: true, source: "cache"`."""
    first = await request(daemon, "ardaemon/listModels", {})
    check_list_result(first)
    assert (first["source"], first["stale"]) == ("network", False)
    apis = {m["id"]: m["api"] for m in first["models"]}
    assert apis[CLAUDE] == "anthropic" and apis[OTHER] == "openai"
    assert {m["provider"] for m in first["models"]} == {"agent_router"}
    catalog = [r for r in gateway.requests if r.path == "/v1/models"]
    assert len(catalog) == 1 and catalog[0].method == "GET"
    assert catalog[0].headers["authorization"] == f"Bearer {TOKEN}"

    second = await request(daemon, "ardaemon/listModels", None)
    check_list_result(second)
    assert second["source"] == "cache" and gateway.count("/v1/models") == 1

    third = await request(daemon, "ardaemon/listModels", {"refresh": True})
    assert third["source"] == "network" and gateway.count("/v1/models") == 2

    gateway.set_fault("server_error", status=502, paths=["/v1/models"])
    stale = await request(daemon, "ardaemon/listModels", {"refresh": True})
    check_list_result(stale)
    assert (stale["source"], stale["stale"]) == ("cache", True)
    assert [m["id"] for m in stale["models"]] == [m["id"] for m in first["models"]]


async def test_claude_rule_lowercases_and_drops_vendor_prefix(daemon: Client, gateway: Any) -> None:
    """A Claude model: id lower-cased, without a vendor prefix, starts with `claude`."""
    gateway.set_models(
        ["anthropic/claude-sonnet-4-5", "Claude-Opus-X", "openai/gpt-4o", "myclaude"]
    )
    listed = await request(daemon, "ardaemon/listModels", {"refresh": True})
    assert {m["id"]: m["api"] for m in listed["models"]} == {
        "anthropic/claude-sonnet-4-5": "anthropic",
        "Claude-Opus-X": "anthropic",
        "openai/gpt-4o": "openai",
        "myclaude": "openai",
    }


# --- ardaemon/selectModel -------------------------------------------------------------


async def test_select_model_roles_persistence_and_unknown(
    env: dict[str, str], gateway: Any
) -> None:
    """`{model, role?}` (no role: both) → `{selected: {completion, chat}}`, persisted across a
    restart; a model not in the catalog is InvalidParams naming close matches."""
    client = await start_daemon(env)
    try:
        both = await request(client, "ardaemon/selectModel", {"model": OTHER})
        assert both == {"selected": {"completion": OTHER, "chat": OTHER}}
        one = await request(client, "ardaemon/selectModel", {"model": CLAUDE, "role": "chat"})
        assert one == {"selected": {"completion": OTHER, "chat": CLAUDE}}
        error = await rpc_error(client, "ardaemon/selectModel", {"model": "glm-4.7"})
        assert error.code == -32602 and OTHER in error.message
        error = await rpc_error(client, "ardaemon/selectModel", {"model": OTHER, "role": "x"})
        assert error.code == -32602 and "role" in error.message
    finally:
        await stop_daemon(client)
    again = await start_daemon(env)
    try:
        listed = await request(again, "ardaemon/listModels", {})
        assert listed["selected"] == {"completion": OTHER, "chat": CLAUDE}
    finally:
        await stop_daemon(again)


# --- ardaemon/complete ----------------------------------------------------------------


def check_complete_result(result: dict[str, Any]) -> None:
    shape(result, {"items": list, "model": str, "api": str, "cached": bool})
    assert result["api"] in ("openai", "anthropic")
    for item in result["items"]:
        shape(item, {"insertText": str})


async def test_complete_from_prefix_and_from_open_document(daemon: Client, gateway: Any) -> None:
    """Either `prefix` (+ `suffix`) or an open document and a position; `insertText` is
    what goes at the cursor, no markdown fence, no echo of the prefix."""
    prefix = "def fibonacci(n):\n"
    result = await request(
        daemon, "ardaemon/complete", {"prefix": prefix, "suffix": "", "model": OTHER}
    )
    check_complete_result(result)
    assert (result["model"], result["api"]) == (OTHER, "openai")
    text = result["items"][0]["insertText"]
    assert "```" not in text and "def fibonacci" not in text and "return fibonacci" in text
    assert gateway.requests[-1].path == "/v1/chat/completions"

    uri = open_doc(daemon, prefix, "file:///work/fib.py")
    params = {
        "textDocument": {"uri": uri},
        "position": {"line": 1, "character": 0},
        "model": CLAUDE,
        "maxTokens": 64,
    }
    result = await request(daemon, "ardaemon/complete", params)
    check_complete_result(result)
    assert (result["model"], result["api"]) == (CLAUDE, "anthropic")
    assert "return fibonacci" in result["items"][0]["insertText"]
    sent = gateway.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json["max_tokens"] <= 64
    assert all(m["role"] != "system" for m in sent.json["messages"]), "system is top-level"

    again = await request(daemon, "ardaemon/complete", params)
    assert again["cached"] is True and again["items"] == result["items"]


async def test_inline_completion_returns_an_inline_completion_list(daemon: Client) -> None:
    """`textDocument/inlineCompletion`: the same engine on the synced document."""
    uri = open_doc(daemon, "def is_prime(n):\n", "file:///work/prime.py")
    await request(daemon, "ardaemon/selectModel", {"model": OTHER, "role": "completion"})
    result = await inline(daemon, 1, 0, uri=uri)
    assert isinstance(result, types.InlineCompletionList)
    assert result.items and "return all(" in str(result.items[0].insert_text)


# --- ardaemon/chat --------------------------------------------------------------------


def check_chat_result(result: dict[str, Any]) -> None:
    shape(
        result,
        {"content": str, "model": str, "api": str, "stopReason": str},
        {"usage": dict},
    )
    assert result["api"] in ("openai", "anthropic")
    if "usage" in result:
        shape(result["usage"], {"inputTokens": int, "outputTokens": int})


@pytest.mark.parametrize(
    ("model", "api", "path"),
    [(CLAUDE, "anthropic", "/v1/messages"), (OTHER, "openai", "/v1/chat/completions")],
)
async def test_chat_routes_and_streams_progress_with_the_client_token(
    daemon: Client, gateway: Any, model: str, api: str, path: str
) -> None:
    """Routing per request from its model; with `partialResultToken` (string or integer)
    each chunk is `$/progress {token, value: {delta}}`, in order, joining to `content`."""
    messages = [{"role": "system", "content": "be brief"}, *HI]
    plain = await request(daemon, "ardaemon/chat", {"messages": messages, "model": model})
    check_chat_result(plain)
    assert (plain["model"], plain["api"]) == (model, api)
    sent = gateway.requests[-1]
    assert sent.path == path and sent.method == "POST"
    if api == "anthropic":
        assert sent.headers["anthropic-version"] == "2023-06-01"
        assert "max_tokens" in sent.json
        assert sent.json["system"] and all(m["role"] != "system" for m in sent.json["messages"])
        assert sent.headers.get("x-api-key") == TOKEN or (
            sent.headers.get("authorization") == f"Bearer {TOKEN}"
        )
    else:
        assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["user-agent"].startswith(f"ardaemon/{ardaemon.__version__}")

    gateway.chunk_delay = 0.05
    for token in ("chat-1", 7):
        result = await request(
            daemon,
            "ardaemon/chat",
            {
                "messages": HI,
                "model": model,
                "maxTokens": 200,
                "temperature": 0.5,
                "partialResultToken": token,
            },
        )
        check_chat_result(result)
        values = daemon.progress[token]
        assert values and all(set(v) == {"delta"} and isinstance(v["delta"], str) for v in values)
        assert "".join(v["delta"] for v in values) == result["content"]


# --- ardaemon/didChangeStatus ---------------------------------------------------------


async def test_status_notifications_for_completions_and_failures(
    daemon: Client, gateway: Any
) -> None:
    """`{state: idle|inProgress|error, message?, model?, kind?}` when upstream work for a
    completion starts and ends, and when a request fails (`kind` as in Errors)."""
    await request(daemon, "ardaemon/complete", {"prefix": "x = ", "model": OTHER})
    gateway.set_fault("bad_token", times=1)
    await rpc_error(daemon, "ardaemon/complete", {"prefix": "y = ", "model": OTHER})
    for status in daemon.statuses:
        shape(status, {"state": str}, {"message": str, "model": str, "kind": str})
        assert status["state"] in ("idle", "inProgress", "error")
    states = [s["state"] for s in daemon.statuses]
    assert "inProgress" in states and "idle" in states[states.index("inProgress") :]
    failed = [s for s in daemon.statuses if s["state"] == "error"]
    assert failed and failed[-1].get("kind") == "auth"


async def test_status_error_when_a_chat_fails_not_when_it_is_cancelled(
    daemon: Client, gateway: Any
) -> None:
    """A failed `ardaemon/chat` (streamed or not) is a failed request: `{state: "error",
    kind, message}`; a cancelled one is not a failure."""
    gateway.set_fault("bad_token", times=1)
    error = await rpc_error(daemon, "ardaemon/chat", {"messages": HI, "model": OTHER})
    gateway.set_fault("model_not_found", status=404, times=1)
    streamed = {"messages": HI, "model": CLAUDE, "partialResultToken": "s"}
    await rpc_error(daemon, "ardaemon/chat", streamed)
    failed = [s for s in daemon.statuses if s["state"] == "error"]
    assert [s.get("kind") for s in failed] == ["auth", "model_not_found"]
    assert failed[0]["message"] == error.message and failed[1]["model"] == CLAUDE

    gateway.set_fault("hang", times=1)
    before, seen = gateway.count(), len(daemon.statuses)
    pending = asyncio.ensure_future(
        daemon.protocol.send_request_async(
            "ardaemon/chat", {"messages": HI, "model": OTHER}, msg_id="chat-cancel"
        )
    )
    while gateway.count() == before:  # the request reached the gateway
        await asyncio.sleep(0.02)
    daemon.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="chat-cancel"))
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(pending, 30)
    assert err.value.code == -32800
    # The next failure is the next status: the cancellation reported nothing in between.
    gateway.set_fault("bad_token", times=1)
    await rpc_error(daemon, "ardaemon/chat", {"messages": HI, "model": OTHER})
    assert [s.get("kind") for s in daemon.statuses[seen:]] == ["auth"]


# --- cancellation ---------------------------------------------------------------------


async def test_cancel_request_answers_request_cancelled_and_closes_upstream(
    daemon: Client, gateway: Any
) -> None:
    """`$/cancelRequest` on an in-flight `complete`, `chat` or `inlineCompletion` closes the
    upstream request and answers -32800."""
    uri = open_doc(daemon, "x = ", "file:///work/c.py")
    await request(daemon, "ardaemon/selectModel", {"model": OTHER})
    inline = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=0, character=4),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )
    calls: list[tuple[str, Any]] = [
        ("ardaemon/complete", {"prefix": "def f(", "model": OTHER}),
        ("ardaemon/chat", {"messages": HI, "model": CLAUDE, "partialResultToken": "p"}),
        ("textDocument/inlineCompletion", inline),
    ]
    gateway.set_fault("hang")
    for n, (method, params) in enumerate(calls):
        before = gateway.count()
        msg_id = f"cancel-{n}"
        pending = asyncio.ensure_future(
            daemon.protocol.send_request_async(method, params, msg_id=msg_id)
        )
        while gateway.count() == before:  # the request reached the gateway
            await asyncio.sleep(0.02)
        daemon.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(pending, 30)
        assert err.value.code == -32800, method
        closed = await asyncio.to_thread(gateway.wait_disconnect, 30.0)
        assert closed is not None and closed.disconnected, method
    gateway.clear_faults()
    assert (await request(daemon, "ardaemon/chat", {"messages": HI, "model": OTHER}))["content"]


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "opts", "model", "kind", "status"),
    [
        ("bad_token", {}, OTHER, "auth", 401),
        ("unauthorized_client", {}, CLAUDE, "unauthorized_client", None),
        ("model_not_found", {"status": 404}, OTHER, "model_not_found", None),
        ("rate_limit", {"retry_after": 120}, OTHER, "rate_limited", 429),
        ("overloaded", {}, CLAUDE, "overloaded", None),
        ("server_error", {"status": 500}, OTHER, "upstream", 500),
        ("drop", {}, OTHER, "network", None),
    ],
)
async def test_upstream_errors_are_request_failed_with_kind(
    daemon: Client,
    gateway: Any,
    fault: str,
    opts: dict[str, Any],
    model: str,
    kind: str,
    status: int | None,
) -> None:
    """-32803 RequestFailed with `data.kind`; the daemon keeps serving."""
    gateway.set_fault(fault, **opts)
    error = await rpc_error(daemon, "ardaemon/chat", {"messages": HI, "model": model})
    assert (error.code, error.data["kind"]) == (-32803, kind)
    assert error.data["kind"] in documented_kinds()
    if status is not None:
        assert error.data["status"] == status
    if kind == "rate_limited":
        assert error.data["retryAfter"] == 120
    if kind == "model_not_found":
        assert error.data["model"] == model
    gateway.clear_faults()
    assert (await request(daemon, "ardaemon/chat", {"messages": HI, "model": model}))["content"]


async def test_timeout_kind(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env, init_options={"ardaemon": {"requestTimeout": 1}})
    try:
        gateway.set_fault("hang", times=1)
        error = await rpc_error(client, "ardaemon/chat", {"messages": HI, "model": OTHER})
        assert (error.code, error.data["kind"]) == (-32803, "timeout")
    finally:
        await stop_daemon(client)


async def test_bad_response_and_network_kinds(home: Path, not_a_gateway: str) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=not_a_gateway)
    client = await start_daemon(env)
    try:
        error = await rpc_error(client, "ardaemon/chat", {"messages": HI, "model": OTHER})
        assert (error.code, error.data["kind"]) == (-32803, "bad_response")
    finally:
        await stop_daemon(client)


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("ardaemon/chat", {"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ("ardaemon/chat", {"messages": HI, "temperature": "hot"}, "temperature"),
        ("ardaemon/chat", {"messages": HI, "partialResultToken": [1]}, "partialResultToken"),
        ("ardaemon/complete", {"prefix": "x", "maxTokens": "many"}, "maxTokens"),
        ("ardaemon/complete", {"prefix": "x", "languageId": 5}, "languageId"),
        ("ardaemon/selectModel", {"model": 5}, "model"),
    ],
)
async def test_invalid_params_name_the_field(
    daemon: Client, method: str, params: dict[str, Any], field: str
) -> None:
    """-32602 InvalidParams: the message names the field; the daemon keeps serving."""
    error = await rpc_error(daemon, method, params)
    assert error.code == -32602 and field in error.message
    assert await request(daemon, "ardaemon/listModels", {})


# --- settings, environment and files --------------------------------------------------


async def test_settings_from_init_options_push_and_config_file(home: Path, gateway: Any) -> None:
    """Section `ardaemon` from `initializationOptions` and pushed `settings.ardaemon`, dotted
    keys as nested objects; the user's config file gives defaults (`headers`,
    `completion.maxTokens`)."""
    config = home / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        '[headers]\nx-team = "blue"\n[completion]\nmax_tokens = 33\n'
    )
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(
        env, {"ardaemon": {"models": {"completion": OTHER, "chat": CLAUDE}}}
    )
    try:
        done = await request(client, "ardaemon/complete", {"prefix": "x = "})
        assert done["model"] == OTHER
        sent = gateway.requests[-1]
        assert sent.headers["x-team"] == "blue" and sent.json["max_tokens"] <= 33
        chat = await request(client, "ardaemon/chat", {"messages": HI})
        assert chat["model"] == CLAUDE
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"ardaemon": {"models": {"chat": "kimi-k2"}}}
            )
        )
        chat = await request(client, "ardaemon/chat", {"messages": HI})
        assert chat["model"] == "kimi-k2"
    finally:
        await stop_daemon(client)


async def test_environment_token_wins_and_never_leaves_the_store(home: Path, gateway: Any) -> None:
    """`AGENTROUTER_API_KEY` wins over a stored token; no file the daemon writes contains the
    token except the credentials store; it never appears in logs or errors."""
    store = home / "config"
    store.mkdir(parents=True)
    (store / "credentials.json").write_text(json.dumps({"agent_router": "sk-stored-token"}))
    (store / "credentials.json").chmod(0o600)
    env = isolated_env(
        home,
        AGENTROUTER_API_KEY=TOKEN,
        AGENTROUTER_BASE_URL=gateway.base_url + "/v1/",
    )
    client = await start_daemon(env)
    try:
        await request(client, "ardaemon/listModels", {})
        await request(client, "ardaemon/chat", {"messages": HI, "model": OTHER})
        gateway.set_fault("bad_token", times=1)
        await rpc_error(client, "ardaemon/chat", {"messages": HI, "model": OTHER})
        assert all(r.path.startswith("/v1/") and "/v1/v1" not in r.path for r in gateway.requests)
        assert gateway.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    finally:
        await stop_daemon(client)
    written = [p for p in home.rglob("*") if p.is_file() and p.name != "credentials.json"]
    assert any(p.name == "ardaemon.log" for p in written), "the log file exists"
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), path


@pytest.mark.subprocess
async def test_an_unusable_base_url_is_request_failed_not_internal(home: Path) -> None:
    """Upstream trouble is -32803 with a contract kind, whatever the base URL holds: a port
    out of range used to escape as -32603 `internal` (anyio's ExceptionGroup)."""
    env = isolated_env(
        home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL="http://127.0.0.1:99999"
    )
    client = await start_daemon(env)
    try:
        for method, params in (
            ("ardaemon/listModels", {}),
            ("ardaemon/chat", {"messages": HI, "model": OTHER}),
        ):
            error = await rpc_error(client, method, params)
            assert (error.code, error.data["kind"]) == (-32803, "network"), method
            assert "base URL" in error.message
    finally:
        await stop_daemon(client)


@pytest.mark.subprocess
def test_deeply_nested_params_are_invalid_params_not_internal(home: Path) -> None:
    """Additions: ill-typed params are -32602, never -32603; 700 levels of nesting still
    parse as JSON but used to blow the recursion limit while decoding (-32603 `internal`)."""
    with spawned(home) as proc:
        initialize(proc)
        assert proc.stdin and proc.stdout
        deep = "[" * 700 + "]" * 700
        methods = ("ardaemon/listModels", "ardaemon/chat", "ardaemon/complete")
        for n, method in enumerate(methods, 10):
            body = (
                f'{{"jsonrpc":"2.0","id":{n},"method":"{method}","params":{{"extra":{deep}}}}}'
            ).encode()
            proc.stdin.write(framed(body))
        proc.stdin.flush()
        answers = replies(proc, *range(10, 10 + len(methods)))
        for n, method in enumerate(methods, 10):
            assert answers[n]["error"]["code"] == -32602, (method, answers[n]["error"])


async def test_usage_answers_the_documented_shape(daemon: Client) -> None:
    """Additions: `ardaemon/usage` → `{since, by, total, groups, todayTokens,
    dailyTokenWarning, ledger}` (docs/protocol.md), per-model groups from the ledger."""
    await request(daemon, "ardaemon/chat", {"messages": HI, "model": OTHER})
    usage = await request(daemon, "ardaemon/usage", {"by": "model"})
    shape(
        usage,
        {"since": str, "by": str, "total": dict, "groups": list, "todayTokens": int, "ledger": str},
    )
    assert "dailyTokenWarning" in usage
    group = {"key": str, "requests": int, "failed": int, "inputTokens": int}
    group |= {"outputTokens": int, "unknownUsage": int, "costUnknown": int}
    for g in (usage["total"], *usage["groups"]):
        shape(g, group)
        assert "cost" in g
    mine = [g for g in usage["groups"] if g["key"].endswith(f":{OTHER}")]
    assert mine and mine[0]["requests"] >= 1 and mine[0]["outputTokens"] > 0
    error = await rpc_error(daemon, "ardaemon/usage", {"since": "last blue moon"})
    assert error.code == -32602


async def test_inline_completion_candidates_are_distinct(env: dict[str, str]) -> None:
    """Additions: invoked inline requests return up to `completion.candidates` distinct items."""
    client = await start_daemon(env, {"ardaemon": {"completion": {"candidates": 3}}})
    try:
        await request(client, "ardaemon/selectModel", {"model": OTHER})
        uri = open_doc(client, "def fibonacci(n):\n", "file:///work/many.py")
        result = await inline(client, 1, 0, uri=uri)
        assert isinstance(result, types.InlineCompletionList)
        texts = [str(item.insert_text) for item in result.items]
        assert 1 <= len(texts) <= 3 and len(set(texts)) == len(texts)
    finally:
        await stop_daemon(client)
