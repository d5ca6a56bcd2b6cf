"""The command line around the daemon (everything but the lean `serve` path).

Commands reuse the daemon's own `Service`, so routing, the catalog, errors and credentials
have one implementation. Each command's module is imported only when that command runs.
Exit codes: 0 ok (`status` too, whatever it reports), 1 failure, 2 usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from .. import __version__

EXAMPLES = """\
getting started:
  ardaemon login                 store your token (checked against the gateway first)
  ardaemon models                the models your token can use
  ardaemon use MODEL             pick the model editors use for completion and chat
  ardaemon chat "hello"          try it from the terminal
  ardaemon doctor                when an editor shows nothing: find out why
"""


def _common() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show debug logs and tracebacks",
    )
    return parent


def _with_provider() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "-p",
        "--provider",
        metavar="NAME",
        help="use this provider instead of the configured one (see `ardaemon providers`)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    common, provider = _common(), _with_provider()
    parser = argparse.ArgumentParser(
        prog="ardaemon",
        description="Every model of an LLM gateway in your editor.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ardaemon {__version__}")
    parser.add_argument("--debug", action="store_true", help="show debug logs and tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common, *parents])

    login = add("login", "check a token against the gateway and store it", provider)
    login.add_argument(
        "--token-stdin", action="store_true", help="read the token from stdin (for scripts)"
    )
    login.add_argument(
        "--no-verify", action="store_true", help="store the token without checking it first"
    )
    add("logout", "remove the stored token (keyring and file)", provider)

    status = add(
        "status",
        "provider, base URL, token source, models, catalog, log file (exit code 0 whenever "
        "it prints the report, also without a token)",
        provider,
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")

    models = add("models", "list the models of the catalog and their wire format", provider)
    models.add_argument("--refresh", action="store_true", help="fetch the catalog now")
    models.add_argument("--json", action="store_true", help="the listModels result as JSON")

    use = add("use", "select the model editors use (both roles unless --role)", provider)
    use.add_argument("model", metavar="MODEL")
    use.add_argument("--role", choices=("completion", "chat"), help="select for one role only")

    chat = add("chat", "send a prompt and stream the answer (stdin is read when piped)", provider)
    chat.add_argument("prompt", nargs="*", metavar="PROMPT")
    chat.add_argument("-m", "--model", help="model to use (default: the selected chat model)")
    chat.add_argument("-s", "--system", help="system prompt")
    chat.add_argument("--max-tokens", type=int, metavar="N", help="limit the answer's length")
    chat.add_argument("--json", action="store_true", help="print the whole result as JSON")

    complete = add("complete", "complete code at FILE:LINE:COL (1-based) and print it", provider)
    complete.add_argument("location", metavar="FILE:LINE:COL")
    complete.add_argument("-m", "--model", help="model to use (default: the completion model)")
    complete.add_argument("--max-tokens", type=int, metavar="N", help="limit the insertion")
    complete.add_argument("--json", action="store_true", help="print the whole result as JSON")

    doctor = add("doctor", "check everything between you and the gateway", provider)
    doctor.add_argument("--json", action="store_true", help="machine-readable output")

    usage = add("usage", "tokens and cost of your requests, from the usage ledger")
    usage.add_argument(
        "--since", default="today", metavar="WHEN", help="today (default), 7d, 12h or a date"
    )
    usage.add_argument(
        "--by", choices=("model", "day", "purpose"), default="model", help="group rows by"
    )
    usage.add_argument("--json", action="store_true", help="the ardaemon/usage result as JSON")

    providers = add("providers", "the providers table, built-in and from config.toml")
    providers.add_argument("--json", action="store_true", help="machine-readable output")

    serve = add("serve", "run the daemon on stdio (editors start this)")
    serve.add_argument("--stdio", action="store_true", help="accepted for vscode-languageclient")
    add("demo", "a tour on the built-in gateway stand-in: no token, no network")
    return parser


def _handler(command: str) -> Callable[[argparse.Namespace], int]:
    # Imported on use: `ardaemon status` should not pay for doctor's or chat's imports.
    if command in ("login", "logout"):
        from . import auth

        return auth.login if command == "login" else auth.logout
    if command in ("status", "models", "use", "providers"):
        from . import info

        handlers: dict[str, Callable[[argparse.Namespace], int]] = {
            "status": info.status,
            "models": info.models,
            "use": info.use,
            "providers": info.providers,
        }
        return handlers[command]
    if command in ("chat", "complete"):
        from . import run

        return run.chat if command == "chat" else run.complete
    if command == "usage":
        from .usage import usage

        return usage
    if command == "doctor":
        from . import doctor

        return doctor.doctor
    raise AssertionError(command)


def _setup_logging(debug: bool) -> None:
    from ..logs import RedactTokens

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.addHandler(handler)
    # Library warnings (a stale catalog, say) are reported by the commands themselves.
    root.setLevel(logging.DEBUG if debug else logging.ERROR)
    for name in ("httpcore", "asyncio", "keyring"):
        logging.getLogger(name).setLevel(logging.INFO if debug else logging.ERROR)


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command == "serve":
        from ..server import serve

        return serve()
    if args.command == "demo":
        from ..demo import main as demo_main

        return demo_main()

    debug = bool(getattr(args, "debug", False))
    _setup_logging(debug)
    from .. import errors
    from . import ui
    from .common import Failure, UsageError, for_terminal

    style = ui.Style(sys.stderr)
    try:
        return _handler(args.command)(args)
    except KeyboardInterrupt:
        ui.err("\nInterrupted.")
        return 130
    except UsageError as exc:
        ui.err(f"{style.red('error:')} {exc}")
        ui.err(f"Run `ardaemon {args.command} --help` for usage.")
        return 2
    except Failure as exc:
        ui.err(f"{style.red('error:')} {exc}")
        return 1
    except errors.ArdaemonError as exc:
        if debug:
            _traceback()
        ui.err(f"{style.red('error:')} {for_terminal(exc)}")
        return 1
    except BrokenPipeError:
        # `ardaemon models | head`: the reader left; that is not our failure.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if debug:
            _traceback()
        detail = str(exc).splitlines()[0] if str(exc) else ""
        ui.err(
            f"{style.red('error:')} unexpected {type(exc).__name__}"
            f"{': ' + detail if detail else ''} (run with --debug for the traceback)"
        )
        return 1


def _traceback() -> None:
    import traceback

    from ..credentials import redact

    sys.stderr.write(redact(traceback.format_exc()))
