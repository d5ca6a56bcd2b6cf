"""A minimal JSON-RPC client that spawns `ardaemon serve` the way an editor does.

Used by `ardaemon demo` and the benchmarks; editors use their own LSP clients.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.code: int = error.get("code", 0)
        self.message: str = error.get("message", "")
        self.data: dict[str, Any] = error.get("data") or {}


class StdioClient:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.on_notification: Callable[[str, Any], None] = lambda method, params: None
        self._reader = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def spawn(
        cls, env: Mapping[str, str] | None = None, argv: list[str] | None = None
    ) -> StdioClient:
        proc = await asyncio.create_subprocess_exec(
            *(argv or [sys.executable, "-m", "ardaemon", "serve"]),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
        )
        return cls(proc)

    async def initialize(self, options: Any = None, *, initialized: bool = True) -> dict[str, Any]:
        """`initialize`, then `initialized` unless the caller sends it (to look first)."""
        result: dict[str, Any] = await self.request(
            "initialize",
            {"processId": os.getpid(), "capabilities": {}, "initializationOptions": options},
        )
        if initialized:
            self.notify("initialized", {})
        return result

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def start(self, method: str, params: Any) -> tuple[int, asyncio.Future[Any]]:
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id, future

    async def request(self, method: str, params: Any) -> Any:
        _, future = self.start(method, params)
        return await future

    def cancel(self, msg_id: int) -> None:
        self.notify("$/cancelRequest", {"id": msg_id})

    async def _read_loop(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        while True:
            length = 0
            while True:
                line = await stdout.readline()
                if not line:
                    for future in self._pending.values():
                        if not future.done():
                            future.set_exception(ConnectionError("the daemon exited"))
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(await stdout.readexactly(length))
            if "method" in message and "id" not in message:
                self.on_notification(message["method"], message.get("params"))
            elif "method" in message:
                # Server → client requests (workspace/configuration…): answer with nothing.
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif message.get("id") in self._pending:
                future = self._pending.pop(message["id"])
                if future.done():
                    continue
                if "error" in message:
                    future.set_exception(RpcError(message["error"]))
                else:
                    future.set_result(message.get("result"))

    async def close(self) -> int:
        try:
            await asyncio.wait_for(self.request("shutdown", None), 5)
            self.notify("exit", None)
            return await asyncio.wait_for(self.proc.wait(), 5)
        except (asyncio.TimeoutError, ConnectionError):
            self.proc.kill()
            return await self.proc.wait()
        finally:
            self._reader.cancel()
