"""What the benchmark scripts share: percentiles, the paired latency loop, the stand-in in
its own process, an editor's view of a document, and /proc readings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ardaemon.gateway import DEFAULT_TOKEN, isolated_env
from ardaemon.stdio_client import StdioClient

WARM_UP = 10
HEADERS = {"authorization": f"Bearer {DEFAULT_TOKEN}"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_seconds(pid: int) -> float:
    """CPU time of a process so far to the nanosecond, summed over its threads (the
    scheduler's run time), where `cpu_seconds` counts 10 ms ticks."""
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks) / 1e9
    except (OSError, ValueError):
        return cpu_seconds(pid)


class StandIn:
    """The gateway stand-in as its own process, so its work never shares a GIL (or a
    loop) with the client being measured; controlled over its /_gateway/ endpoints."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ardaemon.gateway", "--port", "0", *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.base_url = line.rsplit(" ", 1)[-1].strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError(f"the stand-in did not start: {line!r}")

    def control(self, action: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.base_url}/_gateway/{action}", json=body).raise_for_status()

    def daemon_env(self, home: str, **extra: str) -> dict[str, str]:
        return isolated_env(
            home, AGENTROUTER_API_KEY=DEFAULT_TOKEN, AGENTROUTER_BASE_URL=self.base_url, **extra
        )

    def __enter__(self) -> StandIn:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def direct_call(http: httpx.AsyncClient, prefix: str, model: str = "glm-4.6") -> None:
    """What the daemon saves a client from: one chat-completions call, JSON decoded."""
    body = {"model": model, "messages": [{"role": "user", "content": prefix}], "max_tokens": 128}
    (await http.post("/v1/chat/completions", json=body, headers=HEADERS)).json()


async def paired_latency(
    base_url: str, client: StdioClient, n: int, model: str = "glm-4.6"
) -> tuple[list[float], list[float], float]:
    """Seconds per call: a direct httpx call to the stand-in, then `ardaemon/complete` through
    the daemon, alternating so machine noise hits both alike. Distinct prefixes defeat the
    completion cache; the first WARM_UP pairs are left out. Also the CPU seconds this process
    spent in the direct calls (the httpx baseline for the daemon's CPU per completion)."""
    direct: list[float] = []
    via: list[float] = []
    cpu = 0.0
    async with httpx.AsyncClient(base_url=base_url) as http:
        for i in range(n + WARM_UP):
            prefix = f"def handler_{i}(request):\n    "
            c0, t0 = time.process_time(), time.perf_counter()
            await direct_call(http, prefix, model)
            t1, c1 = time.perf_counter(), time.process_time()
            await client.request("ardaemon/complete", {"prefix": prefix, "model": model})
            t2 = time.perf_counter()
            if i >= WARM_UP:
                direct.append(t1 - t0)
                via.append(t2 - t1)
                cpu += c1 - c0
    return direct, via, cpu


class Doc:
    """An editor's view of one open document."""

    def __init__(self, client: StdioClient, text: str, uri: str = "file:///bench/main.py") -> None:
        self.client, self.text, self.version, self.uri = client, text, 1, uri
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )

    def type(self, chars: str) -> None:
        """Type at the end of the document."""
        self.insert(self.position(), chars)
        self.text += chars

    def insert(self, here: dict[str, int], chars: str) -> None:
        """An incremental change at `here` (the local text is not updated: callers that
        insert mid-document only need the daemon's copy)."""
        self.version += 1
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": {"start": here, "end": here}, "text": chars}],
            },
        )

    def position(self) -> dict[str, int]:
        return {"line": self.text.count("\n"), "character": len(self.text.rsplit("\n", 1)[-1])}

    def inline_params(self, automatic: bool, at: dict[str, int] | None = None) -> dict[str, Any]:
        return {
            "textDocument": {"uri": self.uri},
            "position": at or self.position(),
            "context": {"triggerKind": 2 if automatic else 1},
        }
