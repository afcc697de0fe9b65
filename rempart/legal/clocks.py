"""The legal clock of an order: a pure function of its receipt, its events and the time.

``replay(spec, events, now)`` folds the order's event list into a ``ClockState`` (status,
deadline, warnings, whether a preservation hold is required and until when, and the history);
it is deterministic, takes the time as an argument and rejects, with ``ClockEventRejected``
naming the event, any list the rules forbid, so the desk checks a transition with
``apply(spec, events, new_event, now)`` before recording it. Times are naive UTC.

Rules (Regulation (EU) 2023/1543):

- production (EPOC): the data are due 10 days after receipt (Art. 10(3)), 8 hours in an
  emergency (Art. 10(4)). Counted as exact hours from receipt: the earliest reading (calendar
  day counting under Regulation 1182/71 would end later), so the platform never relies on the
  later one. With an enforcing authority notified (Art. 8) and no emergency, the data may not be
  sent before the end of its 10-day period unless it confirms earlier that it raises no ground
  for refusal (Art. 10(2)); the Regulation asks for transmission "at the end of that period",
  which we read as within ``EA_TRANSMISSION_WINDOW`` after it;
- preservation (EPOC-PR): the obligation ends 60 days after receipt, 90 if the authority
  extends it within the 60 days (Form 6, Annex VI), and lasts as long as needed once the
  authority confirms within the period that a production request was issued (Form 5, Annex V)
  (Art. 11(1)-(2)); it ends when the authority says so (Art. 11(3));
- a Form 3 (Annex III) asking for clarification (incomplete, manifest errors, insufficient
  information) suspends the obligations until the clarification arrives (Art. 10(6), 11(5)).
  A production deadline then moves by the time spent waiting (suspension, not restart: the
  stricter reading); a preservation period restarts from the clarification (the longer
  reading: nothing is deleted early). The authority should answer within 5 days (shown);
- a Form 3 with any other reason (data not held, de facto impossibility, ...) reports
  non-execution, which answers the order in time if sent before the deadline (Art. 10(7)-(8));
- a voluntary emergency request has no legal clock: the platform's own target is 8 hours.

Warnings fire at ``WARNINGS[kind]`` before the deadline (or the preservation expiry).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from rempart.errors import InvalidInput
from rempart.legal._common import utc
from rempart.legal.errors import ClockEventRejected
from rempart.legal.orders import Order
from rempart.legal.vocab import CLARIFICATION_REASONS, Form3Reason, OrderKind

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
EMERGENCY_PRODUCTION = 8 * HOUR  # Art. 10(4)
PRODUCTION = 10 * DAY  # Art. 10(2)-(3)
PRESERVATION = 60 * DAY  # Art. 11(1)
PRESERVATION_EXTENSION = 30 * DAY  # Art. 11(1), Form 6
CLARIFICATION_REPLY = 5 * DAY  # Art. 10(6), 11(5): the issuing authority reacts within 5 days
EA_TRANSMISSION_WINDOW = DAY  # our reading of "at the end of that 10-day period" (Art. 10(2))
EMERGENCY_REQUEST_TARGET = 8 * HOUR  # the platform's target for a voluntary request (not law)


class ClockKind(str, enum.Enum):
    PRODUCTION = "production"
    EMERGENCY_PRODUCTION = "emergency_production"
    PRESERVATION = "preservation"
    EMERGENCY_REQUEST = "emergency_request"


#: how long before the deadline (or expiry) to warn, latest last
WARNINGS: dict[ClockKind, tuple[dt.timedelta, ...]] = {
    ClockKind.EMERGENCY_PRODUCTION: (2 * HOUR,),
    ClockKind.PRODUCTION: (3 * DAY, 1 * DAY),
    ClockKind.PRESERVATION: (7 * DAY, 2 * DAY),  # time for the authority to send Form 5 or 6
    ClockKind.EMERGENCY_REQUEST: (2 * HOUR,),
}


class EventKind(str, enum.Enum):
    PRESERVED = "preserved"  # the data were frozen (hold placed)
    CLARIFICATION_REQUESTED = "clarification_requested"  # Form 3, clarification reasons: pause
    CLARIFICATION_RECEIVED = "clarification_received"  # resume
    NON_EXECUTION_NOTIFIED = "non_execution_notified"  # Form 3, any other reason
    ENFORCING_AUTHORITY_CLEARED = "enforcing_authority_cleared"  # no ground for refusal (Art. 10(2))
    REFUSED = "refused"  # the enforcing authority raised a ground for refusal (Art. 12)
    PRODUCED = "produced"  # the answer was transmitted (later ones are supplementary deliveries)
    DECLINED = "declined"  # the platform declined a voluntary request
    EXTENDED = "extended"  # Form 6: +30 days of preservation
    PRODUCTION_CONFIRMED = "production_confirmed"  # Form 5: a production request was issued
    PRESERVATION_ENDED = "preservation_ended"  # Art. 11(3), or the data were produced
    WITHDRAWN = "withdrawn"  # the issuing authority withdrew the order or lifted it


class Status(str, enum.Enum):
    OPEN = "open"
    PAUSED = "paused"  # waiting for the authority's clarification
    ANSWERED = "answered"
    NOT_EXECUTED = "not_executed"  # non-execution notified; the authority decides
    DECLINED = "declined"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    PRESERVING = "preserving"
    PRESERVING_UNTIL_PRODUCTION = "preserving_until_production"
    EXPIRED = "expired"
    ENDED = "ended"


class Sla(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"  # a warning time has passed, the deadline has not
    BREACHED = "breached"  # still open past the deadline
    MET = "met"  # closed in time
    LATE = "late"  # closed after the deadline


CLOSED = frozenset({Status.ANSWERED, Status.DECLINED, Status.REFUSED, Status.WITHDRAWN,
                    Status.EXPIRED, Status.ENDED})

_ALLOWED = {
    ClockKind.PRODUCTION: {EventKind.PRESERVED, EventKind.CLARIFICATION_REQUESTED,
                           EventKind.CLARIFICATION_RECEIVED, EventKind.NON_EXECUTION_NOTIFIED,
                           EventKind.ENFORCING_AUTHORITY_CLEARED, EventKind.REFUSED,
                           EventKind.PRODUCED, EventKind.WITHDRAWN},
    ClockKind.PRESERVATION: {EventKind.PRESERVED, EventKind.CLARIFICATION_REQUESTED,
                             EventKind.CLARIFICATION_RECEIVED, EventKind.NON_EXECUTION_NOTIFIED,
                             EventKind.EXTENDED, EventKind.PRODUCTION_CONFIRMED,
                             EventKind.PRESERVATION_ENDED, EventKind.WITHDRAWN},
    ClockKind.EMERGENCY_REQUEST: {EventKind.PRESERVED, EventKind.CLARIFICATION_REQUESTED,
                                  EventKind.CLARIFICATION_RECEIVED, EventKind.PRODUCED,
                                  EventKind.DECLINED, EventKind.WITHDRAWN},
}
_ALLOWED[ClockKind.EMERGENCY_PRODUCTION] = _ALLOWED[ClockKind.PRODUCTION]


@dataclass(frozen=True)
class ClockSpec:
    """What the clock starts from: the kind of clock, the receipt, and an Art. 8 notification."""

    kind: ClockKind
    received_at: dt.datetime
    enforcing_authority_notified: bool = False

    @classmethod
    def for_order(cls, order: Order, received_at: dt.datetime) -> ClockSpec:
        if order.kind is OrderKind.EPOC_PR:
            kind = ClockKind.PRESERVATION
        elif order.kind is OrderKind.EMERGENCY_REQUEST:
            kind = ClockKind.EMERGENCY_REQUEST
        else:
            kind = ClockKind.EMERGENCY_PRODUCTION if order.emergency else ClockKind.PRODUCTION
        return cls(kind, utc(received_at), order.enforcing_authority_notified)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: dt.datetime
    reasons: tuple[Form3Reason, ...] = ()  # the Form 3 reasons, for the two Form 3 events
    actor: str = ""
    note: str = ""


@dataclass(frozen=True)
class HistoryEntry:
    """One event of the history with the status and deadline it left."""

    event: Event
    status: Status
    deadline: dt.datetime | None


@dataclass(frozen=True)
class ClockState:
    spec: ClockSpec
    status: Status
    sla: Sla
    deadline: dt.datetime | None  # due time, or preservation expiry; None if paused or open-ended
    warn_at: tuple[dt.datetime, ...]  # the warning times of the current deadline
    not_before: dt.datetime | None  # no transmission before (Art. 10(2))
    paused_for: dt.timedelta  # time spent waiting for clarifications
    paused_since: dt.datetime | None
    clarification_reply_due: dt.datetime | None
    breached_at: dt.datetime | None
    closed_at: dt.datetime | None
    extended: bool
    production_confirmed: bool
    hold_required: bool  # data under this order must not be deleted
    hold_until: dt.datetime | None  # when hold_required: None means until further notice
    legal: bool  # False for a voluntary request (the deadline is the platform's own target)
    history: tuple[HistoryEntry, ...] = field(default=())

    @property
    def closed(self) -> bool:
        return self.status in CLOSED


class _Fold:
    """The mutable state of one replay."""

    def __init__(self, spec: ClockSpec) -> None:
        self.spec, self.kind = spec, spec.kind
        self.status = Status.PRESERVING if self.kind is ClockKind.PRESERVATION else Status.OPEN
        self.paused_for, self.paused_since = dt.timedelta(0), None
        self.period_start = spec.received_at  # preservation: restarts after a clarification
        self.extended = self.confirmed = False
        self.cleared_at: dt.datetime | None = None
        self.breached_at = self.closed_at = self.answered_at = None
        self.preserved_at = None
        self.resume_to = self.status  # the status a clarification returns to

    @property
    def gated(self) -> bool:
        return (self.kind is ClockKind.PRODUCTION and self.spec.enforcing_authority_notified
                and (self.cleared_at is None or self.cleared_at > self.spec.received_at + PRODUCTION))

    def not_before(self) -> dt.datetime | None:
        return self.spec.received_at + PRODUCTION if self.gated and self.status in (Status.OPEN, Status.PAUSED) else None

    def deadline(self) -> dt.datetime | None:
        r = self.spec.received_at
        if self.kind is ClockKind.PRESERVATION:
            if self.confirmed or self.status is Status.PAUSED:
                return None
            return self.period_start + PRESERVATION + (PRESERVATION_EXTENSION if self.extended else dt.timedelta(0))
        if self.status is Status.PAUSED:
            return None
        base = {ClockKind.EMERGENCY_PRODUCTION: EMERGENCY_PRODUCTION,
                ClockKind.EMERGENCY_REQUEST: EMERGENCY_REQUEST_TARGET}.get(self.kind, PRODUCTION)
        if self.gated:
            base += EA_TRANSMISSION_WINDOW
        return r + base + self.paused_for

    def advance(self, until: dt.datetime) -> None:
        """Let time run to ``until``: note a breach, expire a preservation period."""
        due = self.deadline()
        if due is None or until <= due:
            return
        if self.kind is ClockKind.PRESERVATION and self.status is Status.PRESERVING:
            self.status, self.closed_at = Status.EXPIRED, due
        elif self.status is Status.OPEN and self.breached_at is None:
            self.breached_at = due

    def apply(self, i: int, e: Event) -> None:
        """Apply event number ``i``, or raise ``ClockEventRejected`` naming the rule it breaks."""
        k, s = e.kind, self.status
        if k not in _ALLOWED[self.kind]:
            raise ClockEventRejected(i, f"{k.value} does not apply to a {self.kind.value} clock")
        if s in CLOSED and not (k is EventKind.PRODUCED and s is Status.ANSWERED):
            raise ClockEventRejected(i, f"the clock is {s.value} since {self.closed_at}")
        problem = self._reasons_problem(e) or getattr(self, f"_on_{k.value}")(e)
        if problem:
            raise ClockEventRejected(i, problem)

    def _reasons_problem(self, e: Event) -> str | None:
        form3 = (EventKind.CLARIFICATION_REQUESTED, EventKind.NON_EXECUTION_NOTIFIED)
        if e.kind not in form3 or self.kind is ClockKind.EMERGENCY_REQUEST:
            return f"{e.kind.value} carries no Form 3 reasons" if e.reasons else None
        if not e.reasons:
            return "a Form 3 states at least one reason"
        if e.kind is EventKind.CLARIFICATION_REQUESTED and not set(e.reasons) <= CLARIFICATION_REASONS:
            return "only incomplete, manifest_errors and insufficient_information ask for clarification"
        if e.kind is EventKind.NON_EXECUTION_NOTIFIED and set(e.reasons) & CLARIFICATION_REASONS:
            return "a reason that asks for clarification is a clarification_requested event"
        return None

    # One handler per event kind: each changes the state, or returns why it cannot.

    def _on_preserved(self, e: Event) -> str | None:
        if self.status is Status.NOT_EXECUTED:
            return "nothing to preserve after non-execution"
        self.preserved_at = self.preserved_at or e.at
        return None

    def _on_clarification_requested(self, e: Event) -> str | None:
        if self.status not in (Status.OPEN, Status.PRESERVING):
            return f"cannot pause a clock that is {self.status.value}"
        self.status, self.paused_since, self.resume_to = Status.PAUSED, e.at, self.status
        return None

    def _on_clarification_received(self, e: Event) -> str | None:
        if self.status is not Status.PAUSED:
            return "no clarification was asked"
        self.paused_for += e.at - self.paused_since
        self.status, self.paused_since, self.period_start = self.resume_to, None, e.at
        return None

    def _on_non_execution_notified(self, e: Event) -> str | None:
        if self.status not in (Status.OPEN, Status.PAUSED, Status.PRESERVING):
            return f"cannot report non-execution of a clock that is {self.status.value}"
        self._close(e.at, Status.NOT_EXECUTED, answers=True)
        return None

    def _on_enforcing_authority_cleared(self, e: Event) -> str | None:
        if not self.spec.enforcing_authority_notified:
            return "no enforcing authority was notified of this order"
        self.cleared_at = self.cleared_at or e.at
        return None

    def _on_refused(self, e: Event) -> str | None:
        if not self.spec.enforcing_authority_notified:
            return "no enforcing authority was notified of this order"
        self._close(e.at, Status.REFUSED)
        return None

    def _on_produced(self, e: Event) -> str | None:
        if self.status is Status.ANSWERED:
            return None  # a supplementary delivery: the answer was already given
        nb = self.not_before()
        if nb is not None and e.at < nb:
            return f"no transmission before {nb} unless the enforcing authority clears it (Art. 10(2))"
        self._close(e.at, Status.ANSWERED, answers=True)
        return None

    def _on_declined(self, e: Event) -> str | None:
        self._close(e.at, Status.DECLINED, answers=True)
        return None

    def _on_extended(self, e: Event) -> str | None:
        if self.status is not Status.PRESERVING:
            return f"the preservation is {self.status.value}"
        if self.extended:
            return "a preservation is extended once, by 30 days (Art. 11(1))"
        if e.at > self.period_start + PRESERVATION:
            return "an extension must arrive within the 60-day period (Art. 11(1))"
        self.extended = True
        return None

    def _on_production_confirmed(self, e: Event) -> str | None:
        if self.status is not Status.PRESERVING:
            return f"the preservation is {self.status.value}"
        self.confirmed, self.status = True, Status.PRESERVING_UNTIL_PRODUCTION
        return None

    def _on_preservation_ended(self, e: Event) -> str | None:
        self._close(e.at, Status.ENDED)
        return None

    def _on_withdrawn(self, e: Event) -> str | None:
        self._close(e.at, Status.WITHDRAWN)
        return None

    def _close(self, at: dt.datetime, status: Status, *, answers: bool = False) -> None:
        if self.paused_since is not None:  # closing ends a pause: the wait stops counting
            self.paused_for += at - self.paused_since
            self.paused_since = None
        if answers and self.kind is not ClockKind.PRESERVATION:
            self.answered_at = at
        self.status, self.closed_at = status, at


def replay(spec: ClockSpec, events: Sequence[Event], now: dt.datetime) -> ClockState:
    """Fold ``events`` (in time order, none before receipt or after ``now``) into the state at ``now``."""
    now = utc(now)
    if spec.received_at > now:
        raise InvalidInput("the order was received after now")
    f, history = _Fold(spec), []
    last = spec.received_at
    for i, e in enumerate(events):
        at = utc(e.at)
        if at < last or at > now:
            raise ClockEventRejected(i, "events must be in time order, after receipt and not in the future")
        e = e if at == e.at else Event(e.kind, at, e.reasons, e.actor, e.note)
        f.advance(at)
        f.apply(i, e)
        history.append(HistoryEntry(e, f.status, f.deadline()))
        last = at
    f.advance(now)
    return _state(f, now, tuple(history))


def apply(spec: ClockSpec, events: Sequence[Event], event: Event, now: dt.datetime) -> ClockState:
    """The state after adding ``event``; raises ``ClockEventRejected`` if the rules forbid it."""
    return replay(spec, [*events, event], now)


def _state(f: _Fold, now: dt.datetime, history: tuple[HistoryEntry, ...]) -> ClockState:
    due = f.deadline()
    warn = tuple(due - w for w in WARNINGS[f.kind]) if due is not None else ()
    if f.kind is ClockKind.PRESERVATION:
        sla = Sla.MET if f.status in CLOSED or f.status is Status.NOT_EXECUTED else \
            Sla.WARNING if warn and now >= warn[0] else Sla.OK
    elif f.answered_at is not None:
        sla = Sla.LATE if f.breached_at is not None or (due and f.answered_at > due) else Sla.MET
    elif f.status in CLOSED:
        sla = Sla.LATE if f.breached_at is not None else Sla.MET
    elif f.breached_at is not None:
        sla = Sla.BREACHED
    else:
        sla = Sla.WARNING if warn and now >= warn[0] else Sla.OK
    if f.kind is ClockKind.PRESERVATION:
        hold = f.status in (Status.PRESERVING, Status.PRESERVING_UNTIL_PRODUCTION, Status.PAUSED)
        hold_until = due if hold and f.status is Status.PRESERVING else None
    else:  # an EPOC's data stay preserved until produced (Art. 10(1); Form 3 section G)
        hold = f.kind is not ClockKind.EMERGENCY_REQUEST and f.status in (Status.OPEN, Status.PAUSED)
        hold_until = None
    reply_due = f.paused_since + CLARIFICATION_REPLY if f.paused_since is not None else None
    return ClockState(
        spec=f.spec, status=f.status, sla=sla, deadline=due, warn_at=warn, not_before=f.not_before(),
        paused_for=f.paused_for + (now - f.paused_since if f.paused_since else dt.timedelta(0)),
        paused_since=f.paused_since, clarification_reply_due=reply_due, breached_at=f.breached_at,
        closed_at=f.closed_at, extended=f.extended, production_confirmed=f.confirmed,
        hold_required=hold, hold_until=hold_until, legal=f.kind is not ClockKind.EMERGENCY_REQUEST,
        history=history)
