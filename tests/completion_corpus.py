"""The completion corpus: raw model answers and the document a careful person would end up with.

Each case in `data/completion_corpus.toml` is a document with the cursor marked `⟂`, the raw
answer of a chat model, and the expected document after the cleaned answer is inserted at the
cursor: a case passes when prefix + insertion + suffix equals that document exactly. Every case
names the class of artefact it exercises (the classes of issue 10, or `base`) and cites where
such an artefact was seen; `truncated = true` marks an answer cut off by the token limit.
Shared by the corpus tests and `scripts/bench_completion.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ardaemon.completion import CompletionContext, build_context
from ardaemon.completion.context import with_stop_reason
from ardaemon.completion.postprocess import PIPELINE, Step, run_steps

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CURSOR = "⟂"
CORPUS_FILE = Path(__file__).parent / "data" / "completion_corpus.toml"
#: The artefact classes of issue 10, in its order, then the cases that predate it.
CLASSES = (
    "multiline",
    "scope",
    "repetition",
    "duplicate",
    "prose",
    "fence",
    "indent",
    "brackets",
    "colon",
    "midline",
    "base",
)


@dataclass(frozen=True)
class Case:
    name: str
    cls: str
    language_id: str
    source: str
    document: str
    raw: str
    expected: str
    multiline: bool | None
    #: The answer was cut off by the token limit (stop reason "max_tokens" / "length").
    truncated: bool = False

    @property
    def prefix(self) -> str:
        return self.document.split(CURSOR, 1)[0]

    @property
    def suffix(self) -> str:
        return self.document.split(CURSOR, 1)[1]

    def context(self) -> CompletionContext:
        ctx = build_context(
            self.prefix, self.suffix, language_id=self.language_id, multiline=self.multiline
        )
        return with_stop_reason(ctx, "max_tokens" if self.truncated else "end_turn")

    def result(self, steps: Sequence[Step] = PIPELINE) -> str:
        """The document after the cleaned answer is inserted at the cursor."""
        return self.prefix + run_steps(self.raw, self.context(), steps) + self.suffix


def load_corpus(path: Path = CORPUS_FILE) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cases = []
    for item in data["case"]:
        cases.append(
            Case(
                name=item["name"],
                cls=item["class"],
                language_id=item["language"],
                source=item["source"],
                document=item["document"],
                raw=item["raw"],
                expected=item["expected"],
                multiline=item.get("multiline"),
                truncated=item.get("truncated", False),
            )
        )
    return cases
