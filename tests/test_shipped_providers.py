"""The SHIPPED entries of providers.toml over real stdio, with only the base URL changed to
the stand-in, as a user's config.toml (or the entry's base-URL variable) would: each test
breaks when its entry in providers.toml is broken (FIM dialect, path, model globs, default
models, token variable, per-model wire format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import TOKEN, Client, isolated_env, request, start_daemon, stop_daemon

from ardaemon.gateway import Gateway, RecordedRequest

PREFIX = "def add(a, b):\n    "
SUFFIX = "\n\nprint(add(1, 2))\n"
HI = [{"role": "user", "content": "hi"}]


def use_shipped(home: Path, provider: str, base_url: str | None = None) -> None:
    """A user's config.toml: the shipped provider, its base URL pointed at the stand-in."""
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    where = f'base_url = "{base_url}"\n' if base_url else ""
    path.write_text(f'provider = "{provider}"\n{where}[completion]\ndebounce_ms = 0\n')


async def start_shipped(home: Path, provider: str, base_url: str, **env: str) -> Client:
    use_shipped(home, provider, base_url)
    return await start_daemon(isolated_env(home, **env))


def sent(gateway: Gateway) -> list[RecordedRequest]:
    return [r for r in gateway.requests if r.path != "/v1/models"]


async def complete(client: Client, model: str | None = None) -> Any:
    params = {"prefix": PREFIX, "suffix": SUFFIX, "languageId": "python"}
    return await request(client, "ardaemon/complete", params | ({"model": model} if model else {}))


async def chat(client: Client, model: str | None = None) -> Any:
    params: dict[str, Any] = {"messages": HI}
    return await request(client, "ardaemon/chat", params | ({"model": model} if model else {}))


async def test_deepseek_fim_beta_for_its_fim_models_chat_for_the_others(
    home: Path, gateway: Gateway
) -> None:
    client = await start_shipped(home, "deepseek", gateway.base_url, DEEPSEEK_API_KEY=TOKEN)
    try:
        default = await complete(client)  # the shipped completion_model
        await complete(client, "deepseek-coder-v2")
        await complete(client, "deepseek-reasoner")  # not in fim_models
        await chat(client)
    finally:
        await stop_daemon(client)
    assert default["model"] == "deepseek-chat"
    assert [(r.path, r.json["model"]) for r in sent(gateway)] == [
        ("/beta/completions", "deepseek-chat"),
        ("/beta/completions", "deepseek-coder-v2"),
        ("/v1/chat/completions", "deepseek-reasoner"),
        ("/v1/chat/completions", "deepseek-chat"),
    ]
    fim = sent(gateway)[0]
    assert (fim.json["prompt"], fim.json["suffix"]) == (PREFIX, SUFFIX)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in sent(gateway))


async def test_ollama_generate_with_suffix_for_coder_models_only(
    home: Path, gateway: Gateway
) -> None:
    client = await start_shipped(home, "ollama", gateway.base_url, OLLAMA_API_KEY=TOKEN)
    try:
        default = await complete(client)
        await complete(client, "starcoder2:3b")
        await complete(client, "llama3.1:8b")  # no "insert" capability: the chat prompt
    finally:
        await stop_daemon(client)
    assert default["model"] == "qwen2.5-coder:1.5b" and default["items"]
    assert [(r.path, r.json["model"]) for r in sent(gateway)] == [
        ("/api/generate", "qwen2.5-coder:1.5b"),
        ("/api/generate", "starcoder2:3b"),
        ("/v1/chat/completions", "llama3.1:8b"),
    ]
    generate = sent(gateway)[0].json
    assert (generate["prompt"], generate["suffix"], generate["stream"]) == (PREFIX, SUFFIX, False)


async def test_codestral_fim_endpoint_and_chat(home: Path, gateway: Gateway) -> None:
    client = await start_shipped(home, "codestral", gateway.base_url, CODESTRAL_API_KEY=TOKEN)
    try:
        default = await complete(client)
        await complete(client, "mistral-small-latest")  # not a codestral model
        answer = await chat(client)
    finally:
        await stop_daemon(client)
    assert default["model"] == answer["model"] == "codestral-latest"
    assert [(r.path, r.json["model"]) for r in sent(gateway)] == [
        ("/v1/fim/completions", "codestral-latest"),
        ("/v1/chat/completions", "mistral-small-latest"),
        ("/v1/chat/completions", "codestral-latest"),
    ]
    assert sent(gateway)[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_llamacpp_infill_for_any_model(home: Path, gateway: Gateway) -> None:
    # llama-server started with --api-key: the shipped entry reads it from LLAMA_API_KEY.
    client = await start_shipped(home, "llamacpp", gateway.base_url, LLAMA_API_KEY=TOKEN)
    try:
        result = await complete(client, "qwen2.5-coder-7b-q8_0.gguf")
        await chat(client, "qwen2.5-coder-7b-q8_0.gguf")
    finally:
        await stop_daemon(client)
    infill, chatted = sent(gateway)
    assert infill.path == "/infill" and result["items"]
    assert (infill.json["input_prefix"], infill.json["input_suffix"]) == (PREFIX, SUFFIX)
    assert infill.headers["authorization"] == f"Bearer {TOKEN}"
    assert chatted.path == "/v1/chat/completions"


async def test_litellm_routes_per_model_and_its_cost_header_feeds_the_ledger(
    home: Path, gateway: Gateway
) -> None:
    # The team setup of the README: LITELLM_BASE_URL and a virtual key in LITELLM_API_KEY.
    use_shipped(home, "litellm")
    env = isolated_env(home, LITELLM_BASE_URL=gateway.base_url + "/v1/", LITELLM_API_KEY=TOKEN)
    gateway.set_reply_headers({"x-litellm-response-cost": "0.00042"})
    client = await start_daemon(env)
    try:
        listed = await request(client, "ardaemon/listModels", {})
        claude = await chat(client, "claude-sonnet-4-5-20250929")
        other = await chat(client, "gpt-5")
        completion = await complete(client, "claude-haiku-4-5-20251001")
    finally:
        await stop_daemon(client)
    assert "claude-sonnet-4-5-20250929" in {m["id"] for m in listed["models"]}
    assert (claude["api"], other["api"]) == ("anthropic", "openai")
    assert completion["items"]
    requests = sent(gateway)
    assert [(r.path, r.json["model"]) for r in requests] == [
        ("/v1/messages", "claude-sonnet-4-5-20250929"),
        ("/v1/chat/completions", "gpt-5"),
        ("/v1/messages", "claude-haiku-4-5-20251001"),
    ]
    # The virtual key in both headers the proxy reads on /v1/messages.
    assert requests[0].headers["x-api-key"] == TOKEN
    assert requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert requests[1].headers["authorization"] == f"Bearer {TOKEN}"
    ledger = (home / "state" / "usage.jsonl").read_text().splitlines()
    lines = [json.loads(line) for line in ledger]
    assert {line["provider"] for line in lines} == {"litellm"}
    assert [(x["costSource"], x["cost"]) for x in lines] == [("header", 0.00042)] * 3
