"""Database models of the transparency log (DB-backed; the pure modules never import this).

    tlog_head         one row (id 1): the tree size; appends lock it (SELECT ... FOR UPDATE)
    tlog_leaves       every entry, in order: its bytes, its kind (decision | notice | report), its day,
                      and the event it records (unique: an event is never logged twice)
    tlog_hashes       every RFC 6962 stored hash, in ``merkle.stored_hash_index`` order
    tlog_reports      one row per closed day: the report leaf's index and range
    tlog_checkpoints  every checkpoint the log signed, by tree size
    tlog_openings     PRIVATE: per decision leaf, the salt and content SHA-256 that open its
                      commitment, and what it is about (``ref_kind``, ``ref_id``). Never
                      published; deleting the row unlinks the public leaf from the content.
    tlog_witnesses    the witnesses the log submits checkpoints to, and how the last try went
    tlog_witness_policy  one row (id 1): the quorum, k of the n active witnesses
    tlog_cosignatures per checkpoint size and witness: the verified cosignature/v1 line
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from rempart.store.db import Base, utcnow

HEAD_ID = 1


class LogHead(Base):
    __tablename__ = "tlog_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LogLeaf(Base):
    __tablename__ = "tlog_leaves"
    __table_args__ = (Index("uq_tlog_leaves_event", "event", unique=True),)

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(16))  # decision | notice | report
    day: Mapped[str] = mapped_column(String(10), index=True)
    #: PRIVATE, never published: the event the leaf records (e.g. ``decision:12:7``), if named;
    #: unique, so a retried or raced event cannot become a second leaf
    event: Mapped[str | None] = mapped_column(String(100), nullable=True)
    appended_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LogHash(Base):
    __tablename__ = "tlog_hashes"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogReport(Base):
    __tablename__ = "tlog_reports"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(ForeignKey("tlog_leaves.idx"), unique=True)
    first: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    previous: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: "close-day" (explicit) or "rollover" (the first decision of a later day closed it)
    closed_by: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LogCheckpoint(Base):
    __tablename__ = "tlog_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    signed: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LogOpening(Base):
    """PRIVATE. What opens a decision leaf's commitment. Never published, except the openings
    deliberately revealed (``published_at``: a law-enforcement order whose confidentiality
    lapsed), which ``openings.json`` lists so that anyone can check them against the old leaf."""

    __tablename__ = "tlog_openings"

    leaf_index: Mapped[int] = mapped_column(ForeignKey("tlog_leaves.idx"), primary_key=True,
                                            autoincrement=False)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    content_sha256: Mapped[str] = mapped_column(String(64))
    #: "content" (SHA-256 of the file) or "signals" (SHA-256 of the submitted signal list)
    subject: Mapped[str] = mapped_column(String(16), default="content")
    ref_kind: Mapped[str] = mapped_column(String(32))  # scanned_item | case | notice | ...
    ref_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


# --- witnesses (``witnesses``): who cosigns the log's checkpoints, and what they returned -------


class LogWitness(Base):
    """A witness the log submits its checkpoints to (``rempart transparency witness add``).

    Removing one keeps the row (``removed_at``) and its cosignatures; only active witnesses count.
    """

    __tablename__ = "tlog_witnesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the witness's verifier key (type 0x04, cosignature/v1): its identity
    vkey: Mapped[str] = mapped_column(String(400), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    #: the submission prefix (``<url>/add-checkpoint``)
    url: Mapped[str] = mapped_column(String(2000))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: the latest size the witness cosigned for this log, as far as the log knows (0: unknown)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: why the last submission failed (None after a success)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: submissions failed in a row
    failures: Mapped[int] = mapped_column(Integer, default=0)


class LogWitnessPolicy(Base):
    """One row (id 1): how many active witnesses must cosign a checkpoint (None: all of them)."""

    __tablename__ = "tlog_witness_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quorum: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LogCosignature(Base):
    """A witness's verified cosignature/v1 line on the checkpoint of one size."""

    __tablename__ = "tlog_cosignatures"

    size: Mapped[int] = mapped_column(ForeignKey("tlog_checkpoints.size"), primary_key=True,
                                      autoincrement=False)
    witness_id: Mapped[int] = mapped_column(ForeignKey("tlog_witnesses.id"), primary_key=True,
                                            autoincrement=False)
    #: the signature line, newline included
    line: Mapped[str] = mapped_column(String(600))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
