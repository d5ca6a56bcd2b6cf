"""The token never leaves the credentials store: not in logs, stderr, messages or files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, request, start_daemon, stop_daemon
from pygls.exceptions import JsonRpcException
from stdio import answer, initialize, send, spawned

pytestmark = pytest.mark.subprocess


async def test_token_absent_from_logs_errors_and_files(home: Path, gateway: Any) -> None:
    env = isolated_env(
        home,
        AGENTROUTER_API_KEY=TOKEN,
        AGENTROUTER_BASE_URL=gateway.base_url,
        ARDAEMON_LOG_LEVEL="DEBUG",
    )
    client = await start_daemon(env, init_options={"headers": {"X-Debug": "on"}})
    messages: list[str] = []
    try:
        await request(client, "ardaemon/listModels", {})
        await request(client, "ardaemon/selectModel", {"model": "glm-4.6"})
        await request(client, "ardaemon/chat", {"messages": [{"role": "user", "content": TOKEN}]})
        for fault in ("bad_token", "unauthorized_client", "server_error", "drop"):
            # Three times outlasts the two retries of the retryable faults.
            gateway.set_fault(fault, times=3, message=f"echo {TOKEN}")
            try:
                await request(
                    client, "ardaemon/chat", {"messages": [{"role": "user", "content": "x"}]}
                )
            except JsonRpcException as exc:
                messages.append(exc.message + repr(exc.data))
    finally:
        await stop_daemon(client)
    assert len(messages) == 4
    assert all(TOKEN not in m for m in messages)
    written = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "ardaemon.log" for p in written), "the log file exists"
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), f"token found in {path}"


def test_token_absent_from_stderr(home: Path, gateway: Any) -> None:
    gateway.set_fault("bad_token", message=f"bad {TOKEN}")
    with spawned(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url) as proc:
        out = [initialize(proc)]
        send(proc, {"id": 2, "method": "ardaemon/listModels", "params": {}})
        out.append(answer(proc, 2, skipped=out))
        assert proc.stdin and proc.stderr
        proc.stdin.close()
        proc.wait(30)
        err = proc.stderr.read()
    assert out[-1]["error"]["data"]["kind"] == "auth"
    assert TOKEN.encode() not in err and TOKEN not in json.dumps(out)
    log = (home / "state" / "ardaemon.log").read_bytes()
    assert b"rejected the token" in log, "the log file carries the failure"
    assert TOKEN.encode() not in log
    # INFO and WARNING stay out of stderr: Neovim logs every stderr line as an ERROR.
    assert b"rejected the token" not in err and b" INFO " not in err


def test_redaction_masks_tokens_but_not_ordinary_words() -> None:
    from ardaemon.credentials import redact, remember

    remember("T")  # too short to be a real token
    remember("sk-redact-me-0123456789")
    assert redact("AGENTROUTER_BASE_URL") == "AGENTROUTER_BASE_URL"
    assert redact("bad key sk-redact-me-0123456789 here") == "bad key *** here"
