"""Chat requests: the model, one request through the fallback chain (`dispatch.py`),
streamed as deltas when the editor asked for them; a failure or a fallback that answered
is told on the status line (`status.py`)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from . import errors
from .config import SettingsStore
from .dispatch import Dispatch
from .protocol import ChatParams, ChatResult
from .selection import ModelChoice
from .status import Activity
from .wire import LlmRequest, Message


class Chats:
    def __init__(
        self, store: SettingsStore, models: ModelChoice, dispatch: Dispatch, activity: Activity
    ) -> None:
        self._store = store
        self._models = models
        self._dispatch = dispatch
        self._activity = activity

    async def chat(
        self, params: ChatParams, on_delta: Callable[[str], None] | None = None
    ) -> ChatResult:
        if not params.messages:
            raise errors.InvalidParams("`messages` must not be empty.")
        if params.max_tokens is not None and params.max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        model = self._models.require("chat", params.model)
        settings = self._store.settings
        req = LlmRequest(
            model=model,
            messages=tuple(Message(m.role, m.content) for m in params.messages),
            max_tokens=params.max_tokens or settings.chat.max_tokens,
            temperature=params.temperature,
            stream=on_delta is not None,
            purpose="chat",
        )
        with self._activity.reporting(model):
            answer = await self._dispatch.run(
                model,
                lambda to: msgspec.structs.replace(req, model=to.model),
                purpose="chat",
                settings=settings,
                on_delta=on_delta,
            )
        if answer.fallback_from:
            self._activity.fell_back(answer)
        return ChatResult(
            content=answer.result.text,
            model=answer.route.model,
            api=answer.route.api,
            stop_reason=answer.result.stop_reason,
            usage=answer.result.usage,
            fallback_from=answer.fallback_from,
        )
