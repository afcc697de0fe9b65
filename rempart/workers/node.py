"""A node in scale-out mode: its connection to the stream and its replica kept current from it.

``attach(rt)`` connects the runtime to NATS (``REMPART_NATS_URL``) and wires bank changes both
ways: every transaction that commits bank changes (``bank_changes`` rows, whichever command or
route wrote them) announces its last sequence number; every announcement heard makes this node's
replica apply the feed (``Replica.sync``: the changed banks and entries only, never a reload).
The replica still syncs before each scan, so a lost announcement delays nothing a scan sees.
"""

from __future__ import annotations

import logging

from rempart.banks.models import BankChange
from rempart.workers.bus import Bus, StreamSettings

log = logging.getLogger("rempart.workers")


def attach(rt, name: str) -> Bus:
    cfg = rt.settings.scaleout
    bus = Bus(rt.settings.nats_url, name=name,
              settings=StreamSettings(max_pending=cfg.max_pending, ack_wait=cfg.ack_wait))

    def apply(seq: int) -> None:
        # a replica not loaded yet (commands that do not match never load it) has nothing to
        # apply: it loads what is current on first use
        if rt.replica_loaded and (seq > rt.replica.seq or rt.replica.gaps):
            rt.sync()

    bus.on_bank_change(apply)
    announce_bank_changes(rt.db, bus.publish_bank_change)
    return bus


def announce_bank_changes(db, publish) -> None:
    """After each commit that wrote ``bank_changes`` rows, ``publish(highest seq)``."""

    def flushed(session, _context) -> None:
        seqs = [o.seq for o in session.new if isinstance(o, BankChange) and o.seq is not None]
        if seqs:
            session.info["rempart_bank_seq"] = max(seqs + [session.info.get("rempart_bank_seq", 0)])

    def committed(session) -> None:
        seq = session.info.pop("rempart_bank_seq", None)
        if seq:
            try:
                publish(seq)
            except Exception:  # the other nodes catch up at their next scan or announcement
                log.exception("announcing bank change %s failed", seq)

    def rolled_back(session) -> None:
        session.info.pop("rempart_bank_seq", None)

    db.listen("after_flush", flushed)
    db.listen("after_commit", committed)
    db.listen("after_soft_rollback", lambda session, _previous: rolled_back(session))
