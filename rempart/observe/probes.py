"""The scrape-time gauges of a node (see ``rempart.observe.metrics``): its index replica, the
stream, and the backlogs kept in the database. Counts only: no label names a person or a hash."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from rempart.banks.models import BankChange
from rempart.moderation.models import Case, OutboxMessage, Queue
from rempart.moderation.vocab import CaseStatus
from rempart.observe.metrics import STATE
from rempart.store.db import utcnow
from rempart.transparency.db.witnesses import status as witness_status
from rempart.workers.models import ScanRequest


def register(rt) -> None:
    """Register the probes of ``rt`` (a ``Runtime``) with the process's collector."""

    def index():
        with rt.db.session() as s:
            head = s.scalar(select(func.coalesce(func.max(BankChange.seq), 0))) or 0
        replica = rt.replica
        yield ("rempart_index_entries", "Entries in this node's in-memory index", (),
               [((), float(len(replica.matcher)))])
        yield ("rempart_index_seq", "The last bank change this node's index applied", (),
               [((), float(replica.seq))])
        yield ("rempart_index_lag_changes",
               "Bank changes committed but not applied here (feed rows: a bulk import is one)", (),
               [((), float(max(0, head - replica.seq)))])
        yield ("rempart_index_change_age_seconds", "Since this node's index applied a change",
               (), [((), max(0.0, time.time() - replica.applied_at))])

    def backlogs():
        now = utcnow()
        with rt.db.session() as s:
            requests = dict(s.execute(select(ScanRequest.status, func.count())
                                      .group_by(ScanRequest.status)).all())
            outbox = dict(s.execute(select(OutboxMessage.status, func.count())
                                    .where(OutboxMessage.status != "delivered")
                                    .group_by(OutboxMessage.status)).all())
            undecided = Case.status != CaseStatus.DECIDED.value
            queues = s.execute(
                select(Queue.name, func.count(Case.id),
                       func.count(Case.id).filter(Case.due_at < now))
                .join(Case, (Case.queue_id == Queue.id) & undecided, isouter=True)
                .group_by(Queue.name)).all()
            witnesses = witness_status(s)
        yield ("rempart_scan_requests", "Scan requests by status (queued: the backlog)",
               ("status",), [((k,), float(requests.get(k, 0))) for k in ("queued", "done", "failed")])
        yield ("rempart_outbox_backlog", "Webhooks not delivered yet", ("status",),
               [((k,), float(outbox.get(k, 0))) for k in ("pending", "failed")])
        yield ("rempart_queue_backlog", "Undecided cases per moderation queue", ("queue",),
               [((name,), float(n)) for name, n, _ in queues])
        yield ("rempart_sla_breaches", "Undecided cases past their queue's service level",
               ("queue",), [((name,), float(late)) for name, _, late in queues])
        yield ("rempart_witness_cosignatures_missing",
               "Active witnesses without a cosignature of the latest checkpoint", (),
               [((), float(len(witnesses["missing"])))])
        yield ("rempart_witness_failures", "Consecutive failed requests to a witness",
               ("witness",), [((w["name"],), float(w["failures"])) for w in witnesses["witnesses"]])

    STATE.add("index", index, ttl=0.0)
    STATE.add("backlogs", backlogs)
    if rt.bus is not None:
        def stream():
            info = rt.bus.consumer_state()
            yield ("rempart_stream_lag", "Events on the stream no worker has taken yet", (),
                   [((), float(info[0]))])
            yield ("rempart_stream_in_progress", "Events taken by a worker, not acknowledged yet",
                   (), [((), float(info[1]))])
        STATE.add("stream", stream, ttl=0.5)
