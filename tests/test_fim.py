"""Native fill-in-the-middle over real stdio, one test per dialect, and the stand-in's framing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TOKEN, isolated_env, request, start_daemon, stop_daemon
from lsprotocol import types

from ardaemon.gateway import Gateway

PREFIX = "def add(a, b):\n    "
SUFFIX = "\n\nprint(add(1, 2))\n"
# The model repeats the text after the cursor: post-processing must still cut it.
REPLY = "return a + b\n\nprint(add(1, 2))"

DIALECTS = {
    # dialect: (fim_path or "", path the request must reach, model)
    "llamacpp": ("", "/infill", "qwen2.5-coder-7b"),
    "ollama": ("", "/api/generate", "qwen2.5-coder:1.5b"),
    "openai-completions": ("/beta/completions", "/beta/completions", "deepseek-chat"),
    "mistral": ("", "/v1/fim/completions", "codestral-latest"),
}


def configure(home: Path, gateway: Gateway, dialect: str, fim_path: str) -> dict[str, str]:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = f'fim_path = "{fim_path}"\n' if fim_path else ""
    path.write_text(
        textwrap.dedent(
            f"""
            provider = "coder"
            [completion]
            debounce_ms = 0
            [providers.coder]
            base_url = "{gateway.base_url}"
            token_env = "CODER_KEY"
            api = "openai"
            fim = "{dialect}"
            """
        )
        + extra
    )
    return isolated_env(home, CODER_KEY=TOKEN)


@pytest.mark.parametrize("dialect", list(DIALECTS))
async def test_completion_uses_the_fim_endpoint(home: Path, gateway: Gateway, dialect: str) -> None:
    fim_path, path, model = DIALECTS[dialect]
    gateway.set_replies([("def add(a, b):", REPLY)])
    client = await start_daemon(configure(home, gateway, dialect, fim_path))
    try:
        result = await request(
            client,
            "ardaemon/complete",
            {"prefix": PREFIX, "suffix": SUFFIX, "model": model, "languageId": "python"},
        )
        usage = await request(client, "ardaemon/usage", {})
    finally:
        await stop_daemon(client)
    (sent,) = [r for r in gateway.requests if r.path != "/v1/models"]
    assert sent.path == path
    body = sent.json
    if dialect == "llamacpp":
        assert (body["input_prefix"], body["input_suffix"]) == (PREFIX, SUFFIX)
        assert body["n_predict"] == 128 and body["stream"] is False
    elif dialect == "ollama":
        assert (body["prompt"], body["suffix"], body["model"]) == (PREFIX, SUFFIX, model)
        assert body["stream"] is False and body["options"]["num_predict"] == 128
        assert "raw" not in body
    else:
        assert (body["prompt"], body["suffix"], body["model"]) == (PREFIX, SUFFIX, model)
        assert body["max_tokens"] == 128
    assert "messages" not in body, "no chat prompt on a FIM endpoint"
    assert sent.headers.get("authorization") == f"Bearer {TOKEN}" or dialect == "ollama"
    # Post-processing still applies: the repeated suffix is cut.
    assert result["items"] == [{"insertText": "return a + b"}]
    assert result["model"] == model
    # Usage as the dialect reports it.
    assert usage["total"]["inputTokens"] > 0 and usage["total"]["outputTokens"] > 0
    ledger = (home / "state" / "usage.jsonl").read_text().splitlines()
    assert json.loads(ledger[-1])["api"] == dialect


async def test_models_without_fim_and_the_setting_keep_the_chat_prompt(
    home: Path, gateway: Gateway
) -> None:
    env = configure(home, gateway, "mistral", "")
    config = home / "config" / "config.toml"
    config.write_text(config.read_text() + 'fim_models = ["codestral*"]\n')
    client = await start_daemon(env)
    try:
        await request(
            client, "ardaemon/complete", {"prefix": PREFIX, "suffix": "", "model": "glm-4.6"}
        )
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"ardaemon": {"completion": {"fim": False}}}
            )
        )
        await request(
            client,
            "ardaemon/complete",
            {"prefix": PREFIX + "x", "suffix": "", "model": "codestral-latest"},
        )
    finally:
        await stop_daemon(client)
    paths = [r.path for r in gateway.requests if r.path != "/v1/models"]
    assert paths == ["/v1/chat/completions", "/v1/chat/completions"]


async def test_a_fim_error_is_the_dialects_own(home: Path, gateway: Gateway) -> None:
    env = configure(home, gateway, "mistral", "")
    env["CODER_KEY"] = "sk-wrong-key-123456"
    client = await start_daemon(env)
    try:
        with pytest.raises(Exception, match="rejected the token"):
            await request(
                client,
                "ardaemon/complete",
                {"prefix": PREFIX, "suffix": "", "model": "codestral-latest"},
            )
    finally:
        await stop_daemon(client)


# --- the stand-in speaks each format as its server does ---------------------------------------


def post(gateway: Gateway, path: str, body: Any, **headers: str) -> httpx.Response:
    auth = {"authorization": f"Bearer {TOKEN}", **headers}
    return httpx.post(gateway.base_url + path, json=body, headers=auth, timeout=10)


def test_standin_llamacpp_stream_has_no_done_and_ends_on_stop(gateway: Gateway) -> None:
    gateway.set_replies([("def", "return a + b")])
    body = {"input_prefix": "def f():\n    ", "input_suffix": "", "stream": True}
    r = post(gateway, "/infill", body)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(x[6:]) for x in r.text.split("\n\n") if x.startswith("data: ")]
    assert "[DONE]" not in r.text
    assert "".join(e["content"] for e in events) == "return a + b"
    assert events[-1]["stop"] is True and events[-1]["content"] == ""
    assert all(e["stop"] is False for e in events[:-1])
    missing = post(gateway, "/infill", {"input_suffix": ""})
    assert missing.status_code == 400
    assert missing.json()["error"]["type"] == "invalid_request_error"


def test_standin_ollama_streams_ndjson_unless_told_not_to(gateway: Gateway) -> None:
    gateway.set_replies([("def", "return a + b")])
    r = httpx.post(
        gateway.base_url + "/api/generate",
        json={"model": "codellama:code", "prompt": "def f():", "suffix": "x"},
        timeout=10,
    )
    assert r.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert "".join(x["response"] for x in lines) == "return a + b"
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop"
    assert isinstance(lines[-1]["eval_count"], int)
    bad = httpx.post(gateway.base_url + "/api/generate", json={"prompt": "x"}, timeout=10)
    assert bad.status_code == 400 and isinstance(bad.json()["error"], str)


@pytest.mark.parametrize("path", ["/beta/completions", "/v1/fim/completions"])
def test_standin_openai_style_fim_streams_end_with_done(gateway: Gateway, path: str) -> None:
    gateway.set_replies([("def", "return a + b")])
    r = post(gateway, path, {"model": "m", "prompt": "def f():", "suffix": "", "stream": True})
    chunks = r.text.split("\n\n")
    assert chunks[-2] == "data: [DONE]"
    events = [json.loads(c[6:]) for c in chunks if c.startswith("data: {")]
    if path == "/v1/fim/completions":
        text = "".join(e["choices"][0]["delta"]["content"] for e in events)
        assert events[0]["object"] == "chat.completion.chunk"
    else:
        text = "".join(e["choices"][0]["text"] for e in events)
        assert events[0]["object"] == "text_completion"
    assert text == "return a + b"
    assert "usage" in events[-1] and events[-1]["choices"][0]["finish_reason"] == "stop"
    if path == "/v1/fim/completions":
        invalid = post(gateway, path, {"model": "m"})
        assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == [
            "body",
            "prompt",
        ]
