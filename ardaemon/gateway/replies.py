"""Deterministic "generation": reply rules, token counting, `max_tokens` and stop sequences."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Rule = tuple[str, str]

# Canned completions for the demo and the editor tests. Like real chat models asked for the code
# at the cursor, some answer inside a markdown fence: the daemon has to strip it.
DEFAULT_RULES: tuple[Rule, ...] = (
    (
        "def fibonacci(n):",
        "```python\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n```",
    ),
    (
        "def is_prime(n):",
        "```python\n    if n < 2:\n        return False\n"
        "    return all(n % d for d in range(2, int(n ** 0.5) + 1))\n```",
    ),
    ("function add(a, b) {", "  return a + b;\n}"),
    (
        "local function factorial(n)",
        "  if n <= 1 then\n    return 1\n  end\n  return n * factorial(n - 1)\nend",
    ),
)

REASONING_TEXT = "The user wants an answer. I will think it through step by step, then reply briefly and clearly."

Finish = Literal["stop", "length", "stop_sequence"]


@dataclass(frozen=True)
class Generation:
    reasoning: str
    text: str
    finish: Finish
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int


def count_tokens(text: str) -> int:
    """The stand-in's tokenizer: whitespace-separated words."""
    return len(text.split())


def pieces(text: str, words_per_piece: int = 2) -> list[str]:
    """Split into stream chunks of about two words; joined, they give back `text` exactly."""
    words = re.findall(r"^\s+|\S+\s*", text)
    if words and not words[0].strip() and len(words) > 1:
        words[1] = words[0] + words[1]
        del words[0]
    return ["".join(words[i : i + words_per_piece]) for i in range(0, len(words), words_per_piece)]


def truncate(text: str, limit: int) -> str:
    words = re.findall(r"^\s+|\S+\s*", text)
    kept: list[str] = []
    count = 0
    for w in words:
        if w.strip():
            if count == limit:
                break
            count += 1
        kept.append(w)
    return "".join(kept).rstrip()


def chat_reply(model: str, path: str, last_user: str) -> str:
    said = " ".join(last_user.split())[:60]
    return f"Hello from {model} via {path}, the ardaemon gateway stand-in. You said: {said}"


#: Sampled requests (temperature > 0) take turns among the other matching replies.
_draws = itertools.count()


def pick_reply(
    rules: Sequence[Rule],
    text: str,
    model: str,
    path: str,
    last_user: str,
    sampled: bool = False,
) -> str:
    """The first rule whose substring occurs: the most likely reply. Like a model sampled
    at a temperature above 0, a sampled request may answer with another matching reply
    (several rules with one substring), in turn, so several candidates can differ."""
    matches = [reply for needle, reply in rules if needle in text]
    if not matches:
        return chat_reply(model, path, last_user)
    if sampled and len(matches) > 1:
        return matches[1 + next(_draws) % (len(matches) - 1)]
    return matches[0]


def generate(
    rules: Sequence[Rule],
    *,
    model: str,
    path: str,
    prompt: str,
    last_user: str,
    limit: int | None,
    stops: Sequence[str],
    reasoning: bool,
    sampled: bool = False,
) -> Generation:
    """The reply as a model would produce it under a token budget (reasoning counts against it)."""
    reply = pick_reply(rules, prompt, model, path, last_user, sampled)
    thought = REASONING_TEXT if reasoning else ""
    finish: Finish = "stop"
    stop_sequence: str | None = None

    remaining = limit
    if limit is not None and count_tokens(thought) >= limit:
        thought, reply, finish, remaining = truncate(thought, limit), "", "length", 0
    elif limit is not None:
        remaining = limit - count_tokens(thought)

    if finish != "length":
        hits = [(reply.find(s), s) for s in stops if s and s in reply]
        if hits:
            index, stop_sequence = min(hits)
            reply = reply[:index]
        if remaining is not None and count_tokens(reply) > remaining:
            reply, finish, stop_sequence = truncate(reply, remaining), "length", None
        elif stop_sequence is not None:
            finish = "stop_sequence"

    reasoning_tokens = count_tokens(thought)
    return Generation(
        reasoning=thought,
        text=reply,
        finish=finish,
        stop_sequence=stop_sequence,
        input_tokens=max(1, count_tokens(prompt)),
        output_tokens=reasoning_tokens + count_tokens(reply),
        reasoning_tokens=reasoning_tokens,
    )
