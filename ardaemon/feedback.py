"""Acceptance feedback: how often each model's suggestions are shown and accepted.

Counted locally, per model, in the state dir (`feedback.json`); never sent anywhere.
"Shown" is a completion answer with at least one item; "accepted" is the editor running
the item's `command` (`ardaemon.accepted`) when the user takes it. Counts are written at
most every few seconds (and on accept), so typing costs no disk write per keystroke.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from .files import atomic_write
from .protocol import Acceptance

log = logging.getLogger(__name__)

#: The command each inline item carries; the editor runs it (or sends it back through
#: `workspace/executeCommand`) when the user accepts the item.
ACCEPT_COMMAND = "ardaemon.accepted"
WRITE_EVERY = 5.0


class Counts(msgspec.Struct, omit_defaults=True):
    shown: int = 0
    accepted: int = 0

    @property
    def rate(self) -> float | None:
        return self.accepted / self.shown if self.shown else None


class Feedback:
    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self._counts: dict[str, Counts] | None = None
        self._written = clock()
        self._dirty = False

    def counts(self) -> dict[str, Counts]:
        if self._counts is None:
            self._counts = load(self.path)
        return self._counts

    def acceptance(self) -> list[Acceptance]:
        """Per model, for `ardaemon/status`."""
        return [Acceptance(m, c.shown, c.accepted) for m, c in sorted(self.counts().items())]

    def shown(self, model: str) -> None:
        self.counts().setdefault(model, Counts()).shown += 1
        self._changed(force=False)

    def accepted(self, model: str) -> None:
        entry = self.counts().setdefault(model, Counts())
        entry.accepted += 1
        # An accept without a counted show (a restarted daemon) must not push the rate over 1.
        entry.shown = max(entry.shown, entry.accepted)
        self._changed(force=True)

    def flush(self) -> None:
        if self._dirty and self._counts is not None:
            try:
                atomic_write(self.path, msgspec.json.encode(self._counts))
            except OSError as exc:
                log.warning("could not save acceptance counts (%s)", exc.strerror)
            self._dirty = False
            self._written = self.clock()

    def _changed(self, force: bool) -> None:
        self._dirty = True
        if force or self.clock() - self._written >= WRITE_EVERY:
            self.flush()


def load(path: Path) -> dict[str, Counts]:
    """The saved counts; a missing or broken file counts from zero (never fatal)."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=dict[str, Counts])
    except FileNotFoundError:
        return {}
    except (OSError, msgspec.DecodeError) as exc:
        log.warning("ignoring unreadable %s (%s)", path, exc)
        return {}
