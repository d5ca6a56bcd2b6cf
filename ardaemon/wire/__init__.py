"""Wire formats: how one `LlmRequest` is spelled for an API and how its answer reads back.

Each format is one module that satisfies `Adapter` (mypy checks it against the Protocol
where it is registered, `upstream.ADAPTERS`). To add a format: write `wire/<name>.py` with
`build_body`, `parse_result` and `StreamParser`, add its endpoint to `router.PATHS` and one
line to `upstream.ADAPTERS`. `catalog.py` reads the `/v1/models` body, `faults.py` error
bodies. This package's own import is light (no adapter, no httpx): the adapters load with
`upstream`, after the editor's `initialize` is answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from .base import LlmRequest, LlmResult, Message, StreamEvent

__all__ = ["Adapter", "LlmRequest", "LlmResult", "Message", "Parser"]


class Parser(Protocol):
    """Turns one SSE event at a time into stream events; `done` once the format says so."""

    done: bool

    def feed(self, event: str, data: str) -> Iterator[StreamEvent]: ...


class Adapter(Protocol):
    def build_body(self, req: LlmRequest) -> dict[str, Any]: ...

    def parse_result(self, data: Any) -> LlmResult: ...

    def StreamParser(self) -> Parser: ...
