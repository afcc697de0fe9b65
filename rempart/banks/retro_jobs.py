"""Background retro-scans of big banking changes: the job rows and their life.

An import that adds at least ``BACKGROUND_ENTRIES`` entries records a ``RetroJob`` in its own
transaction (so the job exists exactly when the entries do) instead of retro-scanning before it
answers. A runner (``Runtime.run_retro_jobs``: ``rempart serve``'s follow-up thread, or the CLI
right after its import, with a progress bar) claims the job with one conditional UPDATE, reports
progress as it goes and marks it done; a job whose runner stopped reporting for
``STALE_SECONDS`` (a crash) is claimed again. Scans never wait for it: the retro-scan reads the
ledger in chunks and only briefly takes the matcher (``rempart.scanning.retro``).

A writer that adds entries in many transactions (an exchange sync, page after page) records
them in one job it holds (``hold``): created "running" with the writer's heartbeat, widened by
each later transaction, released to the runners ("pending") when the writer is done. A writer
that dies leaves its job quiet, so a runner takes it over after ``STALE_SECONDS``: entries
committed are retro-scanned once, whatever happens to the writer.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from rempart.banks import changes as feed
from rempart.banks.models import Bank, BankEntry, RetroJob
from rempart.errors import NotFound
from rempart.store.db import utcnow

#: imports adding at least this many entries are retro-scanned in the background
BACKGROUND_ENTRIES = 10_000
STALE_SECONDS = 300.0


def create_job(session: Session, bank: Bank, first_seq: int, last_seq: int,
               entries: int) -> RetroJob:
    job = RetroJob(bank_id=bank.id, first_seq=first_seq, last_seq=last_seq, entries=entries,
                   state="pending", examined=0, total=0, matches=0, error="")
    session.add(job)
    session.flush()
    return job


#: a job a writer holds: (job id, the heartbeat it last wrote)
Held = tuple[int, dt.datetime]


def hold(session: Session, bank: Bank, first_seq: int, last_seq: int, entries: int,
         held: Held | None) -> Held:
    """Record changes ``first_seq``..``last_seq`` of ``bank`` in the job the caller holds
    (widened, in the caller's transaction), or in a new held job when it holds none or a runner
    took it over; returns what the caller holds once its transaction commits (see the module
    doc)."""
    now = utcnow()
    if held is not None:
        job_id, beat = held
        widened = session.execute(
            update(RetroJob).where(RetroJob.id == job_id, RetroJob.bank_id == bank.id,
                                   RetroJob.state == "running", RetroJob.heartbeat_at == beat)
            .values(last_seq=last_seq, entries=RetroJob.entries + entries, heartbeat_at=now)
            .execution_options(synchronize_session=False)).rowcount == 1
        if widened:
            return job_id, now
    job = create_job(session, bank, first_seq, last_seq, entries)
    job.state, job.heartbeat_at = "running", now
    session.flush()
    return job.id, now


def release(session: Session, held: Held) -> bool:
    """Hand a held job to the runners; False when a runner already took it over."""
    job_id, beat = held
    return session.execute(
        update(RetroJob).where(RetroJob.id == job_id, RetroJob.state == "running",
                               RetroJob.heartbeat_at == beat)
        .values(state="pending").execution_options(synchronize_session=False)).rowcount == 1


def claim(session: Session, job_id: int | None = None) -> RetroJob | None:
    """Take a pending job (or ``job_id``), or one whose runner went quiet; None when there is
    none or another runner took it first (one conditional UPDATE decides)."""
    now = utcnow()
    stale = now - dt.timedelta(seconds=STALE_SECONDS)
    claimable = or_(RetroJob.state == "pending",
                    and_(RetroJob.state == "running", RetroJob.heartbeat_at < stale))
    q = select(RetroJob.id).where(claimable).order_by(RetroJob.id).limit(1)
    if job_id is not None:
        q = q.where(RetroJob.id == job_id)
    found = session.scalar(q)
    if found is None:
        return None
    took = session.execute(update(RetroJob).where(RetroJob.id == found, claimable)
                           .values(state="running", heartbeat_at=now)
                           .execution_options(synchronize_session=False)).rowcount == 1
    return session.get(RetroJob, found) if took else None


def entry_ids(session: Session, job: RetroJob) -> np.ndarray:
    """The entries the job looks for (sorted ids)."""
    conn = session.connection()
    return feed.all_entry_ids(conn, feed.read(conn, after=job.first_seq - 1, upto=job.last_seq,
                                              kind="entry"), where=BankEntry.bank_id == job.bank_id)


def report(session: Session, job_id: int, examined: int, total: int) -> None:
    session.execute(update(RetroJob).where(RetroJob.id == job_id)
                    .values(examined=examined, total=total, heartbeat_at=utcnow())
                    .execution_options(synchronize_session=False))


def finish(session: Session, job_id: int, matches: int, error: str = "") -> None:
    session.execute(update(RetroJob).where(RetroJob.id == job_id)
                    .values(state="failed" if error else "done", matches=matches,
                            error=error[:2000], finished_at=utcnow(), heartbeat_at=utcnow())
                    .execution_options(synchronize_session=False))


def get_job(session: Session, job_id: int) -> tuple[RetroJob, str]:
    row = session.execute(select(RetroJob, Bank.name).join(Bank, Bank.id == RetroJob.bank_id)
                          .where(RetroJob.id == job_id)).first()
    if row is None:
        raise NotFound("retro-scan", job_id)
    return row[0], row[1]


def job_json(job: RetroJob, bank: str) -> dict:
    return {"id": job.id, "bank": bank, "state": job.state, "entries": job.entries,
            "examined": job.examined, "total": job.total, "matches": job.matches,
            "error": job.error or None, "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}
