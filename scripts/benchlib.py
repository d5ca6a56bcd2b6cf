"""What the benchmark scripts share: percentiles and the paired latency measurement."""

from __future__ import annotations

import time

import httpx

from ardaemon.gateway import DEFAULT_TOKEN, Gateway
from ardaemon.stdio_client import StdioClient

WARM_UP = 10


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def paired_latency(
    gw: Gateway, client: StdioClient, n: int, model: str = "glm-4.6"
) -> tuple[list[float], list[float]]:
    """Seconds per call: a direct httpx call to the stand-in, then `ardaemon/complete` through
    the daemon, alternating so machine noise hits both alike. Distinct prefixes defeat the
    completion cache; the first WARM_UP pairs are left out."""
    direct: list[float] = []
    via: list[float] = []
    headers = {"authorization": f"Bearer {DEFAULT_TOKEN}"}
    async with httpx.AsyncClient(base_url=gw.base_url) as http:
        for i in range(n + WARM_UP):
            prefix = f"def handler_{i}(request):\n    "
            body = {
                "model": model,
                "messages": [{"role": "user", "content": prefix}],
                "max_tokens": 128,
            }
            t0 = time.perf_counter()
            (await http.post("/v1/chat/completions", json=body, headers=headers)).json()
            t1 = time.perf_counter()
            await client.request("ardaemon/complete", {"prefix": prefix, "model": model})
            t2 = time.perf_counter()
            if i >= WARM_UP:
                direct.append(t1 - t0)
                via.append(t2 - t1)
    return direct, via
