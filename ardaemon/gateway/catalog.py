"""The model catalog the stand-in serves, and what each model family accepts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

# (id, created, owned_by) — ids as AgentRouter lists them; `created` values are fixed so the
# catalog is byte-for-byte stable between runs.
_DEFAULT_MODELS: tuple[tuple[str, int, str], ...] = (
    ("claude-sonnet-4-5-20250929", 1759104000, "anthropic"),
    ("claude-haiku-4-5-20251001", 1759276800, "anthropic"),
    ("claude-opus-4-1-20250805", 1754352000, "anthropic"),
    ("gpt-5", 1754524800, "openai"),
    ("gpt-4o-mini", 1721174400, "openai"),
    ("glm-4.6", 1759190400, "zhipu"),
    ("deepseek-v3.2", 1759276800, "deepseek"),
    ("deepseek-r1", 1737331200, "deepseek"),
    ("kimi-k2", 1752192000, "moonshot"),
)

_OPENAI_REASONING = re.compile(r"^(gpt-5|o1|o3|o4)")
_EMITS_REASONING = re.compile(r"(^|[-/])(r1|reasoner|thinking)($|[-:])")


def bare_id(model: str) -> str:
    """`anthropic/claude-x` → `claude-x`, lower-cased."""
    return model.rsplit("/", 1)[-1].lower()


def is_claude(model: str) -> bool:
    return bare_id(model).startswith("claude")


def rejects_sampling_params(model: str) -> bool:
    """OpenAI reasoning models: no `temperature`, and `max_completion_tokens` instead of `max_tokens`."""
    return bool(_OPENAI_REASONING.match(bare_id(model)))


def emits_reasoning(model: str, body: Mapping[str, Any]) -> bool:
    """Models that stream `reasoning_content` before the answer (DeepSeek R1 and the like).

    A request can turn it off the way those vendors allow: `thinking: {"type": "disabled"}` or a
    `reasoning_effort` of "none"/"minimal".
    """
    if not _EMITS_REASONING.search(bare_id(model)):
        return False
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "disabled":
        return False
    return body.get("reasoning_effort") not in ("none", "minimal")


def model_entry(model: str | Mapping[str, Any]) -> dict[str, Any]:
    """A `/v1/models` entry; a bare id gets realistic defaults for the other fields."""
    if isinstance(model, Mapping):
        entry = dict(model)
        if "id" not in entry:
            raise ValueError(f"model entry without an id: {entry!r}")
        base = model_entry(str(entry["id"]))
        base.update(entry)
        return base
    known = {mid: (created, owner) for mid, created, owner in _DEFAULT_MODELS}
    created, owner = known.get(model, (1735689600, "custom"))
    if model not in known and is_claude(model):
        owner = "anthropic"
    return {
        "id": model,
        "object": "model",
        "created": created,
        "owned_by": owner,
        "supported_endpoint_types": ["anthropic", "openai"] if is_claude(model) else ["openai"],
    }


def build_catalog(models: Iterable[str | Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if models is None:
        models = [mid for mid, _, _ in _DEFAULT_MODELS]
    return [model_entry(m) for m in models]


def pricing(input_per_million: float, output_per_million: float) -> dict[str, str]:
    """A `/v1/models` entry's `pricing` as OpenRouter serves it: US dollars per token as
    decimal strings ("0.0000025"), with the per-request and per-image prices beside them."""

    def per_token(per_million: float) -> str:
        return format(Decimal(str(per_million)) / 1_000_000, "f")

    return {
        "prompt": per_token(input_per_million),
        "completion": per_token(output_per_million),
        "request": "0",
        "image": "0",
    }


def with_prices(
    catalog: list[dict[str, Any]], prices: Mapping[str, tuple[float, float]]
) -> list[dict[str, Any]]:
    """The catalog with `pricing` on the priced models (added when missing), as new dicts."""
    out = [{**m, "pricing": pricing(*prices[m["id"]])} if m["id"] in prices else m for m in catalog]
    known = {m["id"] for m in catalog}
    out += [
        {**model_entry(mid), "pricing": pricing(*p)}
        for mid, p in prices.items()
        if mid not in known
    ]
    return out
