"""The legal desk's services end to end on the database (SQLite, or PostgreSQL when
REMPART_TEST_DATABASE_URL is set): orders, clocks, holds, gags, emergency approvals, packages."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rempart.authz import Actor, Role
from rempart.errors import Conflict, NotFound
from rempart.legal import EventKind, Form3Reason, verify_package
from rempart.legal.db import emergency, orders
from rempart.legal.db.models import LegalOrder
from rempart.legal.errors import OrderFormatError, OrderNotExecutable
from rempart.moderation import HoldActive
from rempart.moderation.holds import delete_account_data, expire_holds, retention_sweep
from rempart.moderation.models import Hold
from rempart.scanning.models import ItemSignal
from rempart.store.db import utcnow
from tests.legal.desk_helpers import agency_with_officer, emergency_request, epoc, epoc_pr, items_of, window
from tests.web.web_helpers import make_users

ADMIN = Actor(None, "retention", Role.ADMIN)


@pytest.fixture
def desk(runtime):
    _, officer, _, _ = agency_with_officer(runtime)
    items_of(runtime, "u-123")
    people = make_users(runtime, {"ana": Role.LEGAL, "ben": Role.LEGAL})
    return officer, people["ana"].actor, people["ben"].actor


def count(runtime, model) -> int:
    with runtime.db.session() as s:
        return len(list(s.scalars(select(model))))


def test_an_emergency_order_is_answered_with_a_signed_package_inside_its_clock(runtime, desk, tmp_path):
    officer, ana, _ = desk
    t0 = utcnow()
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, epoc(t0, emergency=True), [], now=t0)
        assert row.clock_kind == "emergency_production" and row.deadline == t0 + dt.timedelta(hours=8)
        order_id = row.id
    with runtime.db.session() as s:
        row = s.get(LegalOrder, order_id)
        state = orders.clock_of(s, row, t0 + dt.timedelta(hours=6, minutes=1))
        assert state.sla.value == "warning"  # 2 h before the deadline
        d = runtime.legal.produce(s, ana, row, tmp_path / "answer.zip", now=t0 + dt.timedelta(hours=7))
        assert d.number == 1 and row.status == "answered"
        assert orders.clock_of(s, row, t0 + dt.timedelta(hours=9)).sla.value == "met"
    vkey = runtime.legal.vkey()
    assert verify_package(tmp_path / "answer.zip", vkey).ok
    data = bytearray((tmp_path / "answer.zip").read_bytes())
    for at in (len(data) // 3, len(data) // 2, len(data) - 30):
        flipped = bytearray(data)
        flipped[at] ^= 1
        (tmp_path / "bad.zip").write_bytes(bytes(flipped))
        assert not verify_package(tmp_path / "bad.zip", vkey).ok
    # a second delivery references the first
    with runtime.db.session() as s:
        row = s.get(LegalOrder, order_id)
        d2 = runtime.legal.produce(s, ana, row, tmp_path / "second", now=t0 + dt.timedelta(hours=7, minutes=5))
        assert d2.number == 2 and d2.previous_digest == d.manifest_digest
    assert verify_package(tmp_path / "second", vkey, previous=d.manifest_digest).ok


def test_a_preservation_order_holds_the_data_against_deletion_and_retention(runtime, desk):
    officer, ana, _ = desk
    t0 = utcnow()
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, epoc_pr(t0), [], now=t0)
        assert row.status == "preserving" and row.deadline == t0 + dt.timedelta(days=60)
        order_id = row.id
    with runtime.db.session() as s:
        with pytest.raises(HoldActive):
            delete_account_data(s, ADMIN, "u-123", runtime.evidence)
    with runtime.db.session() as s:
        swept = retention_sweep(s, ADMIN, utcnow() + dt.timedelta(days=1), runtime.evidence)
        assert swept == {"deleted": 0, "held": 3}
    assert count(runtime, ItemSignal) > 0
    with runtime.db.session() as s:  # Form 6: +30 days moves the hold's expiry
        orders.add_event(s, ana, s.get(LegalOrder, order_id), EventKind.EXTENDED, now=t0 + dt.timedelta(days=50))
        hold = s.scalars(select(Hold)).one()
        assert hold.expires_at == t0 + dt.timedelta(days=90)
    with runtime.db.session() as s:  # the hold ends by itself, audited
        assert expire_holds(s, t0 + dt.timedelta(days=91)) == 1
    with runtime.db.session() as s:
        assert delete_account_data(s, ADMIN, "u-123", runtime.evidence) > 0


def test_clarification_pauses_the_clock(runtime, desk):
    officer, ana, _ = desk
    t0 = utcnow()
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, epoc(t0), [], now=t0)
        state = orders.add_event(s, ana, row, EventKind.CLARIFICATION_REQUESTED,
                                 reasons=[Form3Reason.INCOMPLETE], note="which account?", now=t0 + dt.timedelta(days=1))
        assert state.status.value == "paused" and row.status == "paused"
        state = orders.add_event(s, ana, row, EventKind.CLARIFICATION_RECEIVED, now=t0 + dt.timedelta(days=3))
        assert state.deadline == t0 + dt.timedelta(days=12)  # 10 days + 2 paused


def test_emergency_requests_need_a_callback_and_two_people(runtime, desk, tmp_path):
    officer, ana, ben = desk
    t0 = utcnow()
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, emergency_request(t0), [], now=t0)
        with pytest.raises(Conflict, match="callback"):
            runtime.legal.produce(s, ana, row, tmp_path / "x.zip", now=t0)
        with pytest.raises(Exception, match="registered contact"):
            emergency.record_callback(s, ana, row, "+33999999999", True)
        emergency.record_callback(s, ana, row, "+33100000000", True, "duty officer confirmed")
        emergency.approve(s, ana, row)
        with pytest.raises(Conflict, match="already approved"):
            emergency.approve(s, ana, row)
        with pytest.raises(Conflict, match="approval"):
            runtime.legal.produce(s, ana, row, tmp_path / "x.zip", now=t0)
        emergency.approve(s, ben, row)
        d = runtime.legal.produce(s, ana, row, tmp_path / "x.zip", now=t0 + dt.timedelta(minutes=40))
        assert d.number == 1
    assert verify_package(tmp_path / "x.zip", runtime.legal.vkey()).ok


def test_an_officer_of_another_agency_sees_nothing(runtime, desk):
    officer, ana, _ = desk
    _, other, _, _ = agency_with_officer(runtime, "Polizei Berlin", "DE", "police", "officer-2")
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, epoc(utcnow()), [])
        order_id = row.id
    with runtime.db.session() as s:
        assert orders.list_orders(s, other) == []
        with pytest.raises(NotFound):
            orders.get_order(s, other, order_id)
        assert [o.id for o in orders.list_orders(s, officer)] == [order_id]
        assert [o.id for o in orders.list_orders(s, ana)] == [order_id]


def test_bad_orders_create_nothing(runtime, desk):
    officer, _, _ = desk
    now = utcnow()
    cases = [
        (epoc(now, kind="nonsense"), OrderFormatError),
        (epoc(now, account="u-unknown"), OrderNotExecutable),
        (epoc(now, time_range={"start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z"}), OrderNotExecutable),
        (emergency_request(now) | {"data_categories": ["content"], "time_range": window(now)}, OrderNotExecutable),
    ]
    for body, error in cases:
        with runtime.db.session() as s:
            with pytest.raises(error) as info:
                runtime.legal.receive(s, officer, body, [], now=now)
        assert info.value.errors
    assert count(runtime, LegalOrder) == 0 and count(runtime, Hold) == 0


def test_a_gagged_order_is_committed_now_and_revealed_when_lifted(runtime, desk, tmp_path):
    from rempart.legal import order_bytes
    from rempart.legal.db import ledger
    from rempart.transparency.db.publish import publish
    from rempart.transparency.verify import verify_published_opening

    officer, ana, _ = desk
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, epoc(utcnow()), [])
        order_id, index, body = row.id, row.leaf_index, order_bytes(orders.loaded(row))
        assert index is not None and not ledger.reveal(s, ana, row)  # gagged: stays committed
    with runtime.db.session() as s:
        publish(s, runtime.transparency, tmp_path / "log")
    vkey = runtime.transparency.vkey()
    assert not verify_published_opening(tmp_path / "log", index, vkey).ok
    with runtime.db.session() as s:
        row = s.get(LegalOrder, order_id)
        orders.lift_confidentiality(s, ana, row)
        assert ledger.reveal(s, ana, row)
    with runtime.db.session() as s:
        publish(s, runtime.transparency, tmp_path / "log")
    assert verify_published_opening(tmp_path / "log", index, vkey, body).ok
    assert not verify_published_opening(tmp_path / "log", index, vkey, body + b" ").ok
