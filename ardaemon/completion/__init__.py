"""The pure core of inline completion: context around the cursor, prompt, answer clean-up.

No I/O and no editor types here (importing this package pulls in neither httpx nor pygls);
the engine that debounces, caches and calls upstream is `ardaemon.completion.engine`.
"""

from .context import CompletionContext, Snippet, build_context, decide_multiline
from .postprocess import postprocess
from .prompt import Prompt, build_prompt

__all__ = [
    "CompletionContext",
    "Prompt",
    "Snippet",
    "build_context",
    "build_prompt",
    "decide_multiline",
    "postprocess",
]
