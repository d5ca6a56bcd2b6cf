"""`ardaemon usage`: tokens and cost from the usage ledger, grouped as asked."""

from __future__ import annotations

import argparse
import sys

from ..protocol import UsageGroup, encode
from . import ui
from .common import UsageError, for_terminal, make_service


def usage(args: argparse.Namespace) -> int:
    from .. import errors

    service, _ = make_service(args, quiet=args.json)
    try:
        result = service.usage(args.since, args.by)
    except errors.InvalidParams as exc:
        raise UsageError(for_terminal(exc)) from None
    if args.json:
        ui.print_json(encode(result))
        return 0
    style = ui.Style(sys.stdout)
    if not result.total.requests:
        ui.out(f"No requests recorded since {result.since}.")
        ui.err(ui.Style(sys.stderr).dim(f"ledger: {result.ledger}"))
        return 0
    rows = [_row(g) for g in result.groups]
    rows.append(_row(result.total))
    heads = [args.by.upper(), "REQUESTS", "FAILED", "INPUT", "OUTPUT", "COST"]
    ui.out(ui.table(heads, rows, style))
    unknown = result.total.unknown_usage
    if unknown:
        ui.out(
            f"{unknown} answered request(s) reported no token counts: counted as unknown, "
            "not estimated."
        )
    if result.daily_token_warning:
        ui.out(f"today: {result.today_tokens:,} of {result.daily_token_warning:,} tokens")
    ui.err(ui.Style(sys.stderr).dim(f"since {result.since}; ledger: {result.ledger}"))
    return 0


def _row(g: UsageGroup) -> list[str]:
    if g.cost is None:
        cost = "unknown"
    else:
        cost = f"${g.cost:.4f}" + (f" (+{g.cost_unknown} unpriced)" if g.cost_unknown else "")
    return [
        g.key,
        str(g.requests),
        str(g.failed),
        f"{g.input_tokens:,}",
        f"{g.output_tokens:,}",
        cost,
    ]
