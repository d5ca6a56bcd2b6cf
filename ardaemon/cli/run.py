"""`chat` and `complete`: the daemon's two engines, from a terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..protocol import ChatMessage, ChatParams, ChatResult, CompleteResult, encode
from ..service import Service
from . import ui
from .common import Failure, UsageError, check_model, make_service, run

LANGUAGES = {
    ".c": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cs": "csharp",
    ".css": "css",
    ".go": "go",
    ".h": "c",
    ".hpp": "cpp",
    ".html": "html",
    ".java": "java",
    ".js": "javascript",
    ".json": "json",
    ".jsx": "javascriptreact",
    ".kt": "kotlin",
    ".lua": "lua",
    ".md": "markdown",
    ".php": "php",
    ".py": "python",
    ".rb": "ruby",
    ".rs": "rust",
    ".sh": "shellscript",
    ".sql": "sql",
    ".swift": "swift",
    ".toml": "toml",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".yaml": "yaml",
    ".yml": "yaml",
}


def _prompt(args: argparse.Namespace) -> str:
    """The prompt words, after whatever was piped in (`cat f.py | ardaemon chat explain`)."""
    parts = []
    if not ui.is_tty(sys.stdin):
        piped = sys.stdin.read()
        if piped.strip():
            parts.append(piped.rstrip("\n"))
    if args.prompt:
        parts.append(" ".join(args.prompt))
    if not parts:
        raise UsageError('give a prompt (`ardaemon chat "hello"`) or pipe text into it.')
    return "\n\n".join(parts)


def chat(args: argparse.Namespace) -> int:
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError("--max-tokens must be at least 1.")
    text = _prompt(args)
    service, _ = make_service(args)
    messages = [ChatMessage("system", args.system)] if args.system else []
    messages.append(ChatMessage("user", text))
    params = ChatParams(messages=messages, model=args.model, max_tokens=args.max_tokens)

    async def work(s: Service) -> ChatResult:
        await check_model(s, args.model)
        if args.json:
            return await s.chats.chat(params)
        spinner = ui.Spinner(f"waiting for {s.models.model('chat', args.model)}").start()
        wrote: list[str] = []

        def on_delta(delta: str) -> None:
            spinner.stop()
            wrote.append(delta)
            sys.stdout.write(delta)
            sys.stdout.flush()

        try:
            return await s.chats.chat(params, on_delta)
        finally:
            spinner.stop()
            if wrote and not wrote[-1].endswith("\n"):
                sys.stdout.write("\n")
                sys.stdout.flush()

    result = run(service, work)
    if args.json:
        ui.print_json(encode(result))
        return 0
    if result.stop_reason in ("length", "max_tokens"):
        ui.warn("the answer was cut off at the token limit; raise it with --max-tokens.")
    _said_fallback(result, "chat")
    return 0


def _said_fallback(result: ChatResult | CompleteResult, role: str) -> None:
    """On stderr (stdout stays the answer alone): a fallback answered, not the model asked."""
    if result.fallback_from:
        ui.err(
            f"answered by {result.model}, fallback from {result.fallback_from} (it failed "
            f"before any output; models.fallback.{role} in config.toml)."
        )


def parse_location(location: str) -> tuple[Path, int, int]:
    """`FILE:LINE:COL`, 1-based like compilers print them; the file name may hold colons."""
    parts = location.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise UsageError(f"expected FILE:LINE:COL (1-based), got '{location}'.")
    line, col = int(parts[1]), int(parts[2])
    if line < 1 or col < 1:
        raise UsageError("LINE and COL start at 1.")
    return Path(parts[0]), line, col


def split_at(text: str, line: int, col: int, name: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    count = len(lines)  # as `wc -l` and editors count: a final line break ends a line
    if text == "" or text.endswith(("\n", "\r")):
        lines.append("")  # the cursor may still sit after the last line break
    if line > len(lines):
        raise UsageError(
            f"{name} has {count} line{'' if count == 1 else 's'}; line {line} does not exist."
        )
    current = lines[line - 1].rstrip("\r\n")
    if col > len(current) + 1:
        raise UsageError(
            f"line {line} of {name} has {len(current)} characters; the last column is "
            f"{len(current) + 1}."
        )
    offset = sum(len(x) for x in lines[: line - 1]) + col - 1
    return text[:offset], text[offset:]


def complete(args: argparse.Namespace) -> int:
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError("--max-tokens must be at least 1.")
    path, line, col = parse_location(args.location)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise Failure(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read {path}: {exc}") from None
    prefix, suffix = split_at(text, line, col, str(path))
    service, _ = make_service(args)

    async def work(s: Service) -> CompleteResult | None:
        await check_model(s, args.model)
        spinner = ui.Spinner(f"completing with {s.models.model('completion', args.model)}")
        spinner.start()
        try:
            return await s.completions.complete(
                prefix,
                suffix,
                language_id=LANGUAGES.get(path.suffix.lower(), ""),
                path=str(path.resolve()),
                model=args.model,
                max_tokens=args.max_tokens,
            )
        finally:
            spinner.stop()

    result = run(service, work)
    if result is None:  # superseded by a newer request: cannot happen with one request
        return 1
    if args.json:
        ui.print_json(encode(result))
        return 0
    insertion = result.items[0].insert_text if result.items else ""
    if not insertion:
        ui.err(f"{result.model} had nothing to insert at {path}:{line}:{col}.")
        return 0
    sys.stdout.write(insertion)
    if ui.is_tty(sys.stdout) and not insertion.endswith("\n"):
        # On a terminal the prompt must not glue onto the insertion; a pipe gets it exactly.
        sys.stdout.write("\n")
    sys.stdout.flush()
    _said_fallback(result, "completion")
    return 0
