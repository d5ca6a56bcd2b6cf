"""The stand-in's deterministic generation: chunking, token budgets, stop sequences."""

from __future__ import annotations

import pytest

from ardaemon.gateway.catalog import emits_reasoning, model_entry, rejects_sampling_params
from ardaemon.gateway.replies import DEFAULT_RULES, Generation, generate, pieces, truncate

CODE = "```python\n    if n < 2:\n        return n\n```"


@pytest.mark.parametrize("text", ["", "one", "  lead and trail  ", CODE, "a\n\n  b c d e f g"])
def test_pieces_rejoin_exactly(text: str) -> None:
    parts = pieces(text)
    assert "".join(parts) == text
    assert all(len(p.split()) <= 2 for p in parts)


def test_truncate_counts_words() -> None:
    assert truncate("Hello from the  stand-in", 2) == "Hello from"
    assert truncate(CODE, 3) == "```python\n    if n"
    assert truncate("short", 10) == "short"


def run(
    limit: int | None = None, stops: tuple[str, ...] = (), reasoning: bool = False
) -> Generation:
    return generate(
        DEFAULT_RULES,
        model="m",
        path="/p",
        prompt="say hi",
        last_user="say hi",
        limit=limit,
        stops=stops,
        reasoning=reasoning,
    )


def test_generation_finish_reasons() -> None:
    full = run()
    assert full.text == "Hello from m via /p, the ardaemon gateway stand-in. You said: say hi"
    assert full.finish == "stop" and full.output_tokens == 13
    cut = run(limit=4)
    assert (cut.text, cut.finish) == ("Hello from m via", "length")
    stopped = run(stops=("XX", " via"))
    assert (stopped.text, stopped.finish, stopped.stop_sequence) == (
        "Hello from m",
        "stop_sequence",
        " via",
    )
    thought = run(reasoning=True, limit=20)
    assert thought.reasoning and thought.finish == "length"
    assert thought.output_tokens == 20


def test_model_families() -> None:
    assert rejects_sampling_params("gpt-5") and rejects_sampling_params("openai/o3-mini")
    assert not rejects_sampling_params("gpt-4o-mini")
    assert emits_reasoning("deepseek-r1", {}) and emits_reasoning("deepseek-reasoner", {})
    assert not emits_reasoning("deepseek-r1", {"thinking": {"type": "disabled"}})
    assert not emits_reasoning("deepseek-v3.2", {}) and not emits_reasoning("glm-4.6", {})
    assert model_entry("anthropic/claude-3")["supported_endpoint_types"] == ["anthropic", "openai"]
