"""What enters the log: blocks via the scan hook, reviewer decisions, days and their reports, keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from log_fixtures import DAY1, Uploads, bank_known, set_day, upload
from sqlalchemy import select

from rempart.errors import Conflict, InvalidInput, NotFound
from rempart.transparency import (
    Ed25519Verifier,
    check_commitment,
    open_checkpoint,
    parse_decision_leaf,
    parse_report_leaf,
)
from rempart.transparency.db import log_store, service
from rempart.transparency.db.models import LogLeaf, LogReport
from rempart.transparency.keys import key_path, load_or_create_signer
from tests.factories import image_bytes

REVIEWED = {
    "kind": "moderation_decision", "decision": "content_removed", "target": "content",
    "ground": "illegal_content", "category": "protection_of_minors",
    "keyword": "child_sexual_abuse_material", "content_type": "video", "source_type": "trusted_flagger",
    "automated_detection": "no", "automated_decision": "not_automated", "time_to_action": "under_1h",
}  # fmt: skip


def _leaves(rt) -> list[tuple[str, bytes]]:
    with rt.db.session() as s:
        return [(r.kind, bytes(r.data)) for r in s.scalars(select(LogLeaf).order_by(LogLeaf.idx))]


def test_blocks_are_logged_with_a_commitment_and_nothing_else_is(runtime):
    bank_known(runtime)
    set_day(runtime, DAY1)
    uploads = Uploads()
    assert upload(runtime, 1, "greyscale", 1, uploads) == "block"
    assert upload(runtime, 50, "exact", 2, uploads) == "review"
    assert upload(runtime, 10_001, "exact", 3, uploads) == "allow"
    assert upload(runtime, 2, "exact", 4, uploads) == "block"
    leaves = _leaves(runtime)
    assert [k for k, _ in leaves] == ["decision", "decision"]
    d = parse_decision_leaf(leaves[0][1])
    assert (d.kind, d.decision, d.source_type, d.automated_decision, d.content_type, d.day, d.region) == (
        "hash_match_block", "upload_blocked", "own_initiative_hash_match", "fully", "image", "2026-11-20", "EU")
    with runtime.db.session() as s:
        for index, data in enumerate(uploads.blocked):
            o = service.opening(s, index)
            assert o.ref_kind == "scanned_item" and o.subject == "content"
            sha = hashlib.sha256(data).digest()
            assert o.content_sha256 == sha.hex()
            check_commitment(parse_decision_leaf(leaves[index][1]).commitment, o.salt, sha)
        # fresh salt per leaf: the same content twice gives two unrelated commitments
        assert service.opening(s, 0).salt != service.opening(s, 1).salt


def test_a_failed_scan_transaction_logs_nothing(runtime):
    bank_known(runtime)

    def explode(session, item, result):
        raise RuntimeError("a later hook failed")

    runtime.after_scan.append(explode)
    with pytest.raises(RuntimeError):
        upload(runtime, 1, "exact", 1, Uploads())
    assert _leaves(runtime) == []


def test_record_decision_refuses_personal_fields_and_bad_hashes(runtime):
    set_day(runtime, DAY1)
    with runtime.db.session() as s:
        with pytest.raises(InvalidInput, match="not allowed"):
            runtime.transparency.record_decision(s, {**REVIEWED, "account": "acct-1"}, os.urandom(32), ("case", 1))
        with pytest.raises(InvalidInput):
            runtime.transparency.record_decision(s, REVIEWED, "ab" * 8, ("case", 1))
        with pytest.raises(InvalidInput):
            runtime.transparency.record_decision(s, {**REVIEWED, "commitment": b"x" * 32}, os.urandom(32), ("case", 1))
        index = runtime.transparency.record_decision(s, REVIEWED, os.urandom(32), ("case", 7))
    assert parse_decision_leaf(_leaves(runtime)[index][1]).source_type == "trusted_flagger"
    with runtime.db.session() as s:
        service.unlink_opening(s, index)
    with runtime.db.session() as s, pytest.raises(NotFound):
        service.opening(s, index)


def test_days_close_in_order_with_a_chain_of_reports(runtime):
    log = runtime.transparency
    sha = os.urandom(32)

    def decide(day: dt.date) -> int:
        set_day(runtime, day)
        with runtime.db.session() as s:
            return log.record_decision(s, REVIEWED, sha, ("case", 1))

    decide(DAY1)
    decide(DAY1)
    decide(DAY1 + dt.timedelta(days=1))  # rolls day 1 over: its report comes first
    kinds = [k for k, _ in _leaves(runtime)]
    assert kinds == ["decision", "decision", "report", "decision"]
    r1 = parse_report_leaf(_leaves(runtime)[2][1])
    assert (r1.day, r1.first, r1.last, r1.previous) == ("2026-11-20", 0, 1, None)

    set_day(runtime, DAY1 + dt.timedelta(days=5))
    with runtime.db.session() as s:
        with pytest.raises(InvalidInput, match="not begun"):
            log.close_day(s, DAY1 + dt.timedelta(days=6))
        closed = log.close_day(s, DAY1 + dt.timedelta(days=3))  # closes days 2 and 3 (3 is empty)
    assert [(c.day, c.decisions) for c in closed] == [("2026-11-21", 1), ("2026-11-22", 0), ("2026-11-23", 0)]
    with runtime.db.session() as s:
        with pytest.raises(Conflict, match="already closed"):
            log.close_day(s, DAY1 + dt.timedelta(days=1))
        reports = s.scalars(select(LogReport).order_by(LogReport.leaf_index)).all()
        assert [r.previous for r in reports] == [None] + [r.leaf_index for r in reports[:-1]]
        assert [r.closed_by for r in reports] == ["rollover", "close-day", "close-day", "close-day"]
        # the checkpoint signed at close covers every report
        signed = log_store.latest_checkpoint(s)
        cp, _ = open_checkpoint(signed, log.origin, [log.signer.verifier()])
        assert cp.size == log_store.tree_size(s) and cp.root == log_store.root(s)

    # a decision made on a day already closed counts in the next open day
    set_day(runtime, DAY1 + dt.timedelta(days=2))
    index = decide(DAY1 + dt.timedelta(days=2))
    assert parse_decision_leaf(_leaves(runtime)[index][1]).day == "2026-11-24"


def test_close_day_refuses_a_day_before_decisions_already_logged(runtime):
    set_day(runtime, DAY1)
    with runtime.db.session() as s:
        runtime.transparency.record_decision(s, REVIEWED, os.urandom(32), ("case", 1))
    with runtime.db.session() as s, pytest.raises(Conflict):
        runtime.transparency.close_day(s, DAY1 - dt.timedelta(days=1))


def test_the_key_is_made_once_private_and_bound_to_its_origin(tmp_path):
    signer = load_or_create_signer(tmp_path, "example.org/log")
    path = key_path(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_signer(tmp_path, "example.org/log").public_key == signer.public_key
    assert Ed25519Verifier.from_vkey(signer.verifier().vkey()).name == "example.org/log"
    with pytest.raises(Conflict, match="example.org/log"):
        load_or_create_signer(tmp_path, "other.org/log")
    path.chmod(0o644)
    with pytest.raises(Conflict, match="chmod 600"):
        load_or_create_signer(tmp_path, "example.org/log")
    with pytest.raises(InvalidInput):
        load_or_create_signer(tmp_path / "x", "bad name")


def test_a_block_on_submitted_signals_commits_to_the_signals(runtime):
    bank_known(runtime)
    fp = runtime.fingerprint(image_bytes(1))
    out = runtime.scan_signals([("pdq", fp.pdq().pdq)])
    assert out.verdict == "block"
    with runtime.db.session() as s:
        o = service.opening(s, 0)
        assert o.subject == "signals"
        assert o.content_sha256 == service.signals_digest([("pdq", fp.pdq().pdq)]).hex()
