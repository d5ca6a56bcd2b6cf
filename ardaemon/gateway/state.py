"""Everything the test thread and the server thread share, behind one lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalog import build_catalog, with_prices
from .replies import DEFAULT_RULES, Rule

# Faults answered before the token is looked at (a firewall or the network), the rest after it.
PRE_AUTH_FAULTS = frozenset({"unauthorized_client", "bad_token", "drop", "hang"})
POST_AUTH_FAULTS = frozenset(
    {"rate_limit", "server_error", "overloaded", "model_not_found", "midstream_error"}
)
# `slow` changes the timing of whatever answer is given, so it combines with the others.
MODIFIER_FAULTS = frozenset({"slow"})
FAULT_NAMES = PRE_AUTH_FAULTS | POST_AUTH_FAULTS | MODIFIER_FAULTS


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    started_at: float
    finished_at: float | None = None
    disconnected: bool = False
    status: int | None = None
    query: str = ""
    body: bytes = b""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "json": self.json,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "disconnected": self.disconnected,
            "status": self.status,
        }


@dataclass
class Fault:
    name: str
    times: int | None = None
    paths: tuple[str, ...] | None = None
    opts: dict[str, Any] = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        return self.paths is None or any(path.startswith(p) for p in self.paths)


def make_fault(
    name: str, times: int | None, paths: Iterable[str] | str | None, opts: Mapping[str, Any]
) -> Fault:
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULT_NAMES))}")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ValueError(f"times must be a positive integer or None, not {times!r}")
    if isinstance(paths, str):
        paths = [paths]
    return Fault(name, times, tuple(paths) if paths is not None else None, dict(opts))


class State:
    def __init__(
        self,
        tokens: Sequence[str] | None,
        models: Iterable[str | Mapping[str, Any]] | None,
        latency: float,
        chunk_delay: float,
    ) -> None:
        self.cond = threading.Condition()
        self.tokens = frozenset(tokens) if tokens is not None else None
        self._defaults = (build_catalog(models), latency, chunk_delay)
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.rules: list[Rule] = list(DEFAULT_RULES)
        self.models, self.latency, self.chunk_delay = self._defaults[0], latency, chunk_delay
        self.connections = 0
        self._disconnects_seen = 0
        #: Added to every successful model reply (a LiteLLM proxy's `x-litellm-*` headers).
        self.reply_headers: list[tuple[str, str]] = []

    # Called from the server thread ---------------------------------------------------------

    def token_ok(self, token: str | None) -> bool:
        if not token:
            return False
        return self.tokens is None or token in self.tokens

    def record(self, request: RecordedRequest) -> None:
        with self.cond:
            self.requests.append(request)

    def finish(
        self, request: RecordedRequest, *, status: int | None = None, disconnected: bool = False
    ) -> None:
        with self.cond:
            if request.finished_at is None:
                request.finished_at = time.time()
            if status is not None:
                request.status = status
            if disconnected:
                request.disconnected = True
            self.cond.notify_all()

    def note_connection(self) -> None:
        with self.cond:
            self.connections += 1

    def take_faults(self, path: str, authorized: bool) -> tuple[list[Fault], Fault | None]:
        """The timing modifiers and the one answering fault for this request; uses up `times`."""
        with self.cond:
            modifiers = [f for f in self.faults if f.name in MODIFIER_FAULTS and f.matches(path)]
            answer = next(
                (
                    f
                    for f in self.faults
                    if f.name not in MODIFIER_FAULTS
                    and f.matches(path)
                    and (authorized or f.name in PRE_AUTH_FAULTS)
                ),
                None,
            )
            for f in [*modifiers, answer]:
                if f is not None and f.times is not None:
                    f.times -= 1
                    if f.times == 0:
                        self.faults.remove(f)
            return modifiers, answer

    def snapshot(self) -> tuple[list[Rule], list[dict[str, Any]], float, float]:
        with self.cond:
            return list(self.rules), list(self.models), self.latency, self.chunk_delay

    # Called from the test thread (or a control request) ------------------------------------

    def set_fault(self, fault: Fault) -> None:
        with self.cond:
            self.faults = [f for f in self.faults if f.name != fault.name]
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.cond:
            self.faults.clear()

    def set_rules(self, rules: Iterable[Sequence[str]], *, prepend: bool = False) -> None:
        new = [_rule(r) for r in rules]
        with self.cond:
            self.rules = [*new, *self.rules] if prepend else new

    def set_models(self, models: Iterable[str | Mapping[str, Any]] | None) -> None:
        catalog = build_catalog(models)
        with self.cond:
            self.models = catalog

    def set_prices(self, prices: Mapping[str, tuple[float, float]]) -> None:
        with self.cond:
            self.models = with_prices(self.models, prices)

    def reset(self) -> None:
        with self.cond:
            self.requests.clear()
            self.faults.clear()
            self.rules = list(DEFAULT_RULES)
            self.models, self.latency, self.chunk_delay = self._defaults
            self.models = list(self.models)
            self.connections = 0
            self._disconnects_seen = 0
            self.reply_headers = []

    def list_requests(self) -> list[RecordedRequest]:
        with self.cond:
            return list(self.requests)

    def poll_disconnect(self) -> RecordedRequest | None:
        """The oldest disconnected request not yet handed out by a wait."""
        with self.cond:
            gone = [r for r in self.requests if r.disconnected]
            if len(gone) > self._disconnects_seen:
                self._disconnects_seen += 1
                return gone[self._disconnects_seen - 1]
            return None

    def wait_disconnect(self, timeout: float) -> RecordedRequest | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = self.poll_disconnect()
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                self.cond.wait(remaining)


def _rule(rule: Sequence[str]) -> Rule:
    if len(rule) != 2 or not all(isinstance(x, str) for x in rule):
        raise ValueError(f"a reply rule is [substring, reply_text], not {rule!r}")
    return (rule[0], rule[1])
