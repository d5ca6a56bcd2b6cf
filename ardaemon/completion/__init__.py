"""The pure core of inline completion: context around the cursor, prompt, answer clean-up.

No I/O and no editor types here (importing this package pulls in neither httpx nor pygls);
the engine that debounces, caches and calls upstream is `ardaemon.completion.engine`.
The names below load on first use (PEP 562): the daemon answers `initialize` without the
prompt and clean-up modules, which `Service.warm_up` loads right after.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import CompletionContext, Snippet, build_context, decide_multiline
    from .postprocess import postprocess
    from .prompt import Prompt, build_prompt

_HOMES = {
    "CompletionContext": "context",
    "Snippet": "context",
    "build_context": "context",
    "decide_multiline": "context",
    "postprocess": "postprocess",
    "Prompt": "prompt",
    "build_prompt": "prompt",
}

__all__ = [
    "CompletionContext",
    "Prompt",
    "Snippet",
    "build_context",
    "build_prompt",
    "decide_multiline",
    "postprocess",
]


class _Package(types.ModuleType):
    """Loading the submodule `postprocess` binds its name on this package; the package's
    `postprocess` stays the function, as when it was imported eagerly."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "postprocess" and isinstance(value, types.ModuleType):
            value = value.postprocess
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
