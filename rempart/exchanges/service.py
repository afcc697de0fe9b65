"""Exchange sources and their sync: configure, list, and fetch incrementally from a checkpoint.

A sync fetches one page at a time outside any transaction, then applies the page and moves the
checkpoint in ONE transaction (``apply_batch`` + a conditional UPDATE of the checkpoint's
``version``): a crash or a network failure at any point leaves the checkpoint with exactly the
pages applied before it, so the next sync goes on from there, with no duplicate and no gap. Two
syncs of one source at once cannot both apply a page: the second one's UPDATE finds the version
moved and its page is rolled back (``Conflict``).

The entries a sync adds (or lets match again) are retro-scanned in the background, by one
retro-scan job per sync (``rempart.banks.retro_jobs.hold``) that each page widens in its own
transaction, handed to the runners when the sync ends: a sync never re-reads the scan ledger
page after page, and a sync killed half-way leaves a job that a runner takes over. A run whose
process died stays "running" in the database with its heartbeat stopped; after
``STALE_SECONDS`` it is shown as "interrupted", and the next sync records it so (and goes on from
the checkpoint).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from rempart.banks import retro_jobs
from rempart.banks import service as banks
from rempart.banks.models import Bank, BankChange
from rempart.errors import Conflict, InvalidInput, NotFound, RempartError, shown
from rempart.exchanges import credentials
from rempart.exchanges.apply import apply_batch, live_counts
from rempart.exchanges.models import (
    Exchange, ExchangeCheckpoint, ExchangeError, ExchangeRun,
)
from rempart.exchanges.protocols import Wire
from rempart.exchanges.protocols.feed import RempartWire
from rempart.exchanges.protocols.ncmec import NcmecWire
from rempart.exchanges.protocols.stopncii import StopNciiWire
from rempart.exchanges.protocols.threatexchange import ThreatExchangeWire
from rempart.exchanges.transport import RetryPolicy, Transport
from rempart.exchanges.vocab import KINDS, NAME
from rempart.store.db import Database, utcnow

#: the official endpoints, used when ``--url`` is not given
DEFAULT_URLS = {
    "ncmec": "https://report.cybertip.org/hashsharing",
    "threatexchange": "https://graph.facebook.com/v21.0",
    "stopncii": "https://api.stopncii.org",
}
MAX_ERRORS_KEPT = 1000
#: a running sync writes its heartbeat every page: one quiet this long has stopped (killed,
#: crashed), as a retro-scan runner is taken over after the same time
STALE_SECONDS = retro_jobs.STALE_SECONDS
INTERRUPTED = "interrupted"


def wire_for(exchange: Exchange, credential: str) -> Wire:
    options = exchange.options or {}
    if exchange.kind == "ncmec":
        return NcmecWire(options)
    if exchange.kind == "threatexchange":
        return ThreatExchangeWire(options)
    if exchange.kind == "stopncii":
        return StopNciiWire(options)
    return RempartWire(options, credential)


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInput(f"{shown(url)} is not a base URL (http or https, no query)")
    return url.rstrip("/")


def add_exchange(session: Session, home: Path, name: str, *, kind: str, bank: str,
                 url: str | None = None, credential_ref: str = "", store: str | None = None,
                 options: dict | None = None, interval_seconds: float = 900.0) -> Exchange:
    """Configure a source. ``credential_ref`` is a reference (``credentials.reference``);
    ``store`` a credential to keep encrypted instead. The bank is created when missing."""
    if not NAME.match(name or ""):
        raise InvalidInput(f"invalid exchange name {shown(name)}: lowercase letters, digits and _ . : -")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {shown(kind)}")
    if interval_seconds < 10:
        raise InvalidInput("the sync interval must be at least 10 seconds")
    if kind == "rempart" and not url:
        raise InvalidInput("a rempart source needs --url (the partner's base URL)")
    if kind == "rempart" and not (credential_ref or store):
        raise InvalidInput("a rempart source needs --key-file (the key the partner gave you)")
    base = _check_url(url or DEFAULT_URLS[kind])
    if session.scalar(select(Exchange.id).where(Exchange.name == name)) is not None:
        raise Conflict(f"exchange {shown(name)} already exists")
    ex = Exchange(name=name, kind=kind, url=base, options=dict(options or {}),
                  interval_seconds=interval_seconds, credential_ref=credential_ref)
    wire_for(ex, "")  # checks the options (e.g. ThreatExchange's privacy group)
    target = banks.ensure_bank(session, bank, source=kind if kind != "rempart" else f"rempart:{name}"[:100])
    ex.bank_id = target.id
    if store is not None:
        ex.credential_ref, ex.credential_enc = "stored", credentials.encrypt(home, store)
    session.add(ex)
    session.flush()
    session.add(ExchangeCheckpoint(exchange_id=ex.id, state={}, version=0))
    return ex


def get_exchange(session: Session, name: str) -> Exchange:
    ex = session.scalar(select(Exchange).where(Exchange.name == name))
    if ex is None:
        raise NotFound("exchange", name)
    return ex


@dataclass(frozen=True)
class Listed:
    name: str
    kind: str
    bank: str
    url: str
    credential: str
    enabled: bool
    interval_seconds: float
    checkpoint: dict
    last_sync_at: str | None
    last_success_at: str | None
    last_error: str | None
    live_records: int
    withdrawn_records: int
    errors: int
    last_run: dict | None

    def to_json(self) -> dict:
        return dict(self.__dict__)


def list_exchanges(session: Session) -> list[Listed]:
    counts = live_counts(session)
    out = []
    for ex, bank_name in session.execute(select(Exchange, Bank.name).join(Bank, Bank.id == Exchange.bank_id)
                                         .order_by(Exchange.name)):
        cp = session.get(ExchangeCheckpoint, ex.id)
        run = session.scalar(select(ExchangeRun).where(ExchangeRun.exchange_id == ex.id)
                             .order_by(ExchangeRun.id.desc()).limit(1))
        errors = len(session.scalars(select(ExchangeError.id).where(ExchangeError.exchange_id == ex.id)
                                     .limit(MAX_ERRORS_KEPT)).all())
        live, withdrawn = counts.get(ex.id, (0, 0))
        out.append(Listed(
            ex.name, ex.kind, bank_name, ex.url, credentials.describe(ex.credential_ref), ex.enabled,
            ex.interval_seconds, dict(cp.state) if cp else {},
            _iso(ex.last_sync_at), _iso(ex.last_success_at), ex.last_error, live, withdrawn, errors,
            None if run is None else {
                "status": run_status(run), "started_at": _iso(run.started_at), "pages": run.pages,
                "added": run.added, "updated": run.updated, "deleted": run.deleted,
                "skipped": run.skipped, "error": run.error}))
    return out


def _stale_before() -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=STALE_SECONDS)


def run_status(run: ExchangeRun) -> str:
    """A run's status, "interrupted" for a "running" one whose heartbeat stopped."""
    beat = run.heartbeat_at or run.started_at
    if run.status == "running" and beat < _stale_before():
        return INTERRUPTED
    return run.status


def _close_stale_runs(session: Session, ex_id: int) -> None:
    session.execute(
        update(ExchangeRun)
        .where(ExchangeRun.exchange_id == ex_id, ExchangeRun.status == "running",
               func.coalesce(ExchangeRun.heartbeat_at, ExchangeRun.started_at) < _stale_before())
        .values(status=INTERRUPTED, finished_at=utcnow(),
                error=f"the sync stopped (no page for {STALE_SECONDS:.0f} s); the next sync "
                      "went on from the checkpoint")
        .execution_options(synchronize_session=False))


def recent_errors(session: Session, name: str, limit: int = 20) -> list[dict]:
    ex = get_exchange(session, name)
    rows = session.scalars(select(ExchangeError).where(ExchangeError.exchange_id == ex.id)
                           .order_by(ExchangeError.id.desc()).limit(limit))
    return [{"at": _iso(e.at), "upstream_id": e.upstream_id, "reason": e.reason} for e in rows]


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


# -- sync -----------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    name: str
    status: str = "ok"
    pages: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    retries: list[str] = field(default_factory=list)
    error: str | None = None
    #: the background retro-scan job of the entries this sync added, handed to the runners
    retro_job: int | None = None

    def to_json(self) -> dict:
        out = dict(self.__dict__)
        out["retries"] = len(self.retries)
        return out


@dataclass(frozen=True)
class SyncOptions:
    policy: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    #: stop after this many pages (the checkpoint says where the next sync goes on)
    max_pages: int | None = None
    #: called after each applied page with the running result
    on_page: Callable[[SyncResult], None] | None = None
    #: after each page, rest this fraction of the time the page took (0: full speed): a sync
    #: in a serving process leaves the scans CPU and the database (``rempart serve``: 1.0)
    rest: float = 0.0


def sync_exchange(db: Database, home: Path, name: str, read_secret: Callable[[str], str | None],
                  options: SyncOptions = SyncOptions()) -> SyncResult:
    """Sync one source until it is caught up (or ``max_pages``); see the module doc."""
    with db.session() as s:
        ex = get_exchange(s, name)
        credential = credentials.resolve(home, ex.credential_ref, ex.credential_enc, read_secret)
        ex_id, kind, url = ex.id, ex.kind, ex.url
        _close_stale_runs(s, ex_id)
        run = ExchangeRun(exchange_id=ex_id, heartbeat_at=utcnow())
        s.add(run)
        s.flush()
        run_id = run.id
        ex.last_sync_at = utcnow()
        wire = wire_for(ex, credential)
    result = SyncResult(name)
    held: list[retro_jobs.Held] = []  # the retro-scan job this sync holds, once it adds entries
    try:
        with Transport(url, kind, credential, policy=options.policy, sleep=options.sleep) as http:
            try:
                while options.max_pages is None or result.pages < options.max_pages:
                    with db.session() as s:
                        cp = s.get(ExchangeCheckpoint, ex_id)
                        state, version = dict(cp.state or {}), cp.version
                    started = time.perf_counter()
                    page = http.fetch_page(wire, state, int(options.clock()))
                    _apply_page(db, ex_id, run_id, version, page, result, held)
                    if options.on_page:
                        options.on_page(result)
                    if page.done:
                        break
                    if options.rest > 0:
                        options.sleep(options.rest * (time.perf_counter() - started))
            finally:
                result.retries = list(http.retries)
    except RempartError as exc:
        result.status, result.error = "failed", str(exc)[:500]
    with db.session() as s:
        if held and retro_jobs.release(s, held[0]):
            result.retro_job = held[0][0]
        run = s.get(ExchangeRun, run_id)
        run.status, run.error, run.finished_at = result.status, result.error, utcnow()
        ex = s.get(Exchange, ex_id)
        ex.last_error = result.error
        if result.status == "ok":
            ex.last_success_at = utcnow()
    return result


def _apply_page(db: Database, ex_id: int, run_id: int, version: int, page, result: SyncResult,
                held: list[retro_jobs.Held]) -> None:
    with db.session() as s:
        moved = s.execute(
            update(ExchangeCheckpoint)
            .where(ExchangeCheckpoint.exchange_id == ex_id, ExchangeCheckpoint.version == version)
            .values(state=page.checkpoint, version=version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise Conflict("another sync of this exchange moved its checkpoint; this page was not applied")
        ex = s.get(Exchange, ex_id)
        bank = s.get(Bank, ex.bank_id)
        seq_before = s.scalar(select(func.coalesce(func.max(BankChange.seq), 0)))
        applied = apply_batch(s, ex, bank, page.records)
        holding = list(held)
        if applied.new_entries:
            seq_after = s.scalar(select(func.max(BankChange.seq)))
            holding = [retro_jobs.hold(s, bank, seq_before + 1, seq_after, applied.new_entries,
                                       held[0] if held else None)]
        rejected = list(page.rejected) + applied.rejected
        for r in rejected:
            s.add(ExchangeError(exchange_id=ex_id, run_id=run_id, upstream_id=r.upstream_id[:200],
                                reason=r.reason[:500]))
        run = s.get(ExchangeRun, run_id)
        run.heartbeat_at = utcnow()
        if run.pages and not run.pages & (run.pages - 1):  # after pages 1, 2, 4, 8...: as the tables double
            _refresh_statistics(s)
        run.pages += 1
        run.added += applied.added
        run.updated += applied.updated
        run.deleted += applied.deleted
        run.skipped += len(rejected)
    result.pages += 1
    result.added += applied.added
    result.updated += applied.updated
    result.deleted += applied.deleted
    result.skipped += len(rejected)
    held[:] = holding  # committed: the job now holds this page's entries


def _refresh_statistics(session: Session) -> None:
    """PostgreSQL plans a page's lookups from its table statistics: with statistics from before a
    big sync (autovacuum off or behind) it looks each page's hashes up by reading the whole bank
    (measured: 318 -> 61 entries/s between 20,000 and 40,000 entries), so the sync refreshes
    them as it doubles the tables. SQLite's plans do not depend on them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE bank_entries, bank_changes, exchange_entries"))


def due_exchanges(session: Session) -> list[str]:
    """The enabled sources whose interval has passed since their last sync (or never synced)."""
    now = utcnow()
    return [ex.name for ex in session.scalars(select(Exchange).where(Exchange.enabled.is_(True))
                                              .order_by(Exchange.name))
            if ex.last_sync_at is None or (now - ex.last_sync_at).total_seconds() >= ex.interval_seconds]
