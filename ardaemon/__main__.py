"""`ardaemon` entry point: `serve` is kept lean; everything else lives in `cli`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"] and all(a in ("--stdio",) for a in args[1:]):
        # The editor's path: import only what the daemon needs. lsprotocol makes ~10^5
        # long-lived objects; frozen, later imports and requests never rescan them.
        import gc

        import pygls.lsp.server  # noqa: F401

        gc.freeze()
        # What start-up makes from here on is hardly garbage (a few hundred objects): no
        # collections until the initialize answer is out (`process.settle_gc`).
        gc.disable()
        from .server import serve

        return serve()
    if args in (["--version"], ["-V"]):
        from . import __version__

        print(f"ardaemon {__version__}")
        return 0
    from .cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
