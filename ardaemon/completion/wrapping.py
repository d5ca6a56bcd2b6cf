"""Clean-up steps that take off what a chat model wraps around the code: line ends, reasoning,
`<completion>` tags, markdown fences, chat prose, and the prompt's own markers and scaffolding.
"""

from __future__ import annotations

import re

from ..wire.base import THINK_TAGS
from .context import MARKUP_LANGUAGES, CompletionContext
from .prompt import CLOSE_TAG, MARKERS, OPEN_TAG
from .text import after_prefix, lf


def normalize_newlines(text: str, ctx: CompletionContext) -> str:
    """One kind of line end; no byte-order mark or zero-width space unless the file has them."""
    text = lf(text)
    for invisible in ("\ufeff", "\u200b"):
        if invisible not in ctx.prefix and invisible not in ctx.suffix:
            text = text.replace(invisible, "")
    return text


_TAGS = "|".join(THINK_TAGS)

#: A reasoning block and the blank lines that separated it from the answer.
_THINK_BLOCK = re.compile(rf"<({_TAGS})>.*?</\1>[ \t]*\n*", re.DOTALL | re.IGNORECASE)


#: Reasoning that opens the answer, possibly right after the `<completion>` tag.
_THINK_OPEN = re.compile(rf"^\s*({OPEN_TAG}\s*)?<({_TAGS})>", re.IGNORECASE)


_THINK_CLOSE = re.compile(rf"</({_TAGS})>", re.IGNORECASE)


def strip_think(text: str, ctx: CompletionContext) -> str:
    cleaned = _THINK_BLOCK.sub("", text)
    if _THINK_OPEN.match(cleaned):
        return ""  # cut off while still reasoning
    # Templates that open the reasoning themselves (DeepSeek-R1 style) leave only the closing tag.
    closes = list(_THINK_CLOSE.finditer(cleaned))
    if closes:
        cleaned = cleaned[closes[-1].end() :]
    # The blank lines that separated reasoning from the answer are not part of it.
    return cleaned.lstrip("\n") if cleaned != text else text


def extract_tagged(text: str, ctx: CompletionContext) -> str:
    """The text inside `<completion>…</completion>`; either tag may be missing.

    The opening tag is missing when the assistant turn was prefilled with it, the closing one
    when it was the stop sequence. A line break right after the opening tag and one right before
    the end are pretty-printing when both are there (`<completion>\\n…\\n</completion>`).
    """
    folded = text.lower()  # `<COMPLETION>` too: models echo tags in the case they like
    start = folded.find(OPEN_TAG)
    end = folded.find(CLOSE_TAG, start + len(OPEN_TAG) if start >= 0 else 0)
    if start < 0 and end < 0:
        return text
    inner = text[start + len(OPEN_TAG) if start >= 0 else 0 : end if end >= 0 else len(text)]
    if start < 0 and not inner.strip():
        return ""
    body = inner.rstrip(" \t")
    if body.startswith("\n") and body.endswith("\n") and body.strip():
        body = body[1:-1]
    return body


_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n", re.MULTILINE)


def strip_fences(text: str, ctx: CompletionContext) -> str:
    """The content of the first fenced block; an unterminated fence runs to the end."""
    if ctx.language_id in ("markdown", "mdx") and not text.lstrip().startswith(("```", "~~~")):
        return text  # fences are content in markdown unless the whole answer is one block
    opening = _FENCE_OPEN.search(text)
    if opening is not None and not opening.group(2):
        before = text[: opening.start()]
        code = [ln for ln in before.split("\n") if ln.strip() and not _is_prose(ln)]
        if any(not ln.rstrip().endswith(":") for ln in code):  # not just a `Here:` label
            # Code, then a bare fence: the model's fence was opened before the answer started
            # (a prefill, an earlier turn); the code is the answer, what follows is commentary.
            return before.rstrip("\n")
    if opening is None:
        # A lone closing fence (the model opened it in an earlier turn or the prefill).
        return re.sub(r"\n?[ \t]*(`{3,}|~{3,})[ \t]*$", "", text)
    fence = opening.group(1)
    body = text[opening.end() :]
    closing = re.search(rf"^[ \t]*{re.escape(fence)}[ \t]*$", body, re.MULTILINE)
    if closing is not None:
        body = body[: closing.start()]
    return body[:-1] if body.endswith("\n") else body


_PREAMBLE = re.compile(
    r"""^\s*(
        (sure|certainly|of\ course|okay|ok|alright|absolutely|got\ it)\b[^\n]*
      | (here('s|\ is|\ are)|below\ is|this\ is|the\ (completed?|missing|inserted|full)?\s*
            (completion|code|line|answer|text|snippet)s?|completion|answer|output|result
            |i('ll|\ will|'ve|\ have)|let\ me|to\ (complete|fill|finish))\b[^\n]*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


_REFUSAL = re.compile(
    r"""^\s*(i('m|\ am)\ (sorry|unable|not\ able)|sorry\b|i\ can(not|'t|\ not)\b|as\ an\ ai\b
      |unable\ to\b|there\ is\ nothing|nothing\ (to|should\ be)\ (complete|add|insert)
      |no\ (completion|code)\ (is\ )?(needed|necessary|required)|the\ code\ (is|looks|seems)
        \ (already\ )?complete)""",
    re.IGNORECASE | re.VERBOSE,
)


_EXPLANATION = re.compile(
    r"^(this|these|the\ above|it|that|note|explanation|i|in\ this|here)\b[^\n]*[.:!]$",
    re.IGNORECASE | re.VERBOSE,
)


_INTERJECTION = re.compile(
    r"^\s*(sure|certainly|of course|okay|ok|alright|absolutely|got it)\s*[.!:]\s*$", re.IGNORECASE
)


#: A bare label line; capitalised, since `result:` in lower case is a YAML key.
_LABEL = re.compile(r"^\s*(Completion|Answer|Output|Result|Code|Insert(ed)?( text| code)?):\s*$")


_CODE_CHARS = re.compile(r"[=;{}()\[\]<>]")


def _is_prose(line: str) -> bool:
    """A sentence, not code: words and spaces, ending like a sentence; `code` spans allowed."""
    plain = re.sub(r"`[^`]*`", "x", line.strip())
    return " " in plain and plain[-1:] in ".:!" and not _CODE_CHARS.search(plain)


def _is_sentence(line: str) -> bool:
    """An English sentence for sure: capitalised, four words or more, no code characters (a
    comment starts with its marker, so it is never one)."""
    stripped = line.strip()
    return stripped[:1].isupper() and len(stripped.split()) >= 4 and _is_prose(stripped)


#: Languages whose text is prose: a sentence there is content, never chat.
_PROSE_LANGUAGES = frozenset(
    {
        "markdown",
        "mdx",
        "plaintext",
        "text",
        "latex",
        "tex",
        "restructuredtext",
        "asciidoc",
        "org",
        "git-commit",
        "gitcommit",
    }
)


def _cursor_in_prose(ctx: CompletionContext) -> bool:
    """In a prose document, a comment, a string or the text of a markup element."""
    if ctx.language_id in _PROSE_LANGUAGES:
        return True
    prefix = lf(ctx.prefix)
    if ctx.language_id in MARKUP_LANGUAGES:
        return prefix.rfind(">") > prefix.rfind("<")
    scanner = after_prefix(ctx)
    return scanner.string is not None or scanner.line_comment or scanner.block_comment


def strip_preamble(text: str, ctx: CompletionContext) -> str:
    """Chat around the code: a preamble line, a refusal, an explanation after the code.

    Where the cursor is in prose (Markdown, a comment, a string, an element's text) a sentence
    is the content asked for: only unmistakable chatter goes (`Sure!`, a `Completion:` label,
    a preamble line ending with a colon).
    """
    if _cursor_in_prose(ctx):
        lines = text.split("\n")
        dropped = 0
        while dropped < min(3, len(lines) - 1):
            line = lines[dropped].strip()
            chatter = bool(_PREAMBLE.match(line)) and line.endswith(":") and _is_prose(line)
            if line and not (chatter or _INTERJECTION.match(line) or _LABEL.match(line)):
                break
            dropped += 1
        return "\n".join(lines[dropped:]).lstrip("\n") if dropped else text
    if _REFUSAL.match(text) and all(_is_prose(ln) or not ln.strip() for ln in text.split("\n")):
        return ""
    lines = text.split("\n")
    dropped = 0
    while dropped < min(3, len(lines)):
        line = lines[dropped]
        chatter = bool(_PREAMBLE.match(line)) and bool(_is_prose(line) or _LABEL.match(line))
        intro = _is_sentence(line) and line.rstrip().endswith(":")  # "To do this, we …:"
        if line.strip() and not (chatter or intro or _INTERJECTION.match(line)):
            break
        dropped += 1
    if dropped and any(ln.strip() for ln in lines[:dropped]):
        lines = lines[dropped:]
        while lines and not lines[0].strip():
            lines.pop(0)
    # An explanation after the code: sentences to the end, the first one opening like one
    # ("This …", "Note: …"), after a blank line or right after a line of code.
    for i in range(1, len(lines)):
        first = lines[i].strip()
        starts = first and (_EXPLANATION.match(first) or _is_sentence(first))
        after_code = lines[i - 1].strip() and not _is_prose(lines[i - 1])
        if starts and (not lines[i - 1].strip() or after_code):
            rest = [ln for ln in lines[i:] if ln.strip()]
            if all(_is_prose(ln) for ln in rest):
                lines = lines[:i]
                break
    return "\n".join(lines).rstrip("\n") if len(lines) > 1 else "\n".join(lines)


#: End-of-text tokens some models spell out (`<|im_end|>`, `<|endoftext|>`, `</s>`, `<EOT>`):
#: the answer ends there.
_END_TOKEN = re.compile(r"<\|[A-Za-z_]+\|>|</s>|<EOT>|\[/CODE\]")


#: The prompt's own scaffolding written back around the answer.
_WRAPPER_OPEN = re.compile(r"^[ \t]*<(code|file|snippet)\b[^>\n]*>[ \t]*\n?")


#: A first line naming the file (`// Path: src/a.ts`, `File: a.py`, `--- a.py ---`), as the
#: prompts label files: never the code itself.
_PATH_LINE = re.compile(
    r"^[ \t]*(?:(?://|#|--|/\*)[ \t]*)?(?:(?:path|file|filename):[ \t]*[\w./\\-]+|-{3}[ \t]+[\w./\\-]+[ \t]+-{3})"
    r"[ \t]*(?:\*/)?[ \t]*\n",
    re.IGNORECASE,
)


_WRAPPER_CLOSE = re.compile(r"\n?[ \t]*</(code|file|snippet)>\s*$")


def strip_markers(text: str, ctx: CompletionContext) -> str:
    """Echoes of the prompt: the cursor marker, `<code>`/`<file>` wrappers, end tokens."""
    code = ctx.prefix + ctx.suffix
    end = next((m for m in _END_TOKEN.finditer(text) if m.group(0) not in code), None)
    if end is not None and end.group(0) != "<|fim_middle|>":
        text = text[: end.start()]
    if "<code" not in code and "<file" not in code and "<snippet" not in code:
        text = _WRAPPER_CLOSE.sub("", _WRAPPER_OPEN.sub("", text, count=1))
    text = _PATH_LINE.sub("", text, count=1)
    for marker in (m for m in (*MARKERS, "{{FILL_HERE}}", "<|fim_middle|>") if m not in code):
        if marker not in text:
            continue
        before, _, after = text.partition(marker)
        prefix_tail = ctx.prefix.rstrip()
        echoed = not before.strip() or prefix_tail.endswith(before.strip())
        text = after if echoed else before + after
        text = text.replace(marker, "")
    return text
