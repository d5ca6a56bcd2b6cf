"""Hole-filling prompts for chat models: the gateway offers no fill-in-the-middle endpoint.

The file is shown with a marker at the cursor and the model is asked for only the text that
replaces the marker, wrapped in `<completion>…</completion>`. The closing tag is the stop
sequence, so generation ends the moment the answer does, and anything a chatty model writes
before the opening tag is cut by `postprocess`.

The two wire formats get differently tuned prompts:
- Anthropic (Claude): every rule in the system prompt, the code and the other files in XML-ish
  tags (`<file>`, `<snippet>`); Claude follows those reliably without examples.
- OpenAI format (GLM, DeepSeek, Kimi, GPT): a short system prompt and one worked example
  (user/assistant) of the same mode, which steers these models off markdown and prose far better
  than more rules do.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .context import CompletionContext

__all__ = ["MARKERS", "Prompt", "build_prompt", "choose_marker"]

Api = Literal["openai", "anthropic"]

#: Cursor markers, in order of preference; the first one absent from the code is used.
MARKERS: tuple[str, ...] = ("<CURSOR>", "<FILL_HERE>", "<<<CURSOR_HERE>>>")
OPEN_TAG = "<completion>"
CLOSE_TAG = "</completion>"


class Prompt(msgspec.Struct, frozen=True):
    system: str
    #: (role, content) pairs: "user"/"assistant" alternating, first and last "user".
    messages: tuple[tuple[str, str], ...]
    #: At most 4 (the OpenAI limit).
    stop: tuple[str, ...]


def choose_marker(ctx: CompletionContext) -> str:
    """The first marker that appears nowhere in the code shown to the model."""
    texts = [ctx.prefix, ctx.suffix, *(s.text for s in ctx.snippets)]
    for marker in MARKERS:
        if not any(marker in text for text in texts):
            return marker
    return MARKERS[-1]


def _language_name(ctx: CompletionContext) -> str:
    return ctx.language_id or "unknown language"


def _mode_rule(ctx: CompletionContext, marker: str) -> str:
    if not ctx.multiline:
        return (
            f"Complete only the current line: write the text from {marker} to the end of that "
            "line, without a line break. The text after the cursor on that line stays as it is."
        )
    return (
        f"Write what belongs at {marker}: it may span several lines (for example the body of a "
        "block that was just opened), but stop at the end of the current block or where the "
        "code after the cursor takes over. If the cursor's line is unfinished, finish it and go "
        "on only with the block it opens. "
        "The first line continues the cursor's line; indent every following line exactly as it "
        "must appear in the file."
    )


# --- Anthropic --------------------------------------------------------------------------------


def _anthropic_system(marker: str, mode_rule: str) -> str:
    return (
        "You are an inline code completion engine inside a code editor. You see one file with "
        f"the cursor marked as {marker}, and possibly excerpts of other open files as reference.\n"
        f"Reply with exactly the text to insert at {marker}, inside {OPEN_TAG}{CLOSE_TAG} tags, "
        "and nothing else.\n"
        "Rules:\n"
        f"- Never repeat code that comes before or after {marker}; it is already in the file.\n"
        "- No markdown fences, no explanations, no comments about what you did.\n"
        "- Follow the file's language, naming, indentation and style.\n"
        f"- {mode_rule}\n"
        f"- If nothing sensible belongs there, reply {OPEN_TAG}{CLOSE_TAG}."
    )


def _anthropic_user(ctx: CompletionContext, marker: str) -> str:
    parts: list[str] = []
    if ctx.snippets:
        parts.append("<other_files>")
        parts.extend(f'<snippet path="{s.path}">\n{s.text}\n</snippet>' for s in ctx.snippets)
        parts.append("</other_files>")
    path = f' path="{ctx.path}"' if ctx.path else ""
    parts.append(f'<file{path} language="{_language_name(ctx)}">')
    parts.append(f"{ctx.prefix}{marker}{ctx.suffix}")
    parts.append("</file>")
    mode = "the rest of the current line" if not ctx.multiline else "one or more lines"
    parts.append(f"Fill in {marker} ({mode}). Answer with {OPEN_TAG}…{CLOSE_TAG} only.")
    return "\n".join(parts)


# --- OpenAI format ----------------------------------------------------------------------------


def _openai_system(marker: str) -> str:
    return (
        f"You are a code completion engine. Replace {marker} in the user's code with the missing "
        f"code. Answer with only that code inside {OPEN_TAG}{CLOSE_TAG}: no explanations, no "
        f"markdown, never repeat code that is before or after {marker}."
    )


def _openai_user(
    code: str, language: str, path: str | None, mode_rule: str, others: str = ""
) -> str:
    where = f"File: {path} ({language})" if path else f"Language: {language}"
    return f"{others}{where}\n<code>\n{code}\n</code>\n{mode_rule}"


def _example(marker: str, multiline: bool) -> tuple[str, str]:
    """One worked example in the mode of the request: the answer shape we want copied."""
    if not multiline:
        code = f"def area(width, height):\n    return {marker}\n\nprint(area(2, 3))"
        return _openai_user(
            code, "python", "geometry.py", _mode_rule_text(False, marker)
        ), f"{OPEN_TAG}width * height{CLOSE_TAG}"
    code = f"function sum(values) {{\n  {marker}\n}}\n\nconsole.log(sum([1, 2, 3]));"
    answer = "let total = 0;\n  for (const v of values) {\n    total += v;\n  }\n  return total;"
    return _openai_user(
        code, "javascript", "sum.js", _mode_rule_text(True, marker)
    ), f"{OPEN_TAG}{answer}{CLOSE_TAG}"


def _mode_rule_text(multiline: bool, marker: str) -> str:
    if not multiline:
        return f"Complete only the current line at {marker}, without a line break."
    return (
        f"Fill in {marker}, one or more lines; indent the lines after the first as in the file, "
        "and stop at the end of the current block or where the code after the cursor takes "
        "over (an unfinished line: finish it, then only the block it opens)."
    )


def _openai_others(ctx: CompletionContext) -> str:
    if not ctx.snippets:
        return ""
    blocks = "\n".join(f"--- {s.path} ---\n{s.text}" for s in ctx.snippets)
    return f"Other open files, for reference only:\n{blocks}\n\n"


def build_prompt(ctx: CompletionContext, api: Api) -> Prompt:
    """The chat request that asks `api`-format models for the text at the cursor."""
    marker = choose_marker(ctx)
    stop = (CLOSE_TAG,)
    if api == "anthropic":
        return Prompt(
            system=_anthropic_system(marker, _mode_rule(ctx, marker)),
            messages=(("user", _anthropic_user(ctx, marker)),),
            stop=stop,
        )
    example_user, example_answer = _example(marker, ctx.multiline)
    user = _openai_user(
        f"{ctx.prefix}{marker}{ctx.suffix}",
        _language_name(ctx),
        ctx.path,
        _mode_rule_text(ctx.multiline, marker),
        _openai_others(ctx),
    )
    return Prompt(
        system=_openai_system(marker),
        messages=(("user", example_user), ("assistant", example_answer), ("user", user)),
        stop=stop,
    )
