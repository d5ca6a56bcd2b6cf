"""`ardaemon/didChangeStatus`: what the status line shows while completions run, the
error that ended a failed request, and the news of a request that succeeded otherwise
than asked (a fallback answered, today's usage passed its warning)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from . import errors
from .messages import Frontend, render
from .protocol import Status

if TYPE_CHECKING:
    from .dispatch import Answer

StatusSink = Callable[[Status], None]
WarningSink = Callable[[list[str]], None]


class Activity:
    """In progress while any completion is; then idle, or the error that ended the last."""

    def __init__(self) -> None:
        self.sink: StatusSink | None = None
        #: Warnings the user should see even without a status line (a pop-up, stderr).
        self.on_warning: WarningSink | None = None
        #: Whose words the status line's messages use (set from `clientInfo` at initialize).
        self.frontend: Frontend = "lsp"
        self._active = 0
        self._last: Status | None = None

    def report(self, status: Status) -> None:
        # Only a change is news to the editor (idle after idle is not).
        if self.sink is not None and status != self._last:
            self._last = status
            self.sink(status)

    @contextlib.contextmanager
    def busy(self, model: str) -> Iterator[None]:
        self._active += 1
        if self._active == 1:
            self.report(Status(state="inProgress", model=model))
        failed: errors.ArdaemonError | None = None
        try:
            yield
        except errors.ArdaemonError as exc:
            failed = exc
            raise
        except Exception:
            failed = errors.Internal()
            raise
        finally:
            self._active -= 1
            if failed is not None:
                self.failed(failed, model)
            elif self._active == 0:
                self.report(Status(state="idle", model=model))

    @contextlib.contextmanager
    def reporting(self, model: str) -> Iterator[None]:
        """Report the error that ends a request other than a completion (a chat); no
        progress states, and a cancellation is not a failure."""
        try:
            yield
        except errors.Cancelled:
            raise
        except errors.ArdaemonError as exc:
            self.failed(exc, model)
            raise
        except Exception:
            self.failed(errors.Internal(), model)
            raise

    def failed(self, error: errors.ArdaemonError, model: str) -> None:
        message = render(error, self.frontend)
        self.report(Status(state="error", message=message, model=model, kind=error.kind))

    def fell_back(self, answer: Answer) -> None:
        """A fallback answered: say which model failed, why, and who answered instead."""
        self.report(
            Status(
                state="idle",
                kind="fallback",
                model=answer.route.model,
                message=f"{answer.fallback_from} failed ({answer.reason}); answered by the "
                f"fallback {answer.route.provider.name}:{answer.route.model}.",
            )
        )

    def budget_warning(self, message: str) -> None:
        """Today's usage passed `usage.dailyTokenWarning` (`usage.Meter`)."""
        self.report(Status(state="idle", kind="budget", message=message))
        if self.on_warning is not None:
            self.on_warning([message])
