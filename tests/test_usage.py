"""The usage ledger over real stdio and the real CLI: tokens as reported, cost, budget."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, request, start_daemon, stop_daemon
from lsprotocol import types

from ardaemon import usage

SECRET_PROMPT = "the-secret-prompt-text-7731"
ASK = [{"role": "user", "content": f"hello {SECRET_PROMPT}"}]


def ledger_lines(home: Path) -> list[dict[str, Any]]:
    path = home / "state" / "usage.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_config(home: Path, text: str) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(textwrap.dedent(text))


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ardaemon", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_ledger_records_reported_usage_of_both_formats(
    env: dict[str, str], home: Path, gateway: Any
) -> None:
    client = await start_daemon(env)
    try:
        streamed = await request(
            client,
            "ardaemon/chat",
            {"messages": ASK, "model": "gpt-4o", "partialResultToken": "t1"},
        )
        claude = await request(
            client, "ardaemon/chat", {"messages": ASK, "model": "claude-sonnet-4-5-20250929"}
        )
        summary = await request(client, "ardaemon/usage", {"by": "model"})
    finally:
        await stop_daemon(client)
    # The OpenAI stream asked for its usage chunk.
    sent = [r.json for r in gateway.requests if r.path == "/v1/chat/completions"]
    assert sent[-1]["stream_options"] == {"include_usage": True}
    lines = ledger_lines(home)
    assert [(x["model"], x["api"], x["purpose"]) for x in lines] == [
        ("gpt-4o", "openai", "chat"),
        ("claude-sonnet-4-5-20250929", "anthropic", "chat"),
    ]
    for line, result in zip(lines, (streamed, claude), strict=True):
        assert line["inputTokens"] == result["usage"]["inputTokens"] > 0
        assert line["outputTokens"] == result["usage"]["outputTokens"] > 0
        assert line["outcome"] == "ok" and line["latencyMs"] >= 0
    # Never the prompt, never the answer.
    raw = (home / "state" / "usage.jsonl").read_text()
    assert SECRET_PROMPT not in raw and streamed["content"][:20] not in raw
    assert summary["total"]["requests"] == 2
    assert summary["total"]["inputTokens"] == sum(x["inputTokens"] for x in lines)
    assert {g["key"] for g in summary["groups"]} == {
        "agent_router:gpt-4o",
        "agent_router:claude-sonnet-4-5-20250929",
    }
    assert summary["total"]["cost"] is None and summary["total"]["costUnknown"] == 2


async def test_no_usage_in_the_reply_is_unknown_never_guessed(home: Path, gateway: Any) -> None:
    # A provider that rejects `stream_options`: the stream then carries no usage.
    write_config(
        home,
        """
        provider = "plain"
        [providers.plain]
        base_url = "http://127.0.0.1:9"
        base_url_env = "AGENTROUTER_BASE_URL"
        token_env = "AGENTROUTER_API_KEY"
        api = "openai"
        stream_usage = false
        """,
    )
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env)
    try:
        await request(
            client, "ardaemon/chat", {"messages": ASK, "model": "gpt-4o", "partialResultToken": 1}
        )
        summary = await request(client, "ardaemon/usage", {})
    finally:
        await stop_daemon(client)
    assert "stream_options" not in gateway.requests[-1].json
    (line,) = ledger_lines(home)
    assert "inputTokens" not in line and "outputTokens" not in line
    assert summary["total"]["unknownUsage"] == 1
    assert summary["total"]["inputTokens"] == summary["total"]["outputTokens"] == 0


async def test_cost_from_header_or_prices_and_one_budget_warning(home: Path, gateway: Any) -> None:
    write_config(
        home,
        """
        [prices."gpt-4o"]
        input = 2.5
        output = 10.0
        [usage]
        daily_token_warning = 1
        """,
    )
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env)
    try:
        priced = await request(client, "ardaemon/chat", {"messages": ASK, "model": "gpt-4o"})
        gateway.set_reply_headers({"x-litellm-response-cost": "0.00042"})
        await request(client, "ardaemon/chat", {"messages": ASK, "model": "glm-4.6"})
        await request(client, "ardaemon/chat", {"messages": ASK, "model": "glm-4.6"})
        summary = await request(client, "ardaemon/usage", {"by": "model"})
        await asyncio.sleep(0.2)
    finally:
        await stop_daemon(client)
    first, second, _ = ledger_lines(home)
    expected = (priced["usage"]["inputTokens"] * 2.5 + priced["usage"]["outputTokens"] * 10.0) / 1e6
    assert first["costSource"] == "prices" and first["cost"] == pytest.approx(expected)
    assert second["costSource"] == "header" and second["cost"] == pytest.approx(0.00042)
    groups = {g["key"]: g for g in summary["groups"]}
    assert groups["agent_router:glm-4.6"]["cost"] == pytest.approx(0.00084)
    assert summary["dailyTokenWarning"] == 1 and summary["todayTokens"] > 1
    # Crossed on the first request; warned once, not per request.
    warnings = [m for m in client.messages if "dailyTokenWarning" in m.message]
    assert len(warnings) == 1 and warnings[0].type == types.MessageType.Warning
    budget = [s for s in client.statuses if s.get("kind") == "budget"]
    assert len(budget) == 1


async def test_cost_from_the_catalogs_pricing_unless_config_prices_it(
    home: Path, gateway: Any
) -> None:
    # The gateway's catalog prices both models, OpenRouter-style; config.toml prices one.
    gateway.set_prices({"gpt-4o": (2.5, 10.0), "glm-4.6": (0.6, 2.2)})
    write_config(
        home,
        """
        [prices."glm-4.6"]
        input = 1.0
        output = 1.0
        """,
    )
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env)
    try:
        await request(client, "ardaemon/listModels", {})
        by_catalog = await request(client, "ardaemon/chat", {"messages": ASK, "model": "gpt-4o"})
        by_config = await request(client, "ardaemon/chat", {"messages": ASK, "model": "glm-4.6"})
        unpriced = await request(client, "ardaemon/chat", {"messages": ASK, "model": "kimi-k2"})
    finally:
        await stop_daemon(client)
    first, second, third = ledger_lines(home)

    def cost(result: dict[str, Any], per_million: tuple[float, float]) -> float:
        tokens = (result["usage"]["inputTokens"], result["usage"]["outputTokens"])
        return (tokens[0] * per_million[0] + tokens[1] * per_million[1]) / 1e6

    assert first["costSource"] == "prices"
    assert first["cost"] == pytest.approx(cost(by_catalog, (2.5, 10.0)))
    assert second["cost"] == pytest.approx(cost(by_config, (1.0, 1.0)))
    assert unpriced["usage"]["inputTokens"] > 0 and "cost" not in third


async def test_failures_are_recorded_without_tokens(
    env: dict[str, str], home: Path, gateway: Any
) -> None:
    gateway.set_fault("bad_token", times=1)
    client = await start_daemon(env)
    try:
        with pytest.raises(Exception, match="rejected the token"):
            await request(client, "ardaemon/chat", {"messages": ASK, "model": "gpt-4o"})
        summary = await request(client, "ardaemon/usage", {"by": "purpose"})
        bad = None
        try:
            await request(client, "ardaemon/usage", {"since": "last tuesday"})
        except Exception as exc:
            bad = str(exc)
    finally:
        await stop_daemon(client)
    (line,) = ledger_lines(home)
    assert line["outcome"] == "auth" and "inputTokens" not in line
    assert summary["groups"] == [
        {
            "key": "chat",
            "requests": 1,
            "failed": 1,
            "inputTokens": 0,
            "outputTokens": 0,
            "unknownUsage": 0,
            "cost": None,
            "costUnknown": 0,
        }
    ]
    assert bad is not None and "last tuesday" in bad


def record(
    ts: float, tokens_in: int, tokens_out: int, *, model: str = "gpt-4o", purpose: str = "chat"
) -> usage.Record:
    """A successful request as the daemon records it."""
    return usage.Record(
        ts=ts,
        provider="agent_router",
        model=model,
        api="openai",
        purpose=purpose,
        outcome="ok",
        latency_ms=100,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
    )


def test_cli_usage_today_since_by_and_json(env: dict[str, str], home: Path) -> None:
    state = home / "state"
    ledger = usage.Ledger(state)
    now = time.time()
    for days, model, purpose, tin, tout in (
        (0, "gpt-4o", "chat", 100, 20),
        (0, "glm-4.6", "completion", 50, 5),
        (3, "gpt-4o", "completion", 1000, 200),
        (30, "gpt-4o", "chat", 7, 7),
    ):
        ledger.append(record(now - days * 86400, tin, tout, model=model, purpose=purpose))
    today = cli(env, "usage", "--json")
    assert today.returncode == 0, today.stderr
    data = json.loads(today.stdout)
    assert data["since"] == "today" and data["total"]["inputTokens"] == 150
    week = json.loads(cli(env, "usage", "--since", "7d", "--by", "purpose", "--json").stdout)
    groups = {g["key"]: g for g in week["groups"]}
    assert groups["completion"]["inputTokens"] == 1050 and groups["chat"]["inputTokens"] == 100
    by_day = json.loads(cli(env, "usage", "--since", "7d", "--by", "day", "--json").stdout)
    assert len(by_day["groups"]) == 2
    table = cli(env, "usage", "--since", "7d")
    assert table.returncode == 0
    assert "agent_router:gpt-4o" in table.stdout and "1,100" in table.stdout
    assert "unknown" in table.stdout  # no prices: cost unknown, not $0
    bad = cli(env, "usage", "--since", "yesterdayish")
    assert bad.returncode == 2 and "yesterdayish" in bad.stderr


# --- which days `--since` and `--by day` count -------------------------------------------

NOW = datetime(2026, 1, 14, 15, 30)
#: Central European time with its daylight-saving rule, as a POSIX TZ string (no tz
#: database needed); 2026's summer time starts on Sunday 29 March.
CET = "CET-1CEST,M3.5.0,M10.5.0/3"


@pytest.fixture
def local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is CET for the test (naive datetimes are local)."""
    monkeypatch.setenv("TZ", CET)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("since", "start"),
    [
        ("today", datetime(2026, 1, 14)),
        ("1d", datetime(2026, 1, 14)),
        ("7d", datetime(2026, 1, 8)),  # today and the six days before it
        ("30d", datetime(2025, 12, 16)),
        ("12h", datetime(2026, 1, 14, 3, 30)),
        ("2026-01-10", datetime(2026, 1, 10)),
    ],
)
def test_since_counts_today_and_the_days_before_it(since: str, start: datetime) -> None:
    assert usage.parse_since(since, NOW) == (start.timestamp(), since)


def test_since_counts_calendar_days_across_daylight_saving(local_time: None) -> None:
    # Summer time began two days ago: one of the seven days had 23 hours.
    start, _ = usage.parse_since("7d", datetime(2026, 3, 31, 10, 0))
    assert start == datetime(2026, 3, 24, 23, 0, tzinfo=timezone.utc).timestamp()


def test_by_day_splits_at_local_midnight(tmp_path: Path, local_time: None) -> None:
    ledger = usage.Ledger(tmp_path)
    moments = {
        "before the window": datetime(2026, 3, 24, 23, 59, 59),
        "first of the window": datetime(2026, 3, 25),
        "end of yesterday": datetime(2026, 3, 30, 23, 59, 59),
        "start of today": datetime(2026, 3, 31),
    }
    for n, moment in enumerate(moments.values(), start=1):
        ledger.append(record(moment.timestamp(), n, 0))
    now = datetime(2026, 3, 31, 10, 0)
    week = usage.summarize(tmp_path, "7d", "day", now=now)
    assert [(g.key, g.input_tokens) for g in week.groups] == [
        ("2026-03-25", 2),
        ("2026-03-30", 3),
        ("2026-03-31", 4),
    ]
    assert week.today_tokens == 4
    assert usage.summarize(tmp_path, "today", now=now).total.input_tokens == 4


# --- the ledger file itself ------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from ardaemon import usage
ledger = usage.Ledger(Path(sys.argv[1]), max_bytes=int(sys.argv[3]))
for i in range(int(sys.argv[2])):
    ledger.append(usage.Record(ts=time.time(), provider="p", model="m" * 40, api="openai",
                               purpose="chat", outcome="ok", latency_ms=1, input_tokens=1,
                               output_tokens=1))
"""


@pytest.mark.subprocess
def test_two_writers_rotating_lose_no_record(tmp_path: Path) -> None:
    """Two daemons append and rotate the same ledger: every record is whole and counted."""
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "400", "20000"])
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    files = usage.ledger_files(tmp_path)
    assert len(files) > 3, "the size limit rotated the file"
    records = list(usage.read_records(files))
    assert len(records) == 800
    assert usage.Ledger(tmp_path).tokens_today() == 1600


def test_torn_line_is_skipped_and_old_rotations_expire(tmp_path: Path) -> None:
    ledger = usage.Ledger(tmp_path, max_bytes=300, keep_days=1)
    record = usage.Record(
        ts=1.5e9, provider="p", model="m", api="openai", purpose="chat", outcome="ok", latency_ms=1
    )
    ledger.append(record)
    with ledger.path.open("ab") as fh:
        fh.write(b'{"ts": 17000000')  # a crash mid-write
    ledger.append(record)
    assert len(list(usage.read_records([ledger.path]))) == 2
    stale = tmp_path / "usage-20200101T000000-1-1.jsonl"
    stale.write_bytes(msgspec_line(record))
    import os

    os.utime(stale, (0, 0))
    for _ in range(5):
        ledger.append(record)
    assert not stale.exists(), "rotated files past keep_days are deleted"


def msgspec_line(record: usage.Record) -> bytes:
    import msgspec

    return msgspec.json.encode(record) + b"\n"
