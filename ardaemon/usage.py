"""The usage ledger: one JSON line per upstream request, in the state dir.

What is kept: time, provider, model, wire format, purpose, tokens as the response reported
them (or `unknown`: never guessed), cost when known, latency and outcome. Never a prompt,
never code.

Why JSON lines and one `write()` per record on an `O_APPEND` descriptor: several daemons
(one per editor window) append to the same file; each record lands whole and in one
piece, without a lock. A crash can at worst leave a torn last line, which readers skip.
The file is rotated by size (renamed aside, a rename is atomic) and rotated files older
than `KEEP_DAYS` are deleted, so the ledger stays bounded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from .protocol import UsageGroup, UsageResult

if TYPE_CHECKING:
    from .router import Route
    from .settings import Settings
    from .wire import LlmRequest, LlmResult

log = logging.getLogger(__name__)

FILE = "usage.jsonl"
MAX_BYTES = 1 << 20
KEEP_DAYS = 90

GroupBy = Literal["model", "day", "purpose"]


class Record(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    ts: float
    provider: str
    model: str
    api: str
    purpose: str
    #: "ok", or the error's kind ("rate_limited", "auth", …, "cancelled").
    outcome: str
    latency_ms: int
    #: `None` when the response carried no usage: counted as unknown, never estimated.
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    #: Where the cost came from: "header" (the gateway said) or "prices" (tokens × price).
    cost_source: str | None = None
    #: The model first asked, when a fallback answered instead.
    fallback_from: str | None = None

    @property
    def tokens(self) -> int:
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    @property
    def usage_known(self) -> bool:
        return self.input_tokens is not None or self.output_tokens is not None


def _empty(key: str) -> UsageGroup:
    return UsageGroup(
        key=key,
        requests=0,
        failed=0,
        input_tokens=0,
        output_tokens=0,
        unknown_usage=0,
        cost=None,
        cost_unknown=0,
    )


def _add(group: UsageGroup, r: Record) -> None:
    group.requests += 1
    if r.outcome != "ok":
        group.failed += 1
        return
    if not r.usage_known:
        group.unknown_usage += 1  # reached the model, reported nothing: never estimated
    group.input_tokens += r.input_tokens or 0
    group.output_tokens += r.output_tokens or 0
    if r.cost is None:
        group.cost_unknown += 1
    else:
        group.cost = (group.cost or 0.0) + r.cost


# --- writing --------------------------------------------------------------------------


@dataclass
class Ledger:
    state_dir: Path
    max_bytes: int = MAX_BYTES
    keep_days: float = KEEP_DAYS
    #: Running total of today's tokens (this file, all writers), read incrementally.
    _tail: _Tail = field(default_factory=lambda: _Tail())

    @property
    def path(self) -> Path:
        return self.state_dir / FILE

    def append(self, record: Record) -> None:
        """One whole line or nothing; a full disk loses the record, never the daemon."""
        line = msgspec.json.encode(record) + b"\n"
        try:
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
            try:
                fd = os.open(self.path, flags, 0o600)
            except FileNotFoundError:  # the first record (or the state dir was removed)
                self.state_dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, flags, 0o600)
            try:
                end = os.fstat(fd).st_size
                if end:
                    # A crash mid-write left a torn last line: end it, or it would swallow
                    # this record too. (Appends go to the end whatever the seek position.)
                    os.lseek(fd, end - 1, os.SEEK_SET)
                    if os.read(fd, 1) != b"\n":
                        line = b"\n" + line
                os.write(fd, line)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > self.max_bytes:
                self._rotate()
        except OSError as exc:
            log.warning("could not write the usage ledger (%s)", exc.strerror)

    def _rotate(self) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.state_dir / f"usage-{stamp}-{os.getpid()}-{time.monotonic_ns()}.jsonl"
        # Another daemon may have rotated it a moment ago: then there is nothing to move.
        with contextlib.suppress(FileNotFoundError):
            os.rename(self.path, aside)
        cutoff = time.time() - self.keep_days * 86400
        for old in self.state_dir.glob("usage-*.jsonl"):
            with contextlib.suppress(OSError):
                if old.stat().st_mtime < cutoff:
                    old.unlink()

    def tokens_today(self) -> int:
        """Tokens recorded today by every daemon writing this ledger (incremental read)."""
        return self._tail.tokens_today(self.path)


@dataclass
class _Tail:
    day: str = ""
    inode: int = -1
    offset: int = 0
    total: int = 0
    rest: bytes = b""

    def tokens_today(self, path: Path) -> int:
        today = datetime.now().strftime("%Y-%m-%d")
        try:
            st = path.stat()
        except OSError:
            return self.total if self.day == today else 0
        if today != self.day or st.st_ino != self.inode or st.st_size < self.offset:
            # New day, or a rotation moved today's earlier records aside: count those
            # once, then follow the live file from its start.
            self.day, self.inode, self.offset, self.rest = today, st.st_ino, 0, b""
            self.total = sum(r.tokens for r in read_records(rotated(path.parent), _midnight()))
        try:
            with path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return self.total
        self.offset += len(chunk)
        data = self.rest + chunk
        lines = data.split(b"\n")
        self.rest = lines.pop()
        midnight = _midnight()
        for r in _decode(lines):
            if r.ts >= midnight:
                self.total += r.tokens
        return self.total


# --- reading --------------------------------------------------------------------------


def rotated(state_dir: Path) -> list[Path]:
    return sorted(state_dir.glob("usage-*.jsonl"))


def ledger_files(state_dir: Path) -> list[Path]:
    return [*rotated(state_dir), state_dir / FILE]


_LINE = msgspec.json.Decoder(Record)
_ALL = msgspec.json.Decoder(list[Record])


def _decode(lines: Iterable[bytes]) -> Iterator[Record]:
    kept = [line for line in lines if line.strip()]
    try:
        # One decode for the whole file is ~10x faster than a decode per line.
        yield from _ALL.decode(b"[" + b",".join(kept) + b"]")
        return
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    for line in kept:
        try:
            yield _LINE.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # a torn line from a crash, or a future format: skip, never fail


def read_records(files: Iterable[Path], since: float = 0.0) -> Iterator[Record]:
    for path in files:
        try:
            if path.stat().st_mtime < since:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        for r in _decode(data.split(b"\n")):
            if r.ts >= since:
                yield r


def _midnight(now: datetime | None = None, days_before: int = 0) -> float:
    """The local midnight starting `now`'s day, or a day `days_before` it (by the
    calendar: across a daylight-saving change a day is not 86,400 s)."""
    day = (now or datetime.now()).date() - timedelta(days=days_before)
    return datetime(day.year, day.month, day.day).timestamp()


def parse_since(text: str | None, now: datetime | None = None) -> tuple[float, str]:
    """`today` (default), `Nd`, `Nh` or an ISO date/time → (epoch, label)."""
    now = now or datetime.now()
    text = (text or "today").strip()
    if text == "today":
        return _midnight(now), "today"
    if text[:-1].isdigit() and text[-1:] in ("d", "h"):
        n = int(text[:-1])
        if text.endswith("d"):
            # `7d` = today and the six days before it, whole days as people count them.
            return _midnight(now, max(n - 1, 0)), text
        return (now - timedelta(hours=n)).timestamp(), text
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"cannot read since '{text}': use today, 7d, 12h or a date like 2026-01-31"
        ) from None
    return when.timestamp(), text


def _key(r: Record, by: GroupBy) -> str:
    if by == "day":
        return datetime.fromtimestamp(r.ts).strftime("%Y-%m-%d")
    if by == "purpose":
        return r.purpose
    return f"{r.provider}:{r.model}"


def summarize(
    state_dir: Path,
    since: str | None = None,
    by: GroupBy = "model",
    daily_token_warning: int | None = None,
    now: datetime | None = None,
) -> UsageResult:
    """Totals and groups since a time, over every ledger file (rotated ones too)."""
    start, label = parse_since(since, now)
    midnight = _midnight(now)
    total, today = _empty("total"), 0
    groups: dict[str, UsageGroup] = {}
    for r in read_records(ledger_files(state_dir), min(start, midnight)):
        if r.ts >= midnight:
            today += r.tokens
        if r.ts < start:
            continue
        _add(total, r)
        key = _key(r, by)
        _add(groups.setdefault(key, _empty(key)), r)
    ordered = sorted(groups.values(), key=lambda g: g.key if by == "day" else -g.requests)
    return UsageResult(
        since=label,
        by=by,
        total=total,
        groups=ordered,
        today_tokens=today,
        daily_token_warning=daily_token_warning,
        ledger=str(state_dir / FILE),
    )


# --- cost -----------------------------------------------------------------------------


def cost_of(
    input_tokens: int | None,
    output_tokens: int | None,
    header_cost: float | None,
    price: tuple[float, float] | None,
) -> tuple[float | None, str | None]:
    """(cost, source): the gateway's own figure wins; else tokens × a known per-token price."""
    if header_cost is not None:
        return header_cost, "header"
    if price is None or (input_tokens is None and output_tokens is None):
        return None, None
    return (input_tokens or 0) * price[0] + (output_tokens or 0) * price[1], "prices"


# --- metering the daemon's requests ---------------------------------------------------


class Meter:
    """Writes one record per upstream attempt and warns once a day past the budget."""

    def __init__(
        self,
        ledger: Ledger,
        catalog_price: Callable[[str, str], tuple[float, float] | None],
        warn: Callable[[str], None],
    ) -> None:
        self.ledger = ledger
        #: (provider, model) → per-token prices from the cached catalog, if it has them.
        self._catalog_price = catalog_price
        self._warn = warn
        self._warned: date | None = None

    def record(
        self,
        to: Route,
        req: LlmRequest,
        started: float,
        settings: Settings,
        *,
        outcome: str = "ok",
        result: LlmResult | None = None,
        fallback_from: str | None = None,
    ) -> None:
        reported = result.usage if result is not None else None
        tokens_in = reported.input_tokens if reported else None
        tokens_out = reported.output_tokens if reported else None
        configured = settings.prices.get(to.model)
        price = (
            (configured.input / 1e6, configured.output / 1e6)
            if configured is not None
            else self._catalog_price(to.provider.name, to.model)
        )
        cost, source = cost_of(
            tokens_in, tokens_out, result.cost if result is not None else None, price
        )
        self.ledger.append(
            Record(
                ts=time.time(),
                provider=to.provider.name,
                model=req.model,
                api=to.fim or to.api,
                purpose=req.purpose,
                outcome=outcome,
                latency_ms=round((time.perf_counter() - started) * 1000),
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost=cost,
                cost_source=source,
                fallback_from=fallback_from,
            )
        )
        if reported is not None:
            self._check_budget(settings.usage.daily_token_warning)

    def _check_budget(self, limit: int | None) -> None:
        if not limit or self._warned == date.today():
            return
        today = self.ledger.tokens_today()
        if today < limit:
            return
        self._warned = date.today()
        self._warn(
            f"today's usage is {today:,} tokens, past your usage.dailyTokenWarning of "
            f"{limit:,} (`ardaemon usage` shows where they went)."
        )
