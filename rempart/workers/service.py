"""Scan requests in the database: submitted by an API node, done by a worker exactly once.

``submit_request`` writes the queued row (before the event is published); ``process`` is what a
worker does with one event, delivered once or many times, by one worker or two at once:

1. a row that is no longer ``queued`` means the event took effect already: nothing to do;
2. the media is fingerprinted outside any transaction (bad input marks the request ``failed``);
3. one transaction: the conditional ``UPDATE ... SET status = 'done' WHERE status = 'queued'``
   first (a concurrent duplicate blocks on that row, then finds it done and rolls back), then the
   scan exactly as the synchronous path writes it (ledger row, signals, matches, the after-scan
   hooks: case, log leaf), the answer kept on the request, and for an asynchronous scan its
   webhook (idempotency key ``scan:<scan_id>``).

So ledger rows, cases, log leaves and webhooks follow from the event once, whatever the delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rempart.errors import InvalidInput, MediaLimitExceeded, NotFound, RempartError
from rempart.moderation.outbox import enqueue
from rempart.observe import metrics
from rempart.scanning.service import ScanContext, scan_rows
from rempart.scanning.signals import rows_from_signals, signal_rows
from rempart.store.db import insert_missing, utcnow
from rempart.workers.events import ScanEvent, is_scan_id, parse_uploaded_at
from rempart.workers.models import ScanRequest

#: the webhook events of asynchronous scans
COMPLETED, FAILED = "scan.completed", "scan.failed"


class ScanFailed(RempartError):
    """A scan that a worker refused (bad media), replayed to the API caller who waited for it."""

    safe_to_show = True

    def __init__(self, problem: dict) -> None:
        super().__init__(problem.get("title", "the scan failed"))
        self.status = int(problem.get("status", 400))
        self.type = str(problem.get("type", "invalid-input"))
        if "limit" in problem:
            self.limit = problem["limit"]


class _AlreadyDone(Exception):
    pass


@dataclass(frozen=True)
class Processed:
    status: str  # done | failed | duplicate
    verdict: str | None = None


def submit_request(session: Session, event: ScanEvent) -> None:
    session.add(ScanRequest(id=event.scan_id, mode=event.mode, source=event.source,
                            status="queued", submitted_at=utcnow(), result={}, attempts=0))


def get_request(session: Session, scan_id: str) -> ScanRequest:
    request = session.get(ScanRequest, scan_id) if is_scan_id(scan_id) else None
    if request is None:
        raise NotFound("scan", scan_id)
    return request


def status_json(request: ScanRequest) -> dict:
    """``GET /v1/scans/{scan_id}``: the status, and the scan's answer or problem once known."""
    body = {"scan_id": request.id, "status": request.status, "mode": request.mode}
    if request.status == "done":
        body["result"] = request.result
    elif request.status == "failed":
        body["problem"] = request.result
    return body


def problem_of(exc: RempartError) -> dict:
    problem = {"type": exc.type, "title": str(exc), "status": exc.status}
    if isinstance(exc, MediaLimitExceeded):
        problem["limit"] = exc.limit
    return problem


def process(rt, event: ScanEvent, media: bytes, *,
            answer: Callable[[object], dict]) -> Processed:
    """Take one event to its effects, once (see the module docstring). ``rt``: the runtime
    (database, limits, replica, hooks, evidence store); ``answer``: the scan's JSON answer.
    Raises ``Overloaded`` when the decode budget stayed spent (the event is delivered again)."""
    with rt.db.session() as s:
        request = s.get(ScanRequest, event.scan_id)
        if request is None:  # published by a node whose own commit was lost: adopt the event
            insert_missing(s, ScanRequest, id=event.scan_id, mode=event.mode,
                           source=event.source, status="queued", submitted_at=utcnow(),
                           result={}, attempts=0)
        elif request.status != "queued":
            metrics.DUPLICATES.inc()
            return Processed("duplicate")
    timings: dict[str, float] = {}
    fp = None
    try:
        if event.source == "upload":
            fp = rt.fingerprint(media, timings)
            rows, kind = signal_rows(fp), fp.kind
        else:
            rows, kind = rows_from_signals(event.signals), None
        context = ScanContext(event.context.get("account"), event.context.get("space"),
                              event.context.get("message"),
                              parse_uploaded_at(event.context.get("uploaded_at")))
    except InvalidInput as exc:
        metrics.FAILURES.labels(exc.type).inc()
        return fail(rt, event, problem_of(exc))
    try:
        with rt.db.session() as s:
            claimed = s.execute(
                update(ScanRequest)
                .where(ScanRequest.id == event.scan_id, ScanRequest.status == "queued")
                .values(status="done", done_at=utcnow(), attempts=ScanRequest.attempts + 1)
            ).rowcount
            if claimed != 1:
                raise _AlreadyDone
            rt.sync_for_scan(s)
            outcome = scan_rows(s, rt.matcher, rows, kind=kind, context=context,
                                source=event.source, fp=fp,
                                size_bytes=len(media) if fp is not None else None,
                                after=rt.after_scan, timings=timings)
            body = answer(outcome)
            s.execute(update(ScanRequest).where(ScanRequest.id == event.scan_id)
                      .values(item_id=outcome.item_id, result=body))
            if event.mode == "async":
                enqueue(s, COMPLETED, f"scan:{event.scan_id}", {"scan_id": event.scan_id, **body})
            if fp is not None and outcome.verdict != "allow":
                rt.evidence.put(fp.sha256, media)  # idempotent: the file is named by its hash
    except _AlreadyDone:
        metrics.DUPLICATES.inc()
        return Processed("duplicate")
    metrics.observe_stages(timings)
    metrics.count_scan(event.mode, event.source, outcome.verdict)
    return Processed("done", outcome.verdict)


def fail(rt, event: ScanEvent, problem: dict) -> Processed:
    """Mark a queued request failed with ``problem`` (and tell an asynchronous caller), once."""
    with rt.db.session() as s:
        claimed = s.execute(
            update(ScanRequest)
            .where(ScanRequest.id == event.scan_id, ScanRequest.status == "queued")
            .values(status="failed", done_at=utcnow(), result=problem,
                    attempts=ScanRequest.attempts + 1)
        ).rowcount
        if claimed != 1:
            s.rollback()
            return Processed("duplicate")
        if event.mode == "async":
            enqueue(s, FAILED, f"scan:{event.scan_id}", {"scan_id": event.scan_id,
                                                          "problem": problem})
    return Processed("failed")


def queued_ids(session: Session, limit: int = 1000) -> list[str]:
    return list(session.scalars(select(ScanRequest.id).where(ScanRequest.status == "queued")
                                .order_by(ScanRequest.submitted_at).limit(limit)))
