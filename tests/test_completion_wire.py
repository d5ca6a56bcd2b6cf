"""Corpus cases end to end: the daemon over real stdio, the stand-in answering in each wire format.

The same raw answer, returned by an OpenAI-format model and by a Claude model, must give the
same document: the clean-up does not depend on the wire format, and the daemon inserts exactly
what `postprocess` decides (range at the cursor, nothing else touched).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from completion_corpus import CLASSES, Case, load_corpus
from conftest import TOKEN, isolated_env, start_daemon, stop_daemon
from editor import inline, open_doc
from lsprotocol import types

EXTENSIONS = {
    "python": "py",
    "javascript": "js",
    "typescript": "ts",
    "typescriptreact": "tsx",
    "go": "go",
    "rust": "rs",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "csharp": "cs",
    "kotlin": "kt",
    "swift": "swift",
    "ruby": "rb",
    "php": "php",
    "lua": "lua",
    "yaml": "yaml",
    "json": "json",
    "html": "html",
    "css": "css",
    "markdown": "md",
    "sql": "sql",
    "shellscript": "sh",
    "plaintext": "txt",
}


def _sample() -> list[Case]:
    """Every corpus case the daemon decides the mode for, one per document (the engine's cache
    would answer a second case on the same document with the first one's answer)."""
    seen: set[str] = set()
    cases = []
    for case in load_corpus():
        if case.multiline is not None or case.truncated or "\r" in case.document + case.raw:
            continue
        if case.document in seen or case.language_id not in EXTENSIONS:
            continue
        seen.add(case.document)
        cases.append(case)
    return cases


SAMPLE = _sample()


@pytest.mark.parametrize("model", ["glm-4.6", "claude-haiku-4-5-20251001"])
async def test_sampled_corpus_through_the_daemon(home: Path, gateway: Any, model: str) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env, init_options={"models": {"completion": model}})
    wrong: list[str] = []
    try:
        for n, case in enumerate(SAMPLE):
            uri = f"file:///work/project/case{n}.{EXTENSIONS[case.language_id]}"
            document = case.prefix + case.suffix
            open_doc(client, document, uri, case.language_id)
            gateway.add_reply(case.prefix, case.raw)
            line = case.prefix.count("\n")
            char = len(case.prefix.rsplit("\n", 1)[-1])
            result = await inline(client, line, char, uri=uri)
            items = result.items if result is not None else []
            inserted = str(items[0].insert_text) if items else ""
            if items:
                assert items[0].range == types.Range(
                    types.Position(line, char), types.Position(line, char)
                )
            if case.prefix + inserted + case.suffix != case.expected:
                wrong.append(f"{case.name}: {inserted!r}")
    finally:
        await stop_daemon(client)
    assert len(SAMPLE) >= 200 and {case.cls for case in SAMPLE} == set(CLASSES)
    assert not wrong, wrong


@pytest.mark.parametrize("model", ["glm-4.6", "claude-haiku-4-5-20251001"])
async def test_an_answer_cut_by_the_token_limit_ends_at_its_last_complete_line(
    home: Path, gateway: Any, model: str
) -> None:
    """The stand-in cuts its answer at the request's `max_tokens` and says so as the real wire
    does (`finish_reason: "length"` / `stop_reason: "max_tokens"`); the unfinished last line
    never reaches the editor."""
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(
        env, init_options={"models": {"completion": model}, "completion": {"maxTokens": 12}}
    )
    prefix, suffix = "def area(w, h):\n    ", "\n\nprint(area(2, 3))\n"
    # Twelve stand-in tokens (words) end inside the `return` line.
    gateway.add_reply(prefix, 'if w < 0 or h < 0:\n    raise ValueError("negative")\nreturn w * h')
    try:
        uri = open_doc(client, prefix + suffix, "file:///work/project/area.py")
        result = await inline(client, 1, 4, uri=uri)
    finally:
        await stop_daemon(client)
    sent = gateway.requests[-1].json
    assert sent.get("max_tokens", sent.get("max_completion_tokens")) == 12
    assert result is not None and result.items
    assert str(result.items[0].insert_text) == (
        'if w < 0 or h < 0:\n        raise ValueError("negative")'
    )
