"""Logging to stderr and a rotating file in the state dir; tokens never get through.

stdout carries the protocol, so no handler ever writes there. pygls logs whole messages
(prompts, code) at INFO: its loggers are held at WARNING.
"""

from __future__ import annotations

import logging
import logging.handlers
import os

from .config import Paths
from .credentials import redact

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


def setup_logging(paths: Paths, level: str | None = None) -> None:
    level = level or os.environ.get("ARDAEMON_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    root.setLevel(level.upper())
    formatter = logging.Formatter(FORMAT)
    stderr = logging.StreamHandler()
    handlers: list[logging.Handler] = [stderr]
    try:
        paths.state_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                paths.log_file, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
            )
        )
    except OSError as exc:
        stderr.handle(
            logging.makeLogRecord({"msg": f"no log file ({exc.strerror})", "levelno": 30})
        )
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(QuietRequestErrors())
        handler.addFilter(RedactTokens())
        root.addHandler(handler)
    for name in ("pygls", "httpx", "httpcore", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
