"""The provider-neutral shapes every adapter speaks."""

from __future__ import annotations

from typing import Literal

import msgspec

from ..protocol import Usage

Purpose = Literal["chat", "completion"]


class Message(msgspec.Struct, frozen=True):
    role: Literal["system", "user", "assistant"]
    content: str


class FimInput(msgspec.Struct, frozen=True):
    """The text around the cursor for a native fill-in-the-middle endpoint."""

    prefix: str
    suffix: str
    #: (path, text) of other open files, for dialects that take them (llama.cpp).
    extra: tuple[tuple[str, str], ...] = ()


class LlmRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    messages: tuple[Message, ...]
    max_tokens: int
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False
    #: Completions want reasoning off and short timeouts; chat wants neither.
    purpose: Purpose = "chat"
    #: Ask an OpenAI-format stream for a final usage chunk (providers-table data).
    stream_usage: bool = True
    #: Set for a FIM route: prefix and suffix instead of `messages`.
    fim: FimInput | None = None


class TextDelta(msgspec.Struct, frozen=True):
    text: str


class Finish(msgspec.Struct, frozen=True):
    stop_reason: str


class UsageReport(msgspec.Struct, frozen=True):
    usage: Usage


StreamEvent = TextDelta | Finish | UsageReport


class LlmResult(msgspec.Struct, kw_only=True):
    text: str
    stop_reason: str
    usage: Usage | None = None
    #: The gateway's own figure for this call (LiteLLM's `x-litellm-response-cost`).
    cost: float | None = None


#: Tags some models wrap their reasoning in, inline in the answer (any case). The completion
#: clean-up (completion/wrapping.py) strips the same set.
THINK_TAGS = ("think", "thinking", "reasoning")


class ThinkFilter:
    """Drops a leading `<think>…</think>` (or another of THINK_TAGS) across chunk edges."""

    OPENS = tuple(f"<{tag}>" for tag in THINK_TAGS)

    def __init__(self) -> None:
        self._buffer = ""
        self._close = ""
        self._state: Literal["start", "inside", "after", "pass"] = "start"

    def feed(self, text: str) -> str:
        if self._state == "pass":
            return text
        self._buffer += text
        if self._state == "start":
            head = self._buffer.lstrip().lower()
            if any(len(head) < len(tag) and tag.startswith(head) for tag in self.OPENS):
                return ""
            opened = next((tag for tag in self.OPENS if head.startswith(tag)), None)
            if opened is None:
                self._state = "pass"
                out, self._buffer = self._buffer, ""
                return out
            self._close = "</" + opened[1:]
            self._state = "inside"
        if self._state == "inside":
            end = self._buffer.lower().find(self._close)
            if end < 0:
                return ""
            self._state, self._buffer = "after", self._buffer[end + len(self._close) :]
        # The blank lines between the reasoning and the answer, in however many chunks.
        rest, self._buffer = self._buffer.lstrip("\n"), ""
        if rest:
            self._state = "pass"
        return rest

    def flush(self) -> str:
        # An unfinished think block is reasoning, never text.
        out = self._buffer if self._state in ("start", "pass") else ""
        self._buffer = ""
        return out
