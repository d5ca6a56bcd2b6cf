"""One error per sentence messages.py has, rendered in a front end's words: what the
editors' tests compare their own text with (test_messages.py, and the VS Code drift
tests through editors/vscode/test/daemon.ts). Imports nothing but the daemon."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ardaemon import errors, messages


def _classes(cls: type[errors.ArdaemonError]) -> Iterator[type[errors.ArdaemonError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _classes(sub)


def samples(frontend: messages.Frontend) -> dict[str, tuple[str, str]]:
    """`kind` or `kind/reason` → (kind, the sentence), for every sentence in FACTS."""
    by_kind: dict[str, type[errors.ArdaemonError]] = {}
    for cls in _classes(errors.ArdaemonError):
        by_kind.setdefault(cls.kind, cls)  # the class that owns the kind, not a subclass
    out = {}
    for key in messages.FACTS:
        kind, _, reason = key.partition("/")
        error = by_kind[kind](
            reason=reason,
            status=403,
            role="chat",
            model="glm-4.6",
            near=["glm-4.6"],
            host="agentrouter.org",
            cause="refused",
            seconds=5,
            why="excluded",
            format="openai",
            content_type="text/html",
        )
        error.add_context(provider="AgentRouter", token_env="AGENTROUTER_API_KEY")
        out[key] = (kind, messages.render(error, frontend))
    return out


def clauses(frontend: messages.Frontend) -> set[str]:
    """Every clause of three words or more of the advice, lower case: a source file that
    holds one keeps a copy of the advice."""
    found = set()
    for _, message in samples(frontend).values():
        for clause in re.split(r'[.:;,()"?]|\bor\b', message):
            clause = clause.strip().lower()
            if len(clause.split()) >= 3 and "agentrouter" not in clause:
                found.add(clause)
    return found
