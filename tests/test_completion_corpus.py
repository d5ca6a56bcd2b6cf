"""Real-looking raw answers of chat models and what a careful person would insert for each.

The corpus is the specification of `postprocess`: every case must pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ardaemon.completion import CompletionContext, build_context, postprocess
from ardaemon.completion.postprocess import PIPELINE, Step, run_steps

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "completion_corpus.json").read_text(encoding="utf-8")
)


def test_corpus_is_broad() -> None:
    assert len(CORPUS) >= 45
    assert len({case["name"] for case in CORPUS}) == len(CORPUS)
    languages = {case["language_id"] for case in CORPUS}
    assert {"python", "typescript", "javascript", "go", "rust", "lua", "c"} <= languages
    assert any(case["expected"] == "" for case in CORPUS)
    assert any("\r\n" in case["raw"] for case in CORPUS)
    assert any("<think>" in case["raw"] for case in CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_corpus_case(case: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    ctx = build_context(
        case["prefix"],
        case["suffix"],
        language_id=case["language_id"],
        multiline=case["multiline"],
    )
    assert postprocess(case["raw"], ctx) == case["expected"]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def _context(case: dict[str, Any]) -> CompletionContext:
    return build_context(
        case["prefix"],
        case["suffix"],
        language_id=case["language_id"],
        multiline=case["multiline"],
    )


@pytest.mark.parametrize("step", PIPELINE, ids=[step.__name__ for step in PIPELINE])
def test_every_step_is_needed_by_the_corpus(step: Step) -> None:
    without = [s for s in PIPELINE if s is not step]
    broken = [
        case["name"]
        for case in CORPUS
        if run_steps(case["raw"], _context(case), without) != case["expected"]
    ]
    assert broken, f"the corpus passes without {step.__name__}"
