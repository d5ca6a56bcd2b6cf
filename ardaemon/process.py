"""The daemon's process: it exits when its editor dies, and settles the garbage collector
once start-up is done."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

PARENT_POLL_SECONDS = 1.0


def settle_gc() -> None:
    """Collect start-up garbage once, then keep the long-lived rest out of every future
    collection: shorter GC pauses during completions. Collections were off until now
    (`__main__`), so start-up did not pay for them."""
    gc.collect()
    gc.freeze()
    gc.enable()


async def watch_parent(pid: int) -> None:
    """Exit when the editor dies: an orphaned daemon would live on forever."""
    while True:
        await asyncio.sleep(PARENT_POLL_SECONDS)
        if not _alive(pid):
            log.info("editor process %d is gone; exiting", pid)
            logging.shutdown()
            os._exit(0)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A dead editor that nobody reaped yet is a zombie: gone for our purposes.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _alive_windows(pid: int) -> bool:
    # os.kill(pid, 0) would send CTRL_C_EVENT on Windows; ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x00100000, False, pid)  # SYNCHRONIZE
    if not handle:
        return False
    try:
        return bool(kernel32.WaitForSingleObject(handle, 0) == 0x102)  # WAIT_TIMEOUT
    finally:
        kernel32.CloseHandle(handle)
