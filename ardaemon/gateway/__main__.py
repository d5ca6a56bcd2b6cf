"""`python -m ardaemon.gateway`: serve the stand-in until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .api import DEFAULT_TOKEN, Gateway
from .state import FAULT_NAMES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ardaemon.gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--token", default=DEFAULT_TOKEN, help=f"accepted token (default {DEFAULT_TOKEN})"
    )
    auth.add_argument("--any-token", action="store_true", help="accept any non-empty token")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between SSE chunks")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=sorted(FAULT_NAMES),
        metavar="NAME",
        help="answer every request with this fault, e.g. unauthorized_client (refuse the client "
        "as AgentRouter does) or rate_limit; repeatable",
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    gateway = Gateway(
        None if args.any_token else args.token,
        host=args.host,
        port=args.port,
        latency=args.latency,
        chunk_delay=args.chunk_delay,
    ).start()
    for name in args.fault:
        gateway.set_fault(name)
    try:
        sys.stdout.write(f"ardaemon-gateway listening on {gateway.base_url}\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
