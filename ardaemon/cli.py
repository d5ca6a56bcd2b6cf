"""The command line around the daemon (everything but `serve`)."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ardaemon", description="Every model of an LLM gateway in your editor."
    )
    parser.add_argument("--version", action="version", version=f"ardaemon {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the daemon on stdio (editors start this)")
    serve.add_argument("--stdio", action="store_true", help="accepted for vscode-languageclient")
    sub.add_parser("demo", help="a tour on the built-in gateway stand-in: no token, no network")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        from .server import serve

        return serve()
    if args.command == "demo":
        from .demo import main as demo_main

        return demo_main()
    parser.print_help(sys.stderr)
    return 2
