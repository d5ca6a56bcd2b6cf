"""The fallback chain over real stdio: only before output, only for kinds worth it."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, request, start_daemon, stop_daemon
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from ardaemon.gateway import Gateway

HI = [{"role": "user", "content": "hi"}]
SECOND_TOKEN = "sk-backup-0123456789"


@pytest.fixture
def backup() -> Iterator[Gateway]:
    """A second provider, with its own base URL and token."""
    with Gateway(token=SECOND_TOKEN) as gw:
        yield gw


def config(
    home: Path, backup: Gateway, chat: list[str], completion: list[str] | None = None
) -> None:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        textwrap.dedent(
            f"""
            [models.fallback]
            chat = {json.dumps(chat)}
            completion = {json.dumps(completion or [])}
            [headers]
            X-Mine = "only-for-my-provider"
            [providers.backup]
            base_url = "{backup.base_url}"
            token_env = "BACKUP_KEY"
            api = "auto"
            """
        )
    )


def env_for(home: Path, gateway: Gateway) -> dict[str, str]:
    return isolated_env(
        home,
        AGENTROUTER_API_KEY=TOKEN,
        AGENTROUTER_BASE_URL=gateway.base_url,
        BACKUP_KEY=SECOND_TOKEN,
    )


def ledger(home: Path) -> list[dict[str, Any]]:
    text = (home / "state" / "usage.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


async def chat(client: LanguageClient, **extra: Any) -> Any:
    return await request(client, "ardaemon/chat", {"messages": HI, "model": "gpt-4o", **extra})


async def test_overloaded_falls_back_and_says_so(
    home: Path, gateway: Gateway, backup: Gateway
) -> None:
    config(home, backup, chat=["claude-sonnet-4-5-20250929"])
    gateway.set_fault("overloaded", paths=["/v1/chat/completions"])
    client = await start_daemon(env_for(home, gateway))
    try:
        result = await chat(client, partialResultToken="s")
    finally:
        await stop_daemon(client)
    assert result["model"] == "claude-sonnet-4-5-20250929" and result["api"] == "anthropic"
    assert result["fallbackFrom"] == "gpt-4o"
    assert "".join(d["delta"] for d in client.progress["s"]) == result["content"]
    notes = [s for s in client.statuses if s.get("kind") == "fallback"]
    assert len(notes) == 1 and "gpt-4o" in notes[0]["message"]
    outcomes = [(x["model"], x["outcome"]) for x in ledger(home)]
    assert outcomes == [("gpt-4o", "overloaded"), ("claude-sonnet-4-5-20250929", "ok")]
    assert ledger(home)[1]["fallbackFrom"] == "gpt-4o"


async def test_unauthorized_client_moves_only_to_another_provider(
    home: Path, gateway: Gateway, backup: Gateway
) -> None:
    config(home, backup, chat=["glm-4.6", "backup:kimi-k2"])
    gateway.set_fault("unauthorized_client")
    client = await start_daemon(env_for(home, gateway))
    try:
        result = await chat(client)
    finally:
        await stop_daemon(client)
    # glm-4.6 sits on the same refusing provider: skipped; backup answered with its own token.
    assert result["model"] == "kimi-k2" and result["fallbackFrom"] == "gpt-4o"
    assert [r.json["model"] for r in gateway.requests if r.json] == ["gpt-4o"]
    (sent,) = [r for r in backup.requests if r.path == "/v1/chat/completions"]
    assert sent.headers["authorization"] == f"Bearer {SECOND_TOKEN}"
    assert "x-mine" not in sent.headers, "the user's headers stay with their provider"


@pytest.mark.parametrize("fault", ["bad_token", "model_not_found"])
async def test_never_on_auth_or_a_bad_request(
    home: Path, gateway: Gateway, backup: Gateway, fault: str
) -> None:
    config(home, backup, chat=["backup:kimi-k2"])
    gateway.set_fault(fault)
    client = await start_daemon(env_for(home, gateway))
    try:
        with pytest.raises(Exception) as caught:
            await chat(client)
    finally:
        await stop_daemon(client)
    assert "backup" not in str(caught.value)
    assert backup.count("/v1/chat/completions") == 0


async def test_never_after_output_was_streamed(
    home: Path, gateway: Gateway, backup: Gateway
) -> None:
    config(home, backup, chat=["backup:kimi-k2"])
    gateway.set_fault("midstream_error", after=2, type="overloaded_error")
    client = await start_daemon(env_for(home, gateway))
    try:
        with pytest.raises(Exception, match=r"overloaded|error"):
            await chat(client, partialResultToken="t")
    finally:
        await stop_daemon(client)
    assert client.progress.get("t"), "text had reached the editor"
    assert backup.count("/v1/chat/completions") == 0


async def test_completion_falls_back_within_its_deadline(
    home: Path, gateway: Gateway, backup: Gateway
) -> None:
    config(home, backup, chat=[], completion=["backup:glm-4.6"])
    gateway.set_fault("rate_limit", retry_after=0)
    client = await start_daemon(env_for(home, gateway), init_options={"completion": {"timeout": 5}})
    try:
        result = await request(
            client,
            "ardaemon/complete",
            {"prefix": "def add(a, b):\n    ", "suffix": "", "model": "gpt-4o"},
        )
    finally:
        await stop_daemon(client)
    assert result["model"] == "glm-4.6" and result["fallbackFrom"] == "gpt-4o"
    assert result["items"], "the fallback's answer is post-processed like any other"
    assert backup.count("/v1/chat/completions") == 1


async def test_a_completion_near_its_deadline_does_not_fall_back(
    home: Path, gateway: Gateway, backup: Gateway
) -> None:
    config(home, backup, chat=[], completion=["backup:glm-4.6"])
    # The primary answers a fallback-worthy 503 after 78 % of the completion's 4 s: too
    # late for a backup to produce a suggestion. Its retry-after is past the longest wait
    # of a completion, so no retry either: the 503 itself is the answer.
    gateway.set_fault("slow", delay=3.1)
    gateway.set_fault("overloaded", headers={"retry-after": "30"})
    client = await start_daemon(env_for(home, gateway), init_options={"completion": {"timeout": 4}})
    try:
        with pytest.raises(JsonRpcException) as caught:
            await request(
                client, "ardaemon/complete", {"prefix": "x = ", "suffix": "", "model": "gpt-4o"}
            )
    finally:
        await stop_daemon(client)
    assert caught.value.data["kind"] == "overloaded", "the primary's own error, not a timeout"
    assert [r.json["model"] for r in gateway.requests if r.json] == ["gpt-4o"]
    assert backup.requests == [], "the backup model got no request"
