"""The inline-completion policy (completion/inline.py), in process: every step of its
docstring, with fake documents and a fake completion call."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from typing import Any

import msgspec
import pytest

from ardaemon import errors
from ardaemon.completion.inline import (
    Around,
    Complete,
    InlineItem,
    Position,
    WidgetItem,
    language_allowed,
    suggest,
    wanted,
)
from ardaemon.protocol import CompleteResult, CompletionItem
from ardaemon.settings import CompletionSettings

HERE = Position(0, 4)
KEYWORDS = set(inspect.signature(Complete.__call__).parameters) - {"self", "prefix", "suffix"}


class Docs:
    def __init__(self, refused: dict[str, str] | None = None) -> None:
        self.refused = refused or {}
        self.others = [("b.py", "def b(): pass"), ("c.py", "C = 1")]

    def refusal(self, uri: str) -> str | None:
        return self.refused.get(uri)

    def around(self, uri: str, at: Position) -> Around:
        return Around("def ", "\n", "python", "a.py")

    def before(self, uri: str, at: Position) -> str:
        return "x = os.pa"[: at.character]

    def same_language(self, uri: str, language_id: str) -> Iterable[tuple[str, str]]:
        return self.others if language_id == "python" else []


class Fake:
    def __init__(self, answer: str = "main():", error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer, self.error = answer, error

    async def __call__(self, prefix: str, suffix: str, **keywords: Any) -> CompleteResult | None:
        # The policy passes exactly the keywords of the Complete protocol, by name.
        assert keywords.keys() == KEYWORDS
        self.calls.append(dict(prefix=prefix, **keywords))
        if self.error:
            raise self.error
        return CompleteResult(
            items=[CompletionItem(self.answer)], model="m", api="openai", cached=False
        )


def settings(**raw: Any) -> CompletionSettings:
    return msgspec.convert(raw, CompletionSettings)


def run(
    fake: Fake,
    s: CompletionSettings | None = None,
    docs: Docs | None = None,
    *,
    automatic: bool = True,
    widget: WidgetItem | None = None,
) -> tuple[list[InlineItem] | None, list[tuple[str, str]]]:
    refusals: list[tuple[str, str]] = []
    items = asyncio.run(
        suggest(
            docs or Docs(),
            s or settings(),
            fake,
            uri="file:///w/a.py",
            at=HERE,
            automatic=automatic,
            widget=widget,
            on_refusal=lambda uri, why: refusals.append((uri, why)),
        )
    )
    return items, refusals


def test_an_answer_becomes_one_item_at_the_cursor() -> None:
    fake = Fake()
    items, _ = run(fake)
    assert items == [InlineItem("main():", HERE, HERE, "m")]
    assert fake.calls[0]["prefix"] == "def " and fake.calls[0]["trigger"] == "automatic"


@pytest.mark.parametrize(
    ("raw", "automatic", "on"),
    [
        ({}, True, True),
        ({"enabled": False}, False, False),
        ({"manual": True}, True, False),
        ({"manual": True}, False, True),
    ],
)
def test_enabled_and_manual_gate_requests(raw: dict[str, Any], automatic: bool, on: bool) -> None:
    assert wanted(settings(**raw), automatic) is on
    fake = Fake()
    items, _ = run(fake, settings(**raw), automatic=automatic)
    assert (items is not None) is on and bool(fake.calls) is on


@pytest.mark.parametrize(
    ("languages", "allowed"),
    [
        ({}, True),
        ({"allow": ["python"]}, True),
        ({"allow": ["rust"]}, False),
        ({"deny": ["python"]}, False),
    ],
)
def test_language_allow_and_deny(languages: dict[str, list[str]], allowed: bool) -> None:
    assert language_allowed(settings(languages=languages), "python") is allowed
    fake = Fake()
    items, _ = run(fake, settings(languages=languages))
    assert (items is not None) is allowed


def test_a_refused_document_is_reported_and_never_sent() -> None:
    fake = Fake()
    items, refusals = run(fake, docs=Docs({"file:///w/a.py": "it is a secret file"}))
    assert items is None and not fake.calls
    assert refusals == [("file:///w/a.py", "it is a secret file")]


def test_the_suggest_widget_item_is_completed_as_if_accepted() -> None:
    widget = WidgetItem(Position(0, 7), Position(0, 9), "path")
    fake = Fake(answer=".join(a, b)")
    items, _ = run(fake, widget=widget, automatic=False)
    assert fake.calls[0]["prefix"] == "x = os.path" and fake.calls[0]["trigger"] == "invoked"
    assert items == [InlineItem("path.join(a, b)", Position(0, 7), Position(0, 9), "m")]


def test_other_documents_of_the_language_go_along_as_snippets() -> None:
    fake = Fake()
    run(fake)
    assert [s.path for s in fake.calls[0]["snippets"]] == ["b.py", "c.py"]


def test_upstream_errors_give_an_empty_list_but_invalid_params_do_not() -> None:
    items, _ = run(Fake(error=errors.RateLimited("slow down")))
    assert items == []
    with pytest.raises(errors.InvalidParams):
        run(Fake(error=errors.InvalidParams("bad")))
