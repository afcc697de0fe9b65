"""The log's witnesses (DB-backed): who they are, the quorum, collecting and serving cosignatures.

- ``add_witness`` / ``remove_witness`` / ``set_quorum`` / ``witnesses``: the configuration
  (``rempart transparency witness add|remove|list``); the quorum is k of the n active
  witnesses (None: all of them), and can never exceed n.
- ``collect``: sign the checkpoint of the log's current size if it grew, then submit it to
  every active witness that has not cosigned it (in parallel, outside any transaction), keep
  each verified cosignature and how each attempt went. ``rempart serve`` runs it in the
  background every ``retry_seconds``; ``rempart transparency witness collect`` once.
- ``served_checkpoint``: the checkpoint the log hands out. With witnesses, the newest checkpoint
  that carries the quorum of cosignatures (with them), so a verifier's k-of-n policy holds;
  until one does, the newest signed one with whatever cosignatures it has.
- ``status``: per witness and per day, for the status page and ``witness status``: a day's
  report is *final* once a checkpoint containing its report leaf carries the quorum.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rempart.errors import Conflict, InvalidInput, NotFound, RempartError, shown
from rempart.store.db import Database, insert_missing, utcnow
from rempart.store.periodic import Periodic
from rempart.transparency.checkpoint import parse_checkpoint
from rempart.transparency.cosignature import CosignatureVerifier, WitnessPolicy, cosignature_timestamp
from rempart.transparency.db import log_store
from rempart.transparency.db.models import LogCheckpoint, LogCosignature, LogReport, LogWitness, LogWitnessPolicy
from rempart.transparency.db.service import TransparencyLog
from rempart.transparency.note import Signature, parse_note, parse_signature_line
from rempart.transparency.witness import Cosignature, add_signatures, request_cosignature

POLICY_ID = 1
MAX_URL = 2000


@dataclass(frozen=True)
class WitnessInfo:
    id: int
    name: str
    url: str
    vkey: str
    size: int
    last_attempt_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str | None
    failures: int

    def to_json(self) -> dict:
        return {"name": self.name, "url": self.url, "vkey": self.vkey, "size": self.size,
                "last_attempt_at": _iso(self.last_attempt_at), "last_success_at": _iso(self.last_success_at),
                "last_error": self.last_error, "failures": self.failures}


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.replace(microsecond=0).isoformat() + "Z"


def _active(session: Session) -> list[LogWitness]:
    return list(session.scalars(select(LogWitness).where(LogWitness.removed_at.is_(None))
                                .order_by(LogWitness.id)))


def _policy_row(session: Session, lock: bool = False) -> LogWitnessPolicy:
    stmt = select(LogWitnessPolicy).where(LogWitnessPolicy.id == POLICY_ID)
    if lock:
        if session.get_bind().dialect.name == "sqlite":  # take SQLite's write lock first
            session.execute(update(LogWitnessPolicy).where(LogWitnessPolicy.id == POLICY_ID)
                            .values(quorum=LogWitnessPolicy.quorum))
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one()


def witnesses(session: Session) -> list[WitnessInfo]:
    """The active witnesses, in the order they were added."""
    return [WitnessInfo(w.id, w.name, w.url, w.vkey, w.size, w.last_attempt_at, w.last_success_at,
                        w.last_error, w.failures) for w in _active(session)]


def quorum(session: Session) -> int:
    """k: how many active witnesses must cosign (all of them unless set)."""
    k = session.scalar(select(LogWitnessPolicy.quorum).where(LogWitnessPolicy.id == POLICY_ID))
    return len(_active(session)) if k is None else k


def policy(session: Session) -> WitnessPolicy:
    """The k-of-n policy the log's own witnesses make (0 of 0 without witnesses)."""
    keys = tuple(CosignatureVerifier.from_vkey(w.vkey) for w in _active(session))
    return WitnessPolicy(keys, quorum(session))


def _check_quorum(k: int | None, n: int) -> None:
    if k is not None and not 0 <= k <= n:
        raise InvalidInput(f"a quorum of {k} is not between 0 and the {n} active witness(es)")


def add_witness(session: Session, url: str, vkey: str, new_quorum: int | None = None) -> WitnessInfo:
    """Add (or bring back) the witness ``vkey`` at ``url``; optionally set the quorum."""
    if not url.startswith(("http://", "https://")) or len(url) > MAX_URL or any(c.isspace() for c in url):
        raise InvalidInput(f"a witness URL must be an http:// or https:// URL: {shown(url)}")
    verifier = CosignatureVerifier.from_vkey(vkey.strip())
    row = _policy_row(session, lock=True)
    active = _active(session)
    if any(w.name == verifier.name and w.vkey != verifier.vkey() for w in active):
        raise Conflict(f"another active witness is named {shown(verifier.name)}")
    existing = session.scalar(select(LogWitness).where(LogWitness.vkey == verifier.vkey()))
    if existing is not None and existing.removed_at is None:
        raise Conflict(f"witness {shown(verifier.name)} is already configured ({existing.url})")
    if existing is None:
        existing = LogWitness(vkey=verifier.vkey(), name=verifier.name, url=url, size=0, failures=0)
        session.add(existing)
    else:
        existing.url, existing.removed_at, existing.failures, existing.last_error = url, None, 0, None
    _check_quorum(new_quorum, len(active) + 1)
    if new_quorum is not None:
        row.quorum = new_quorum
    session.flush()
    return next(w for w in witnesses(session) if w.id == existing.id)


def remove_witness(session: Session, which: str, new_quorum: int | None = None) -> WitnessInfo:
    """Stop using the witness named by its key name, verifier key or URL; optionally set the quorum.
    Refused when the quorum would exceed the witnesses left (lower it with ``new_quorum``)."""
    row = _policy_row(session, lock=True)
    active = _active(session)
    found = [w for w in active if which in (w.name, w.vkey, w.url)]
    if not found:
        raise NotFound("active witness", which)
    if len(found) > 1:
        raise Conflict(f"{shown(which)} names {len(found)} witnesses: give the verifier key")
    k = row.quorum if new_quorum is None else new_quorum
    if k is not None and k > len(active) - 1:
        raise Conflict(f"the quorum is {k}: removing a witness leaves {len(active) - 1}; "
                       "lower it with --quorum")
    _check_quorum(new_quorum, len(active) - 1)
    if new_quorum is not None:
        row.quorum = new_quorum
    found[0].removed_at = utcnow()
    session.flush()
    w = found[0]
    return WitnessInfo(w.id, w.name, w.url, w.vkey, w.size, w.last_attempt_at, w.last_success_at,
                       w.last_error, w.failures)


def set_quorum(session: Session, k: int) -> None:
    row = _policy_row(session, lock=True)
    _check_quorum(k, len(_active(session)))
    row.quorum = k
    session.flush()


# --- cosigned checkpoints ------------------------------------------------------------------------


def _cosignatures(session: Session, size: int, active_ids: set[int]) -> list[Signature]:
    rows = session.execute(select(LogCosignature.witness_id, LogCosignature.line)
                           .where(LogCosignature.size == size).order_by(LogCosignature.witness_id))
    out = []
    for witness_id, line in rows:
        if witness_id in active_ids:
            out.append(parse_signature_line(line))
    return out


def cosigned(session: Session, size: int) -> bytes:
    """The signed checkpoint of ``size`` with the active witnesses' cosignatures appended."""
    row = session.get(LogCheckpoint, size)
    if row is None:
        raise NotFound("signed checkpoint of size", size)
    active = {w.id for w in _active(session)}
    return add_signatures(bytes(row.signed), _cosignatures(session, size, active))


def quorum_size(session: Session) -> int | None:
    """The largest signed checkpoint size carrying the quorum of active cosignatures (None if
    none does, or there is no witness)."""
    active = [w.id for w in _active(session)]
    if not active:
        return None
    k = quorum(session)
    if k == 0:
        return session.scalar(select(func.max(LogCheckpoint.size)))
    counted = (select(LogCosignature.size).where(LogCosignature.witness_id.in_(active))
               .group_by(LogCosignature.size).having(func.count() >= k))
    return session.scalar(select(func.max(counted.subquery().c.size)))


def served_checkpoint(session: Session) -> bytes | None:
    """The checkpoint the log serves: the newest with the quorum of cosignatures, else the newest."""
    if _active(session):
        size = quorum_size(session)
        if size is not None:
            return cosigned(session, size)
    latest = log_store.latest_checkpoint(session)
    if latest is None:
        return None
    return cosigned(session, parse_checkpoint(parse_note(latest)[0]).size)


# --- collecting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One witness's answer in a round: its cosignature, or why there is none."""

    witness: str
    size: int
    ok: bool
    error: str | None = None

    def to_json(self) -> dict:
        return {"witness": self.witness, "size": self.size, "ok": self.ok, "error": self.error}


def collect(db: Database, log: TransparencyLog, timeout: float) -> list[Attempt]:
    """Sign the log's current checkpoint if it grew, and ask each active witness that has not
    cosigned it for its cosignature. Returns one ``Attempt`` per witness asked."""
    with db.session() as s:
        if not _active(s):
            return []
        signed = log.sign_checkpoint(s)
        size = parse_checkpoint(parse_note(signed)[0]).size
        done = set(s.scalars(select(LogCosignature.witness_id).where(LogCosignature.size == size)))
        todo = [(w.id, w.name, w.url, w.vkey, w.size) for w in _active(s) if w.id not in done]
    if not todo:
        return []

    def prove(old: int, new: int) -> list[bytes]:
        with db.session() as s:
            return log_store.prove_consistency(s, old, new)

    def ask(job) -> tuple[int, Cosignature | str]:
        witness_id, _, url, vkey, known = job
        try:
            return witness_id, request_cosignature(url, CosignatureVerifier.from_vkey(vkey), signed,
                                                   known, prove, timeout)
        except RempartError as exc:
            return witness_id, str(exc)[:500]

    with ThreadPoolExecutor(max_workers=min(len(todo), 8), thread_name_prefix="rempart-witness") as pool:
        answers = list(pool.map(ask, todo))
    names = {job[0]: job[1] for job in todo}
    with db.session() as s:
        return [_record(s, witness_id, size, answer, names[witness_id]) for witness_id, answer in answers]


def _record(session: Session, witness_id: int, size: int, answer: Cosignature | str, name: str) -> Attempt:
    w = session.get(LogWitness, witness_id)
    now = utcnow()
    w.last_attempt_at = now
    if isinstance(answer, str):
        w.failures += 1
        w.last_error = answer
        return Attempt(name, size, False, answer)
    # another collector (serve's worker, a command) may keep one for this size at the same time
    insert_missing(session, LogCosignature, size=size, witness_id=witness_id,
                   line=answer.signature.line(), received_at=now)
    w.size = max(w.size, answer.size)
    w.last_success_at, w.last_error, w.failures = now, None, 0
    session.flush()
    return Attempt(name, size, True)


# --- status ------------------------------------------------------------------------------------


def status(session: Session) -> dict:
    """Everything the status page and ``witness status`` show, as JSON-ready data."""
    active = witnesses(session)
    k = quorum(session)
    latest = log_store.latest_checkpoint(session)
    size = parse_checkpoint(parse_note(latest)[0]).size if latest else None
    final = quorum_size(session) if active else None
    cosigners = {}
    if size is not None:
        ids = {w.id for w in active}
        cosigners = {sig.name: cosignature_timestamp(sig)
                     for sig in _cosignatures(session, size, ids)}
    days = [{"day": r.day, "leaf_index": r.leaf_index,
             "final": bool(active) and final is not None and r.leaf_index < final}
            for r in session.scalars(select(LogReport).order_by(LogReport.leaf_index))]
    return {
        "quorum": k, "witnesses_active": len(active),
        "latest_size": size, "latest_cosignatures": len(cosigners),
        "quorum_size": final,
        "witnesses": [{**w.to_json(), "cosigned_latest": w.name in cosigners} for w in active],
        "days": days,
        "missing": [w.name for w in active if w.name not in cosigners],
    }



class WitnessWorker(Periodic):
    """``collect`` every ``interval`` seconds in a daemon thread, while ``rempart serve`` runs:
    a grown log gets a checkpoint, and missing cosignatures are asked for again."""

    def __init__(self, db: Database, log: TransparencyLog, interval: float, timeout: float) -> None:
        def round_() -> None:
            for attempt in collect(db, log, timeout):
                if not attempt.ok:
                    logging.getLogger("rempart.witnesses").warning(
                        "witness %s did not cosign size %d: %s", attempt.witness, attempt.size, attempt.error)

        super().__init__("rempart-witnesses", interval, round_, "rempart.witnesses", "witness round failed")
