"""Legal clocks: the Regulation's periods, pauses, warnings, holds, and properties over event lists."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from rempart.legal import (
    ClockEventRejected, ClockKind, ClockSpec, Event, EventKind as K, Form3Reason as R, Sla, Status,
    apply, parse_order, replay,
)
from rempart.legal.clocks import CLOSED, EA_TRANSMISSION_WINDOW, WARNINGS
from tests.legal.legal_helpers import EMERGENCY_REQUEST, EPOC, EPOC_PR, order_dict

T0 = dt.datetime(2026, 8, 20, 8, 0)
H, D = dt.timedelta(hours=1), dt.timedelta(days=1)
PROD, EMERG, PRES, REQ = (ClockSpec(k, T0) for k in (ClockKind.PRODUCTION, ClockKind.EMERGENCY_PRODUCTION,
                                                      ClockKind.PRESERVATION, ClockKind.EMERGENCY_REQUEST))
EA = ClockSpec(ClockKind.PRODUCTION, T0, enforcing_authority_notified=True)


def ev(kind, at, *reasons):
    return Event(kind, at, tuple(reasons))


def test_specs_from_orders() -> None:
    assert ClockSpec.for_order(parse_order(EPOC), T0).kind is ClockKind.PRODUCTION
    urgent = parse_order(order_dict(EPOC, emergency=True, emergency_reason="a life at risk"))
    assert ClockSpec.for_order(urgent, T0).kind is ClockKind.EMERGENCY_PRODUCTION
    assert ClockSpec.for_order(parse_order(EPOC_PR), T0).kind is ClockKind.PRESERVATION
    assert ClockSpec.for_order(parse_order(EMERGENCY_REQUEST), T0).kind is ClockKind.EMERGENCY_REQUEST
    notified = parse_order(order_dict(EPOC, enforcing_authority_notified=True))
    assert ClockSpec.for_order(notified, T0).enforcing_authority_notified


def test_production_is_due_in_ten_days_emergency_in_eight_hours() -> None:
    s = replay(PROD, [], T0 + H)
    assert s.status is Status.OPEN and s.deadline == T0 + 10 * D and s.sla is Sla.OK and s.legal
    assert s.warn_at == (T0 + 7 * D, T0 + 9 * D) and s.hold_required and s.hold_until is None
    e = replay(EMERG, [], T0 + 5 * H)
    assert e.deadline == T0 + 8 * H and e.sla is Sla.OK
    assert replay(EMERG, [], T0 + 6 * H).sla is Sla.WARNING  # 2 hours before the deadline
    late = replay(EMERG, [], T0 + 8 * H + dt.timedelta(seconds=1))
    assert late.sla is Sla.BREACHED and late.breached_at == T0 + 8 * H
    assert replay(EMERG, [], T0 + 8 * H).sla is Sla.WARNING  # the deadline itself is still in time


def test_answers_are_met_or_late_and_close_the_hold() -> None:
    met = replay(EMERG, [ev(K.PRESERVED, T0 + H), ev(K.PRODUCED, T0 + 7 * H)], T0 + 9 * H)
    assert met.status is Status.ANSWERED and met.sla is Sla.MET and not met.hold_required
    late = replay(EMERG, [ev(K.PRODUCED, T0 + 9 * H)], T0 + 10 * H)
    assert late.sla is Sla.LATE and late.breached_at == T0 + 8 * H
    again = replay(EMERG, [ev(K.PRODUCED, T0 + 7 * H), ev(K.PRODUCED, T0 + 30 * H)], T0 + 31 * H)
    assert again.sla is Sla.MET and again.closed_at == T0 + 7 * H  # a supplementary delivery
    withdrawn = replay(PROD, [ev(K.WITHDRAWN, T0 + D)], T0 + 20 * D)
    assert withdrawn.status is Status.WITHDRAWN and withdrawn.sla is Sla.MET and not withdrawn.hold_required
    with pytest.raises(ClockEventRejected, match="withdrawn"):
        replay(PROD, [ev(K.WITHDRAWN, T0 + D), ev(K.PRODUCED, T0 + 2 * D)], T0 + 3 * D)


def test_clarification_suspends_a_production_deadline() -> None:
    events = [ev(K.CLARIFICATION_REQUESTED, T0 + 2 * H, R.INCOMPLETE, R.MANIFEST_ERRORS)]
    paused = replay(EMERG, events, T0 + 30 * H)
    assert paused.status is Status.PAUSED and paused.deadline is None and paused.sla is Sla.OK
    assert paused.clarification_reply_due == T0 + 2 * H + 5 * D and paused.hold_required
    assert paused.paused_for == 28 * H
    resumed = replay(EMERG, events + [ev(K.CLARIFICATION_RECEIVED, T0 + 26 * H)], T0 + 27 * H)
    assert resumed.status is Status.OPEN and resumed.deadline == T0 + 8 * H + 24 * H  # 6 h were left
    assert resumed.warn_at == (T0 + 30 * H,) and resumed.clarification_reply_due is None
    # producing ends a pause too; the time waited does not count
    done = replay(EMERG, events + [ev(K.PRODUCED, T0 + 20 * H)], T0 + 21 * H)
    assert done.sla is Sla.MET and done.paused_for == 18 * H


def test_a_breach_stays_a_breach() -> None:
    events = [ev(K.CLARIFICATION_REQUESTED, T0 + 9 * H, R.INSUFFICIENT_INFORMATION),
              ev(K.CLARIFICATION_RECEIVED, T0 + 20 * H), ev(K.PRODUCED, T0 + 21 * H)]
    s = replay(EMERG, events, T0 + 22 * H)
    assert s.breached_at == T0 + 8 * H and s.sla is Sla.LATE


def test_form3_reasons_decide_pause_or_non_execution() -> None:
    with pytest.raises(ClockEventRejected, match="clarification"):
        replay(PROD, [ev(K.CLARIFICATION_REQUESTED, T0 + H, R.DATA_NOT_HELD)], T0 + 2 * H)
    with pytest.raises(ClockEventRejected, match="clarification_requested"):
        replay(PROD, [ev(K.NON_EXECUTION_NOTIFIED, T0 + H, R.DATA_NOT_HELD, R.INCOMPLETE)], T0 + 2 * H)
    with pytest.raises(ClockEventRejected, match="at least one reason"):
        replay(PROD, [ev(K.NON_EXECUTION_NOTIFIED, T0 + H)], T0 + 2 * H)
    with pytest.raises(ClockEventRejected, match="no Form 3 reasons"):
        replay(PROD, [ev(K.PRODUCED, T0 + H, R.INCOMPLETE)], T0 + 2 * H)
    s = replay(PROD, [ev(K.NON_EXECUTION_NOTIFIED, T0 + D, R.DE_FACTO_IMPOSSIBILITY)], T0 + 20 * D)
    assert s.status is Status.NOT_EXECUTED and s.sla is Sla.MET and not s.hold_required and s.breached_at is None
    # the authority then withdraws the order, or the platform manages after all
    assert replay(PROD, [ev(K.NON_EXECUTION_NOTIFIED, T0 + D, R.DATA_NOT_HELD), ev(K.WITHDRAWN, T0 + 2 * D)],
                  T0 + 3 * D).status is Status.WITHDRAWN
    with pytest.raises(ClockEventRejected):
        replay(PROD, [ev(K.CLARIFICATION_RECEIVED, T0 + H)], T0 + 2 * H)


def test_preservation_lasts_sixty_days_ninety_if_extended() -> None:
    s = replay(PRES, [ev(K.PRESERVED, T0 + H)], T0 + 10 * D)
    assert s.status is Status.PRESERVING and s.deadline == T0 + 60 * D and s.hold_until == T0 + 60 * D
    assert s.warn_at == (T0 + 53 * D, T0 + 58 * D) and s.sla is Sla.OK and s.hold_required
    expired = replay(PRES, [], T0 + 61 * D)
    assert expired.status is Status.EXPIRED and not expired.hold_required and expired.closed_at == T0 + 60 * D
    ext = replay(PRES, [ev(K.EXTENDED, T0 + 59 * D)], T0 + 61 * D)
    assert ext.extended and ext.deadline == T0 + 90 * D and ext.hold_until == T0 + 90 * D
    with pytest.raises(ClockEventRejected, match="expired"):
        replay(PRES, [ev(K.EXTENDED, T0 + 61 * D)], T0 + 62 * D)
    with pytest.raises(ClockEventRejected, match="once"):
        replay(PRES, [ev(K.EXTENDED, T0 + D), ev(K.EXTENDED, T0 + 2 * D)], T0 + 3 * D)


def test_a_confirmed_production_request_keeps_the_data_until_further_notice() -> None:
    events = [ev(K.EXTENDED, T0 + 50 * D), ev(K.PRODUCTION_CONFIRMED, T0 + 80 * D)]
    s = replay(PRES, events, T0 + 400 * D)
    assert s.status is Status.PRESERVING_UNTIL_PRODUCTION and s.deadline is None
    assert s.hold_required and s.hold_until is None and s.production_confirmed
    with pytest.raises(ClockEventRejected):
        replay(PRES, events + [ev(K.EXTENDED, T0 + 401 * D)], T0 + 402 * D)
    ended = replay(PRES, events + [ev(K.PRESERVATION_ENDED, T0 + 401 * D)], T0 + 402 * D)
    assert ended.status is Status.ENDED and not ended.hold_required
    with pytest.raises(ClockEventRejected, match="expired"):
        replay(PRES, [ev(K.PRODUCTION_CONFIRMED, T0 + 61 * D)], T0 + 62 * D)


def test_a_clarification_restarts_the_preservation_period() -> None:
    events = [ev(K.CLARIFICATION_REQUESTED, T0 + 10 * D, R.INCOMPLETE), ev(K.CLARIFICATION_RECEIVED, T0 + 14 * D)]
    paused = replay(PRES, events[:1], T0 + 70 * D)
    assert paused.status is Status.PAUSED and paused.hold_required and paused.hold_until is None
    s = replay(PRES, events, T0 + 70 * D)
    assert s.status is Status.PRESERVING and s.deadline == T0 + 74 * D


def test_non_execution_of_a_preservation_releases_the_hold() -> None:
    s = replay(PRES, [ev(K.NON_EXECUTION_NOTIFIED, T0 + H, R.DATA_NOT_HELD)], T0 + 2 * H)
    assert s.status is Status.NOT_EXECUTED and not s.hold_required


def test_a_notified_enforcing_authority_gates_transmission() -> None:
    s = replay(EA, [], T0 + D)
    assert s.not_before == T0 + 10 * D and s.deadline == T0 + 10 * D + EA_TRANSMISSION_WINDOW
    with pytest.raises(ClockEventRejected, match="Art. 10"):
        replay(EA, [ev(K.PRODUCED, T0 + 2 * D)], T0 + 3 * D)
    assert replay(EA, [ev(K.PRODUCED, T0 + 10 * D + H)], T0 + 11 * D).sla is Sla.MET
    with pytest.raises(ClockEventRejected, match="Art. 10"):  # a pause does not open the gate
        replay(EA, [ev(K.CLARIFICATION_REQUESTED, T0 + D, R.INCOMPLETE), ev(K.PRODUCED, T0 + 2 * D)], T0 + 3 * D)
    cleared = [ev(K.ENFORCING_AUTHORITY_CLEARED, T0 + 3 * D)]
    early = replay(EA, cleared, T0 + 4 * D)
    assert early.not_before is None and early.deadline == T0 + 10 * D
    assert replay(EA, cleared + [ev(K.PRODUCED, T0 + 4 * D)], T0 + 5 * D).status is Status.ANSWERED
    refused = replay(EA, [ev(K.REFUSED, T0 + 5 * D)], T0 + 6 * D)
    assert refused.status is Status.REFUSED and not refused.hold_required
    with pytest.raises(ClockEventRejected, match="no enforcing authority"):
        replay(PROD, [ev(K.REFUSED, T0 + D)], T0 + 2 * D)
    urgent = ClockSpec(ClockKind.EMERGENCY_PRODUCTION, T0, enforcing_authority_notified=True)
    assert replay(urgent, [], T0 + H).not_before is None  # 8 hours whatever the notification


def test_voluntary_emergency_requests_have_the_platform_target() -> None:
    s = replay(REQ, [], T0 + H)
    assert not s.legal and s.deadline == T0 + 8 * H and not s.hold_required
    assert replay(REQ, [ev(K.DECLINED, T0 + 2 * H)], T0 + 3 * H).status is Status.DECLINED
    with pytest.raises(ClockEventRejected, match="does not apply"):
        replay(REQ, [ev(K.EXTENDED, T0 + H)], T0 + 2 * H)


def test_event_order_and_times() -> None:
    with pytest.raises(ClockEventRejected, match="time order") as info:
        replay(PROD, [ev(K.PRESERVED, T0 + 2 * H), ev(K.PRESERVED, T0 + H)], T0 + 3 * H)
    assert info.value.index == 1
    with pytest.raises(ClockEventRejected):
        replay(PROD, [ev(K.PRESERVED, T0 - H)], T0 + H)
    with pytest.raises(ClockEventRejected):
        replay(PROD, [ev(K.PRESERVED, T0 + 2 * H)], T0 + H)  # in the future
    aware = replay(PROD, [ev(K.PRESERVED, (T0 + H).replace(tzinfo=dt.timezone.utc))], T0 + 2 * H)
    assert aware.history[0].event.at == T0 + H
    with pytest.raises(ClockEventRejected, match="does not apply"):
        replay(PRES, [ev(K.PRODUCED, T0 + H)], T0 + 2 * H)


# --- properties over random event lists ---

KINDS = list(K)
REASONS = list(R)


def random_events(rng: random.Random, spec: ClockSpec, n: int) -> tuple[list[Event], dt.datetime]:
    t, events = spec.received_at, []
    for _ in range(n):
        t += dt.timedelta(minutes=rng.choice([0, 1, 30, 60, 240, 1440, 5 * 1440, 20 * 1440]))
        kind = rng.choice(KINDS)
        reasons = ()
        if kind in (K.CLARIFICATION_REQUESTED, K.NON_EXECUTION_NOTIFIED) and rng.random() < 0.9:
            pool = [R.INCOMPLETE, R.MANIFEST_ERRORS, R.INSUFFICIENT_INFORMATION] \
                if kind is K.CLARIFICATION_REQUESTED and rng.random() < 0.8 else REASONS
            reasons = tuple(rng.sample(pool, rng.randint(1, 2)))
        events.append(Event(kind, t, reasons))
    return events, t + dt.timedelta(minutes=rng.choice([0, 10, 600, 10 * 1440, 100 * 1440]))


def check_invariants(spec: ClockSpec, events: list[Event], now: dt.datetime, s) -> None:
    assert replay(spec, events, now) == s, "deterministic"
    if events:
        assert apply(spec, events[:-1], events[-1], now) == s
    assert len(s.history) == len(events)
    assert (s.status is Status.PAUSED) == (s.paused_since is not None)
    assert s.paused_for >= dt.timedelta(0)
    if s.status in CLOSED:
        assert s.closed_at is not None and s.closed_at <= now and s.sla in (Sla.MET, Sla.LATE)
    assert list(s.warn_at) == sorted(s.warn_at) and all(w < s.deadline for w in s.warn_at)
    assert len(s.warn_at) == (len(WARNINGS[spec.kind]) if s.deadline else 0)
    if s.sla is Sla.BREACHED:
        assert s.status in (Status.OPEN, Status.PAUSED) and s.breached_at is not None and s.breached_at < now
        assert s.status is Status.PAUSED or now > s.deadline
    if spec.kind is ClockKind.PRESERVATION:
        assert s.hold_required == (s.status in (Status.PRESERVING, Status.PRESERVING_UNTIL_PRODUCTION, Status.PAUSED))
        if s.status is Status.PRESERVING:
            resumed = [e.at for e in events if e.kind is K.CLARIFICATION_RECEIVED]
            start = resumed[-1] if resumed else spec.received_at
            assert s.hold_until == s.deadline >= now
            assert s.deadline == start + (90 * D if s.extended else 60 * D)
        if s.status is Status.EXPIRED:
            assert s.closed_at <= now
    else:
        assert s.hold_required == (spec.kind is not ClockKind.EMERGENCY_REQUEST and s.status in (Status.OPEN, Status.PAUSED))
        base = {ClockKind.EMERGENCY_PRODUCTION: 8 * H, ClockKind.EMERGENCY_REQUEST: 8 * H}.get(spec.kind, 10 * D)
        if s.deadline is not None and s.status is not Status.PAUSED:
            assert s.deadline - spec.received_at - s.paused_for in (base, base + EA_TRANSMISSION_WINDOW)


@pytest.mark.parametrize("spec", [PROD, EMERG, PRES, REQ, EA], ids=lambda s: f"{s.kind.value}-{s.enforcing_authority_notified}")
def test_properties_over_random_event_lists(spec) -> None:
    rng = random.Random(f"clock-{spec.kind.value}-{spec.enforcing_authority_notified}")
    accepted = rejected = 0
    for _ in range(1500):
        events, now = random_events(rng, spec, rng.randint(0, 7))
        try:
            s = replay(spec, events, now)
        except ClockEventRejected as exc:
            rejected += 1
            # the prefix before the rejected event is a valid history, and it alone fails
            at = events[exc.index].at
            replay(spec, events[:exc.index], at)
            with pytest.raises(ClockEventRejected):
                apply(spec, events[:exc.index], events[exc.index], at)
            continue
        accepted += 1
        check_invariants(spec, events, now, s)
        for i in range(len(events)):  # every prefix is accepted at its own time
            replay(spec, events[:i], events[i].at)
    assert accepted > 150 and rejected > 150, (accepted, rejected)


def test_pauses_shift_production_deadlines_exactly() -> None:
    rng = random.Random("pauses")
    for _ in range(300):
        t, events, waited = T0, [], dt.timedelta(0)
        for _ in range(rng.randint(1, 4)):
            t += dt.timedelta(minutes=rng.randint(0, 60))
            events.append(ev(K.CLARIFICATION_REQUESTED, t, R.INCOMPLETE))
            pause = dt.timedelta(minutes=rng.randint(0, 3000))
            t += pause
            waited += pause
            events.append(ev(K.CLARIFICATION_RECEIVED, t))
        s = replay(EMERG, events, t)
        assert s.deadline == T0 + 8 * H + waited and s.paused_for == waited
