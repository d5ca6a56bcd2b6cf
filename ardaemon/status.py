"""`ardaemon/didChangeStatus`: what the status line shows while completions run."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from . import errors
from .protocol import Status

StatusSink = Callable[[Status], None]
INTERNAL_MESSAGE = (
    "ardaemon hit an internal error: the details are in its log file (`ardaemon status` "
    "shows where)."
)


class Activity:
    """In progress while any completion is; then idle, or the error that ended the last."""

    def __init__(self) -> None:
        self.sink: StatusSink | None = None
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
            failed = errors.ArdaemonError(INTERNAL_MESSAGE)
            failed.kind = "internal"
            raise
        finally:
            self._active -= 1
            if failed is not None:
                self.report(
                    Status(state="error", message=failed.message, model=model, kind=failed.kind)
                )
            elif self._active == 0:
                self.report(Status(state="idle", model=model))
