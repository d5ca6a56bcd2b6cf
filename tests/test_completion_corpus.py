"""The corpus is the specification of `postprocess`: every case must give its expected document.

Cases are judged by the whole document after insertion (see `completion_corpus.py`), and every
step of the pipeline must be needed by at least one case.
"""

from __future__ import annotations

import pytest
from completion_corpus import CLASSES, CURSOR, Case, load_corpus

from ardaemon.completion.postprocess import PIPELINE, Step

CORPUS = load_corpus()


def test_corpus_is_broad() -> None:
    assert len(CORPUS) >= 200
    assert len({case.name for case in CORPUS}) == len(CORPUS)
    languages = {case.language_id for case in CORPUS}
    assert len(languages) >= 12, sorted(languages)
    assert {case.cls for case in CORPUS} == set(CLASSES)
    assert any(case.expected == case.prefix + case.suffix for case in CORPUS)
    assert any("\r\n" in case.raw for case in CORPUS)
    assert any("<think>" in case.raw for case in CORPUS)


def test_every_case_is_well_formed() -> None:
    for case in CORPUS:
        assert case.document.count(CURSOR) == 1, case.name
        assert CURSOR not in case.expected, case.name
        assert case.source.strip(), f"{case.name} cites no source"
        # The expected document keeps everything around the cursor: only an insertion.
        assert case.expected.startswith(case.prefix), case.name
        assert case.expected.endswith(case.suffix), case.name


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_corpus_case(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    assert case.result() == case.expected
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("step", PIPELINE, ids=[step.__name__ for step in PIPELINE])
def test_every_step_is_needed_by_the_corpus(step: Step) -> None:
    without = [s for s in PIPELINE if s is not step]
    broken = [case.name for case in CORPUS if case.result(without) != case.expected]
    assert broken, f"the corpus passes without {step.__name__}"


#: How the same answer comes back from either wire format: after the prefilled or obeyed
#: `<completion>` tag (the closing tag is the stop sequence), inside both tags, or fenced.
WRAPPINGS = {
    "open_tag": lambda raw: "<completion>" + raw,
    "both_tags": lambda raw: "<completion>" + raw + "</completion>",
    "fenced": lambda raw: "```\n" + raw + "\n```",
}
PLAIN = [
    case
    for case in CORPUS
    if not any(
        t in case.raw.lower()
        for t in ("<completion>", "</completion>", "```", "~~~", "\r", "<think>")
    )
    and case.raw.strip()
    # A cut-off answer never has a closing tag or fence after its cut line.
    and not case.truncated
]


@pytest.mark.parametrize("wrap", WRAPPINGS)
@pytest.mark.parametrize("case", PLAIN, ids=[case.name for case in PLAIN])
def test_corpus_case_whatever_the_wrapping(case: Case, wrap: str) -> None:
    """The clean-up must not depend on which wire format produced the text."""
    wrapped = Case(**{**case.__dict__, "raw": WRAPPINGS[wrap](case.raw)})
    assert wrapped.result() == case.expected
