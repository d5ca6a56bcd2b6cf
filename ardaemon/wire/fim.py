"""Native fill-in-the-middle: the third wire format, in four dialects.

A FIM endpoint takes the text before and after the cursor and returns what goes between,
with no prompt wording and no chat turns: cheaper and better for code models trained on
it. Which providers and models have one is providers-table data (`fim`, `fim_path`,
`fim_models`); the dialects differ only in field names and where the text comes back:

| dialect              | path                 | prefix / suffix              | text in                      |
| -------------------- | -------------------- | ---------------------------- | ---------------------------- |
| `llamacpp`           | `/infill`            | `input_prefix`/`input_suffix`| `content`                    |
| `ollama`             | `/api/generate`      | `prompt`/`suffix`            | `response`                   |
| `openai-completions` | `/v1/completions`    | `prompt`/`suffix`            | `choices[0].text`            |
| `mistral`            | `/v1/fim/completions`| `prompt`/`suffix`            | `choices[0].message.content` |

(DeepSeek is `openai-completions` at `/beta/completions`.) Completions are asked for
without streaming, so the stream grammars (SSE without `[DONE]` for llama.cpp, NDJSON for
Ollama) are spoken by the gateway stand-in but not needed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from .. import errors
from ..protocol import Usage
from .base import LlmRequest, LlmResult, StreamEvent
from .faults import raise_error_in

Dialect = Literal["llamacpp", "ollama", "openai-completions", "mistral"]


# The OpenAI vocabulary's stop reasons, told in the Anthropic one (docs/protocol.md).
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "model_length": "max_tokens"}


class Adapter:
    """The adapter interface (`build_body`, `parse_result`, `StreamParser`) for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def build_body(self, req: LlmRequest) -> dict[str, Any]:
        fim = req.fim
        if fim is None:
            raise ValueError("a FIM route needs a request with `fim` (prefix and suffix)")
        stop = list(req.stop)
        temperature = req.temperature if req.temperature is not None else 0.0
        if self.dialect == "llamacpp":
            body: dict[str, Any] = {
                "input_prefix": fim.prefix,
                "input_suffix": fim.suffix,
                "n_predict": req.max_tokens,
                "temperature": temperature,
                "stream": False,
                "cache_prompt": True,
            }
            if fim.extra:
                # Other open files, placed before the FIM prefix by the server's template.
                body["input_extra"] = [{"filename": p, "text": t} for p, t in fim.extra]
            if stop:
                body["stop"] = stop
            return body
        if self.dialect == "ollama":
            options: dict[str, Any] = {"num_predict": req.max_tokens, "temperature": temperature}
            if stop:
                options["stop"] = stop
            # `raw` stays off: Ollama renders `suffix` through the model's own FIM template.
            return {
                "model": req.model,
                "prompt": fim.prefix,
                "suffix": fim.suffix,
                "stream": False,
                "options": options,
            }
        body = {
            "model": req.model,
            "prompt": fim.prefix,
            "suffix": fim.suffix,
            "max_tokens": req.max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        if stop:
            body["stop"] = stop[:4]
        return body

    def parse_result(self, data: Any) -> LlmResult:
        raise_error_in(data)
        try:
            if self.dialect == "llamacpp":
                return LlmResult(
                    text=str(data["content"]),
                    stop_reason="max_tokens" if data.get("stop_type") == "limit" else "end_turn",
                    usage=_counts(data.get("tokens_evaluated"), data.get("tokens_predicted")),
                )
            if self.dialect == "ollama":
                return LlmResult(
                    text=str(data["response"]),
                    stop_reason=_STOP_REASONS.get(data.get("done_reason") or "stop", "end_turn"),
                    usage=_counts(data.get("prompt_eval_count"), data.get("eval_count")),
                )
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.dialect == "mistral" else choice["text"]
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            reason = choice.get("finish_reason") or "stop"
            return LlmResult(
                text=str(text or ""),
                stop_reason=_STOP_REASONS.get(reason, reason),
                usage=_counts(usage.get("prompt_tokens"), usage.get("completion_tokens")),
            )
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self._bad() from None

    def _bad(self) -> errors.BadResponse:
        return errors.BadResponse(reason="unreadable", format=f"{self.dialect} fill-in-the-middle")

    def StreamParser(self) -> _NoStream:  # the adapter interface
        return _NoStream(self._bad())


class _NoStream:
    """Completions are never streamed; a stream here is answered as unreadable."""

    done = True

    def __init__(self, bad: errors.BadResponse) -> None:
        self._bad = bad

    def feed(self, event: str, data: str) -> Iterator[StreamEvent]:
        raise self._bad


def _counts(tokens_in: Any, tokens_out: Any) -> Usage | None:
    """Usage when the server reported it; missing counts are unknown, never zero."""
    if not isinstance(tokens_in, int) and not isinstance(tokens_out, int):
        return None
    return Usage(
        tokens_in if isinstance(tokens_in, int) else 0,
        tokens_out if isinstance(tokens_out, int) else 0,
    )
