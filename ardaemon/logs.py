"""Logging to a rotating file in the state dir, errors to stderr; tokens never get
through.

stdout carries the protocol, so no handler ever writes there. stderr gets ERROR and up
(WARNING too when there is no log file), one capped line each: Neovim records every
stderr line as an ERROR. Tracebacks go to the file, and only at DEBUG. pygls logs whole
messages (prompts, code) at INFO: its loggers are held at WARNING.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from .credentials import redact
from .paths import Paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Longest log line; the rest of a long message is cut with a note of its length.
MAX_LINE = 2000
MAX_BYTES = 1_000_000


class QuietRequestErrors(logging.Filter):
    """pygls logs every error response with a traceback; ours are expected and logged once."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pygls.exceptions import JsonRpcException

        exc = record.exc_info[1] if record.exc_info else None
        return not (record.name.startswith("pygls") and isinstance(exc, JsonRpcException))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text), None
        return True


class CappedFormatter(logging.Formatter):
    """One bounded line per record; a traceback only when `tracebacks` (DEBUG, file)."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__(FORMAT)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if len(message) > MAX_LINE:
            message = f"{message[:MAX_LINE]}… ({len(message)} chars)"
        record.message = message.replace("\n", "\\n") if not self.tracebacks else message
        record.asctime = self.formatTime(record)
        line = self.formatMessage(record)
        if self.tracebacks and (record.exc_info or record.exc_text):
            line += "\n" + (record.exc_text or self.formatException(record.exc_info))  # type: ignore[arg-type]
        return line


class RotatingFile(logging.FileHandler):
    """The log file: once it reaches `max_bytes` it becomes `.1` (`.1` becomes `.2`, and so
    on up to `backups`) and a new one starts. logging.handlers.RotatingFileHandler does the
    same, but its module loads pickle for handlers the daemon never uses: 2 ms of start-up."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, encoding="utf-8")
        self.max_bytes = max_bytes
        self.backups = backups

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        # `Handler.handle` holds the handler's lock around `emit`: one rotation at a time.
        if self.stream is not None and self.stream.tell() >= self.max_bytes:
            self.stream.close()
            self.stream = None  # the next `emit` opens a new file
            for n in range(self.backups, 0, -1):
                older = f"{self.baseFilename}.{n - 1}" if n > 1 else self.baseFilename
                with contextlib.suppress(OSError):
                    os.replace(older, f"{self.baseFilename}.{n}")


def setup_logging(paths: Paths, level: str | None = None) -> None:
    level = (level or os.environ.get("ARDAEMON_LOG_LEVEL", "INFO")).upper()
    root = logging.getLogger()
    root.setLevel(level)
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.WARNING)
    stderr.setFormatter(CappedFormatter(tracebacks=False))
    handlers: list[logging.Handler] = [stderr]
    try:
        paths.state_dir.mkdir(parents=True, exist_ok=True)
        file = RotatingFile(paths.log_file, MAX_BYTES, backups=2)
        file.setFormatter(CappedFormatter(tracebacks=level == "DEBUG"))
        handlers.append(file)
        # Warnings reach the editor as messages and the file; stderr keeps errors only.
        stderr.setLevel(logging.ERROR)
    except OSError as exc:
        stderr.handle(
            logging.makeLogRecord({"msg": f"no log file ({exc.strerror})", "levelno": 30})
        )
    for handler in handlers:
        handler.addFilter(QuietRequestErrors())
        handler.addFilter(RedactTokens())
        root.addHandler(handler)
    for name in ("pygls", "httpx", "httpcore", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
