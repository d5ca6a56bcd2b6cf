"""A seeded fuzzer over real stdio: every request answered once, never -32603, never deaf.

Run with `-s` to see the figures (messages sent, answered, errors by code, wall time).
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN
from stdio import framed, initialize, read_frame, send, spawn

pytestmark = pytest.mark.subprocess

SEED = 11
MESSAGES = 6000
DEADLINE = 60.0

METHODS = [
    "ardaemon/listModels",
    "ardaemon/selectModel",
    "ardaemon/complete",
    "ardaemon/chat",
    "textDocument/inlineCompletion",
    "textDocument/hover",
    "workspace/executeCommand",
    "ardaemon/nope",
    "$/cancelRequest",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "workspace/didChangeConfiguration",
    "initialize",  # a second one: -32600
]
URI = "file:///w/a.py"


def junk(rng: random.Random, depth: int = 0) -> Any:
    flat = [
        None,
        True,
        -1,
        2**70,
        1.5,
        "",
        "\ud800",
        "x" * rng.choice((1, 100, 5000)),
        "\U0001f600",
        [],
        {},
    ]
    pick = rng.randrange(len(flat) + (3 if depth < 3 else 0))
    if pick < len(flat):
        return flat[pick]
    inner = junk(rng, depth + 1)
    key = rng.choice(("model", "line", "uri", "text", "messages"))
    return [[inner], {"model": inner}, {key: inner}][pick - len(flat)]


def position(rng: random.Random) -> Any:
    if rng.random() < 0.7:
        return {"line": rng.choice((0, 1, 3, -1, 10**6)), "character": rng.choice((0, 2, -5))}
    return junk(rng)


def params_for(rng: random.Random, method: str) -> Any:
    if rng.random() < 0.25:
        return junk(rng)
    doc = {"uri": rng.choice((URI, "file:///w/other.py", "untitled:x", junk(rng)))}
    if method == "ardaemon/selectModel":
        return {"model": rng.choice(("glm-4.6", "nope", "m" * 20000, junk(rng)))}
    if method == "ardaemon/complete":
        if rng.random() < 0.5:
            return {"textDocument": doc, "position": position(rng)}
        return {"prefix": rng.choice(("def f(", junk(rng))), "maxTokens": junk(rng)}
    if method == "ardaemon/chat":
        return {"messages": rng.choice(([{"role": "user", "content": "hi"}], junk(rng)))}
    if method == "textDocument/inlineCompletion":
        context = rng.choice(({"triggerKind": rng.choice((0, 1, 2, 3))}, None, junk(rng)))
        params = {"textDocument": doc, "position": position(rng)}
        if context is not None:
            params["context"] = context
        return params
    if method == "$/cancelRequest":
        return {"id": rng.choice((1, "a", junk(rng)))}
    if method == "textDocument/didOpen":
        text = rng.choice(("def f():\n    return 1\n", "\ud800", "x\n" * 100))
        return {"textDocument": {**doc, "languageId": "python", "version": 1, "text": text}}
    if method == "textDocument/didChange":
        change = rng.choice(
            (
                {"text": "new\n"},
                {"range": {"start": position(rng), "end": position(rng)}, "text": "y"},
                junk(rng),
            )
        )
        return {"textDocument": {**doc, "version": 2}, "contentChanges": [change]}
    if method == "workspace/didChangeConfiguration":
        return {"settings": rng.choice(({"ardaemon": {"completion": junk(rng)}}, junk(rng)))}
    return {"textDocument": doc, "position": position(rng)}


def message(rng: random.Random, next_id: int) -> tuple[bytes, str | int | None, bool]:
    """(frame body, the id a reply must carry or None, whether a reply is due)."""
    roll = rng.random()
    if roll < 0.04:
        return rng.choice((b"{not json", b"", b"\xff\xfe", b"[" * 5000, b'{"a":')), None, True
    if roll < 0.08:
        return json.dumps(rng.choice(([1, 2], 5, "s", None, True))).encode(), None, True
    method = rng.choice(METHODS)
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if rng.random() < 0.9:
        msg["params"] = params_for(rng, method)
    is_notification = method.startswith(("textDocument/did", "workspace/didChange", "$/"))
    if roll < 0.14:
        msg["id"] = rng.choice(([1], {}, 1.5, True, None, "\ud800"))
        return json.dumps(msg).encode(), None, True
    if roll < 0.17:
        msg["jsonrpc"] = rng.choice(("1.0", None, 2))
        return json.dumps(msg).encode(), None, True
    if is_notification:
        return json.dumps(msg).encode(), None, False
    msg_id: str | int = next_id if rng.random() < 0.5 else f"r{next_id}"
    msg["id"] = msg_id
    return json.dumps(msg).encode(), msg_id, True


class Replies(threading.Thread):
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.messages: list[dict[str, Any]] = []

    def run(self) -> None:
        try:
            while True:
                self.messages.append(read_frame(self.proc.stdout))
        except (AssertionError, ValueError):
            return


def test_fuzzed_requests_are_each_answered_once(home: Path, gateway: Any) -> None:
    rng = random.Random(SEED)
    proc = spawn(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    stderr: list[bytes] = []
    threading.Thread(target=lambda: stderr.extend(proc.stderr or ()), daemon=True).start()
    try:
        assert initialize(proc)["result"]["serverInfo"]["name"] == "ardaemon"
        assert proc.stdin
        replies = Replies(proc)
        replies.start()
        expected_ids: list[str | int] = []
        null_replies = 0
        started = time.monotonic()
        opened = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": URI,
                        "languageId": "python",
                        "version": 1,
                        "text": "def f():\n    return 1\n",
                    }
                },
            }
        ).encode()
        proc.stdin.write(framed(opened))
        for n in range(MESSAGES):
            body, reply_id, due = message(rng, n + 10)
            proc.stdin.write(framed(body))
            if reply_id is not None:
                expected_ids.append(reply_id)
            elif due:
                null_replies += 1
        send(proc, {"id": "last", "method": "shutdown"})
        while time.monotonic() - started < DEADLINE:
            if any(m.get("id") == "last" for m in replies.messages[-5:]):
                break
            time.sleep(0.2)
        wall = time.monotonic() - started
        answers = [m for m in replies.messages if "id" in m and "method" not in m]
        codes = Counter(a["error"]["code"] if "error" in a else "result" for a in answers)
        print(
            f"\nfuzz: seed {SEED}, {MESSAGES} messages sent, {len(expected_ids)} requests with "
            f"a valid id and {null_replies} id-null answers due; {len(answers) - 1} answers "
            f"(shutdown not counted), by code {dict(codes)}; {wall:.1f} s"
        )
        by_id = Counter(a["id"] for a in answers if a["id"] is not None)
        missing = [i for i in expected_ids if by_id[i] == 0]
        assert not missing, f"{len(missing)} requests got no answer, e.g. {missing[:5]}"
        assert all(by_id[i] == 1 for i in expected_ids), "a request was answered twice"
        assert sum(1 for a in answers if a["id"] is None) == null_replies
        assert codes[-32603] == 0
        assert not any("traceback" in json.dumps(a.get("error", {})) for a in answers)
        big = [a for a in answers if "error" in a and len(json.dumps(a)) >= 2000]
        assert not big, f"an answer echoed the input: {json.dumps(big[:1])[:300]}"
        send(proc, {"method": "exit"})
        assert proc.wait(20) == 0, "alive and serving until the exit after shutdown"
        time.sleep(0.2)
        logs = list((home / "state").glob("ardaemon.log*"))
        assert logs and all(p.stat().st_size < 1_050_000 for p in logs), "rotation holds"
        assert b"Traceback" not in b"".join(stderr)
        assert len(stderr) < 20, b"".join(stderr)[-2000:]
    finally:
        proc.kill()
        proc.wait()
