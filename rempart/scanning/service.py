"""The upload path: content -> signals -> matches -> verdict, recorded in the scan ledger."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, cast, func, insert, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from rempart.errors import InvalidInput
from rempart.matching.matcher import Match, Matcher, MatchResult
from rempart.scanning.models import ItemMatch, ItemSignal, ScannedItem
from rempart.scanning.signals import SignalRow, query_from_rows
from rempart.scanning.verdict import verdict_for
from rempart.signals import Fingerprint
from rempart.store.db import utcnow

CONTEXT_MAX = 200


@dataclass(frozen=True)
class ScanContext:
    """Where the content appeared on the platform (opaque platform identifiers)."""

    account: str | None = None
    space: str | None = None  # group, channel, album...
    message: str | None = None
    uploaded_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        for name in ("account", "space", "message"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > CONTEXT_MAX):
                raise InvalidInput(f"{name} must be a string of at most {CONTEXT_MAX} characters")


@dataclass(frozen=True)
class ScanOutcome:
    item_id: int
    verdict: str
    result: MatchResult
    fingerprint: Fingerprint | None = None
    rows: Sequence[SignalRow] = field(default_factory=tuple)
    #: entry id -> where the entry came from (``item_matches.detail["exchange"]``, written by an
    #: after-scan hook of ``rempart.exchanges``)
    provenance: Mapping[int, dict] = field(default_factory=dict)

    def match_json(self) -> list[dict]:
        return [match_json(m, self.provenance.get(m.entry_id)) for m in self.result.matches]


def answer_json(outcome: ScanOutcome) -> dict:
    """The answer to a scan, as ``POST /v1/scan`` gives it and a scan request keeps it."""
    body = {"item": outcome.item_id, "verdict": outcome.verdict, "matches": outcome.match_json()}
    if outcome.fingerprint is not None:
        fp = outcome.fingerprint
        body["media"] = {"kind": fp.kind, "format": fp.format, "width": fp.width,
                         "height": fp.height, "sha256": fp.sha256}
    return body


def match_json(m: Match, provenance: Mapping | None = None) -> dict:
    out = {"bank": m.bank, "entry": m.entry_id, "signal": m.signal, "distance": m.distance,
           "variant": m.variant, "action": m.action}
    if m.low_quality:
        out["low_quality"] = True
    if m.detail:
        out["detail"] = m.detail
    if m.evidence:
        out.update(m.evidence)
    if provenance:
        out["exchange"] = dict(provenance)
    return out


#: a scan that matched nothing is written in one statement up to this many signal rows (a long
#: video's frames go through the ORM, in batches)
ONE_STATEMENT_ROWS = 500
#: what the ledger keeps of each signal row (``ItemSignal``'s columns beside its item)
SIGNAL_COLUMNS = ("signal_type", "value", "variant", "t", "quality")


def matched_anything(result: MatchResult) -> bool:
    """Whether a scan matched any entry (counted, cancelled by a safelist, or safelist): what
    follows from a scan (``AfterScan`` hooks) follows only from a match."""
    return bool(result.matches or result.cancelled or result.safelisted)


def in_one_statement(dialect: str, result: MatchResult, rows: Sequence[SignalRow]) -> bool:
    """Whether ``record_scan`` writes this scan in one statement (then it needs no transaction
    of its own): on PostgreSQL, a scan that matched nothing, of at most ``ONE_STATEMENT_ROWS``
    signal rows."""
    return (dialect == "postgresql" and not matched_anything(result)
            and len(rows) <= ONE_STATEMENT_ROWS)


def record_scan(session: Session, *, rows: Sequence[SignalRow], kind: str | None,
                context: ScanContext, result: MatchResult, source: str,
                media_format: str | None = None, size_bytes: int | None = None) -> ScannedItem:
    """Write one scanned item, its signals and its matches to the ledger. On PostgreSQL a scan
    that matched nothing is one statement (the item and its signals: one round trip, which
    commits by itself on a session without a transaction); the item returned then is not in
    the session (nothing follows from it)."""
    values = dict(scanned_at=utcnow(), account=context.account, space=context.space,
                  message=context.message, uploaded_at=context.uploaded_at, source=source,
                  kind=kind, media_format=media_format, size_bytes=size_bytes,
                  verdict=verdict_for(result.matches))
    signals = [{k: getattr(r, k) for k in SIGNAL_COLUMNS} for r in rows]
    item = ScannedItem(**values)
    if in_one_statement(session.get_bind().dialect.name, result, rows):
        item.id = session.execute(_insert_item(),
                                  _insert_item_params(values, signals)).scalar_one()
        return item
    item.signals = [ItemSignal(**v) for v in signals]
    item.matches = list(_match_rows(result, found_by="upload"))
    session.add(item)
    session.flush()
    return item


@functools.cache
def _insert_item():
    """One statement of one shape for an item and its signals (the signals' columns as arrays,
    so that the statement compiles once): ``WITH item AS (INSERT INTO scanned_items ...
    RETURNING id), signals AS (INSERT INTO item_signals SELECT item.id, s.* FROM item JOIN
    unnest(...) WITH ORDINALITY s ON true ORDER BY s.n) SELECT id FROM item``."""
    columns = [c.key for c in ScannedItem.__table__.columns if not c.primary_key]
    item = (insert(ScannedItem).values({k: bindparam(k) for k in columns})
            .returning(ScannedItem.id).cte("item"))
    table = ItemSignal.__table__
    rows = func.unnest(*(cast(bindparam(f"signal_{k}"), ARRAY(table.c[k].type))
                         for k in SIGNAL_COLUMNS)).table_valued(
        *SIGNAL_COLUMNS, with_ordinality="n").render_derived()
    signals = insert(ItemSignal).from_select(
        ["item_id", *SIGNAL_COLUMNS],
        select(item.c.id, *(rows.c[k] for k in SIGNAL_COLUMNS)).select_from(item.join(rows, true()))
        .order_by(rows.c.n))
    return select(item.c.id).add_cte(signals.cte("signals"))


def _insert_item_params(values: dict, signals: list[dict]) -> dict:
    return {**values, **{f"signal_{k}": [v[k] for v in signals] for k in SIGNAL_COLUMNS}}


def _match_rows(result: MatchResult, found_by: str) -> Iterable[ItemMatch]:
    for status, matches in (("counted", result.matches), ("cancelled", result.cancelled),
                            ("safelist", result.safelisted)):
        for m in matches:
            yield ItemMatch(entry_id=m.entry_id, bank_id=m.bank_id, signal_type=m.signal,
                            distance=m.distance, variant=m.variant[:64], low_quality=m.low_quality,
                            status=status, found_by=found_by,
                            detail=_detail(m))


def _detail(m: Match) -> dict:
    """What the ledger keeps of a match's explanation (the case page outlines ``region``)."""
    out: dict = {"detail": m.detail} if m.detail else {}
    if m.evidence:
        out.update(m.evidence)
    return out


#: Called after a scan that matched something (``matched_anything``) is recorded, inside the
#: same transaction, so that what follows from a verdict (a case for review, a transparency-log
#: leaf for a block) is committed with it or not at all. Signature: hook(session, item, result).
#: A scan that matched nothing calls no hook (on PostgreSQL it may run outside a transaction).
AfterScan = Callable[[Session, ScannedItem, MatchResult], None]


def match_rows(matcher: Matcher, rows: Sequence[SignalRow], *, kind: str | None,
               fp: Fingerprint | None = None,
               timings: dict[str, float] | None = None) -> MatchResult:
    """Match prepared signal rows (the matcher must be in sync already); ``timings``, when
    given, gains the seconds spent (``match``)."""
    start = time.perf_counter()
    result = matcher.match(query_from_rows(rows, kind, fp), utcnow())
    if timings is not None:
        timings["match"] = timings.get("match", 0.0) + time.perf_counter() - start
    return result


def record_rows(session: Session, result: MatchResult, rows: Sequence[SignalRow], *,
                kind: str | None, context: ScanContext, source: str,
                fp: Fingerprint | None = None, size_bytes: int | None = None,
                after: Sequence[AfterScan] = (),
                timings: dict[str, float] | None = None) -> ScanOutcome:
    """Record a matched scan and run what follows from it (``after``, when it matched
    something). ``timings``, when given, gains the seconds spent writing (``write``: the
    ledger and the hooks, up to the flush; the commit is the caller's, or the statement's own
    on a session without a transaction)."""
    start = time.perf_counter()
    item = record_scan(session, rows=rows, kind=kind, context=context, result=result,
                       source=source, media_format=fp.format if fp else None,
                       size_bytes=size_bytes)
    provenance = {}
    if matched_anything(result):
        for hook in after:
            hook(session, item, result)
        provenance = {m.entry_id: m.detail["exchange"] for m in item.matches
                      if isinstance(m.detail, dict) and "exchange" in m.detail}
    if timings is not None:
        timings["write"] = timings.get("write", 0.0) + time.perf_counter() - start
    return ScanOutcome(item.id, item.verdict, result, fp, rows, provenance)


def scan_rows(session: Session, matcher: Matcher, rows: Sequence[SignalRow], *, kind: str | None,
              context: ScanContext, source: str, fp: Fingerprint | None = None,
              size_bytes: int | None = None, after: Sequence[AfterScan] = (),
              timings: dict[str, float] | None = None) -> ScanOutcome:
    """Match prepared signal rows and record the scan, in ``session`` (``match_rows``, then
    ``record_rows``)."""
    result = match_rows(matcher, rows, kind=kind, fp=fp, timings=timings)
    return record_rows(session, result, rows, kind=kind, context=context, source=source, fp=fp,
                       size_bytes=size_bytes, after=after, timings=timings)
