"""`ardaemon demo`: the daemon's main job, end to end, with no token and no network.

It starts the gateway stand-in on a free loopback port, spawns `ardaemon serve` as a child
over stdio exactly as an editor does, and prints what an editor would get back.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from typing import Any

from .cli.ui import Style
from .stdio_client import RpcError, StdioClient

#: The CLI's styling: colour only on a terminal, and never with NO_COLOR.
STYLE = Style(sys.stdout)


def _say(text: str = "") -> None:
    print(text, flush=True)


async def run() -> int:
    from .gateway import DEFAULT_TOKEN, Gateway

    with (
        Gateway(token=DEFAULT_TOKEN) as gw,
        tempfile.TemporaryDirectory(prefix="ardaemon-demo-") as home,
    ):
        gw.chunk_delay = 0.06  # so the streamed reply is visibly streamed
        # The demo's own dirs: it never touches your real cache, selection or token.
        env = gw.daemon_env(home)
        _say(STYLE.bold("ardaemon demo") + " — no token, no network needed")
        _say(f"gateway stand-in: {gw.base_url} (imitates AgentRouter's wire formats)")
        started = time.perf_counter()
        client = await StdioClient.spawn(env)
        deltas: list[str] = []

        def on_notification(method: str, params: Any) -> None:
            if method == "$/progress" and params.get("token") == "demo-chat":
                deltas.append(params["value"]["delta"])
                print(STYLE.green(params["value"]["delta"]), end="", flush=True)

        client.on_notification = on_notification
        init = await client.initialize()
        info = init["serverInfo"]
        ms = (time.perf_counter() - started) * 1000
        _say(
            f"spawned `ardaemon serve` over stdio: {info['name']} {info['version']}, ready in {ms:.0f} ms"
        )
        assert "inlineCompletionProvider" in init["capabilities"]

        _say("\n" + STYLE.bold("1. The catalog") + "  (ardaemon/listModels → GET /v1/models)")
        catalog = await client.request("ardaemon/listModels", {})
        for model in catalog["models"]:
            _say(f"   {model['id']:<30} {model['api']}")
        _say(STYLE.dim(f"   source: {catalog['source']}, cached on disk for next time"))

        _say(
            "\n"
            + STYLE.bold("2. Completions")
            + "  (ardaemon/complete: only what goes at the cursor)"
        )
        for model, prefix, suffix in (
            ("glm-4.6", "def fibonacci(n):\n", "\n\nprint(fibonacci(10))\n"),
            ("claude-haiku-4-5-20251001", "function add(a, b) {\n", ""),
        ):
            result = await client.request(
                "ardaemon/complete", {"prefix": prefix, "suffix": suffix, "model": model}
            )
            endpoint = gw.requests[-1].path
            _say(f"   {model}: api {result['api']} → POST {endpoint}")
            _say(STYLE.dim("   | ") + prefix.rstrip("\n"))
            insert = result["items"][0]["insertText"] if result["items"] else ""
            for line in insert.splitlines():
                _say(STYLE.dim("   | ") + STYLE.green(line))

        _say(
            "\n"
            + STYLE.bold("3. A streamed chat")
            + "  (ardaemon/chat with partialResultToken → $/progress)"
        )
        print("   ", end="", flush=True)
        reply = await client.request(
            "ardaemon/chat",
            {
                "model": "claude-sonnet-4-5-20250929",
                "messages": [{"role": "user", "content": "What does ardaemon do for my editor?"}],
                "partialResultToken": "demo-chat",
            },
        )
        _say()
        assert "".join(deltas) == reply["content"]
        usage = reply.get("usage") or {}
        _say(
            STYLE.dim(
                f"   {len(deltas)} chunks, joined = content; api {reply['api']}, "
                f"stop {reply['stopReason']}, tokens in/out {usage.get('inputTokens')}/{usage.get('outputTokens')}",
            )
        )

        _say(
            "\n"
            + STYLE.bold("4. When the gateway refuses this client")
            + "  (the error editors show)"
        )
        gw.set_fault("unauthorized_client", times=1)
        try:
            await client.request(
                "ardaemon/chat",
                {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}]},
            )
            _say(STYLE.red("   expected an error, got a reply"))
            return 1
        except RpcError as exc:
            _say(f"   error {exc.code}, kind {STYLE.red(exc.data.get('kind', '?'))}:")
            _say(f"   {exc.message}")

        code = await client.close()
        _say(
            f"\ndaemon shut down cleanly (exit {code}). Next: README.md → point it at the real gateway."
        )
        return 0 if code == 0 else 1


def main() -> int:
    return asyncio.run(run())
