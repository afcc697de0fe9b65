"""Law-enforcement orders: the typed model of an EPOC, an EPOC-PR or an emergency request.

The fields follow the certificates of Regulation (EU) 2023/1543: Annex I (EPOC, production) and
Annex II (EPOC-PR, preservation), with the platform as addressee. A voluntary emergency
disclosure request (a threat to life or a child at risk, outside any order) uses the same
shape with a ``threat`` instead of an offence. The mapping onto ETSI TS 103 120 is in
``rempart.legal.etsi``.

JSON (UTF-8, at most ``MAX_ORDER_BYTES``; unknown fields are errors at every level)::

    {"kind": "epoc",                                   epoc | epoc_pr | emergency_request
     "reference": "PAR-2026-0042",                     issuing authority's file number (section A)
     "issued_at": "2026-08-20T09:00:00Z",              date of signature (section I)
     "issuing_authority": {"name": "...", "country": "FR", "kind": "prosecutor",
                           "file_number": "...", "contact": {"name","email","phone"}},
     "validating_authority": {...} | null,              section J, Art. 4
     "offence": {"legal_classification": "...", "statutory_provision": "...",
                 "max_custodial_years": 5, "listed_offence": "child_sexual_abuse" | null,
                 "by_information_system": true, "summary": "..."},      section G, Art. 5
     "purpose": "criminal_proceedings",                 or execution_of_sentence (+ "sentence_months")
     "data_categories": ["subscriber", "ip_identification", "traffic", "content"],  section F
     "targets": [{"type": "account", "value": "u-123"},
                 {"type": "ip", "value": "203.0.113.7", "port": 51000, "at": "2026-08-01T10:00:00Z"}],
     "time_range": {"start": "...", "end": "..."},      required for traffic and content
     "emergency": false, "emergency_reason": "...",     section B/C: 8 hours (Art. 10(4))
     "confidential": true,                              do not inform the user (default true)
     "enforcing_authority_notified": false,             section K, Art. 8 (EPOC only)
     "related": [{"kind": "epoc_pr", "reference": "..."}],                 section D
     "threat": {"kind": "child_at_risk", "description": "..."}}            emergency_request only

Rules enforced at parse time, each error naming its field (nothing is half-accepted):

- an EPOC or EPOC-PR comes from a Member State bound by the Regulation (not Denmark);
- Art. 4: an order for traffic or content data is issued or validated by a judge, court or
  investigating judge; any other order (identifying data, any EPOC-PR) by one of those or a
  prosecutor. The validating authority is of the issuing State. In an emergency an order that a
  prosecutor could validate may arrive unvalidated: ``validation_pending``, due within 48 hours
  of issue (Art. 4(5));
- Art. 5(4): traffic or content data only for an offence punishable by at least 3 years, or a
  listed offence (``NEEDS_INFORMATION_SYSTEM`` ones only if committed by means of an
  information system); execution orders need a sentence of at least 4 months (Art. 5(3));
- an ``ip`` target carries the time it was used (an address alone identifies nobody);
- ``confidential`` defaults to true: under Art. 13 the issuing authority, not the provider,
  informs the person, and the provider keeps the order confidential.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rempart.legal._common import canonical_json, format_time, is_email
from rempart.legal._reader import Reader
from rempart.legal.errors import OrderFormatError
from rempart.legal.vocab import (
    BOUND_MEMBER_STATES, JUDICIAL_ALL, JUDICIAL_COURTS, MIN_SENTENCE_MONTHS,
    NEEDS_INFORMATION_SYSTEM, SENSITIVE, SERIOUS_OFFENCE_YEARS, AuthorityKind, DataCategory,
    ListedOffence, OrderKind, Purpose, RelatedKind, TargetType, ThreatKind,
)

MAX_ORDER_BYTES = 64 * 1024
MAX_TARGETS = 100
MAX_RELATED = 20
MAX_TEXT = 4000
EX_POST_VALIDATION = dt.timedelta(hours=48)  # Art. 4(5)
CLOCK_SKEW = dt.timedelta(minutes=5)  # an order may not be issued after it was received

_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Authority:
    name: str
    country: str  # ISO 3166-1 alpha-2
    kind: AuthorityKind
    file_number: str | None = None
    contact: Contact | None = None


@dataclass(frozen=True)
class Offence:
    legal_classification: str
    statutory_provision: str
    summary: str
    max_custodial_years: int | None = None
    listed_offence: ListedOffence | None = None
    by_information_system: bool = False

    @property
    def serious(self) -> bool:
        """Whether it allows traffic or content data (Art. 5(4)(a)-(c))."""
        if self.max_custodial_years is not None and self.max_custodial_years >= SERIOUS_OFFENCE_YEARS:
            return True
        if self.listed_offence is None:
            return False
        return self.by_information_system or self.listed_offence not in NEEDS_INFORMATION_SYSTEM


@dataclass(frozen=True)
class Target:
    type: TargetType
    value: str
    port: int | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True)
class TimeRange:
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Threat:
    kind: ThreatKind
    description: str


@dataclass(frozen=True)
class Related:
    kind: RelatedKind
    reference: str


@dataclass(frozen=True)
class Order:
    kind: OrderKind
    reference: str
    issued_at: dt.datetime
    issuing: Authority
    categories: tuple[DataCategory, ...]
    targets: tuple[Target, ...]
    validating: Authority | None = None
    offence: Offence | None = None
    purpose: Purpose = Purpose.CRIMINAL_PROCEEDINGS
    sentence_months: int | None = None
    time_range: TimeRange | None = None
    emergency: bool = False
    emergency_reason: str | None = None
    threat: Threat | None = None
    confidential: bool = True
    enforcing_authority_notified: bool = False
    related: tuple[Related, ...] = ()

    @property
    def required_validators(self) -> frozenset[AuthorityKind] | None:
        """Who must have issued or validated it (Art. 4); None for a voluntary request."""
        if self.kind is OrderKind.EMERGENCY_REQUEST:
            return None
        if self.kind is OrderKind.EPOC and SENSITIVE & set(self.categories):
            return JUDICIAL_COURTS
        return JUDICIAL_ALL

    @property
    def validation_pending(self) -> bool:
        """Issued in an emergency without the validation it needs, to follow ex post (Art. 4(5))."""
        needed = self.required_validators
        return needed is not None and self.validating is None and self.issuing.kind not in needed

    @property
    def ex_post_validation_due(self) -> dt.datetime | None:
        return self.issued_at + EX_POST_VALIDATION if self.validation_pending else None


def _contact(r: Reader | None) -> Contact | None:
    if r is None or not r.ok:
        return None
    name = r.text("name")
    email, phone = r.text("email", required=False), r.text("phone", required=False)
    if email is not None and not is_email(email):
        r.error("email", "not an email address")
    if phone is not None and not _PHONE.fullmatch(phone):
        r.error("phone", "want E.164: + and 7 to 15 digits")
    r.done({"name", "email", "phone"})
    return Contact(name, email, phone) if name else None


def _authority(r: Reader | None) -> Authority | None:
    if r is None or not r.ok:
        return None
    name, country = r.text("name"), r.text("country")
    if country is not None and not _COUNTRY.fullmatch(country):
        r.error("country", "want an ISO 3166-1 alpha-2 code such as FR")
        country = None
    kind = r.choice("kind", AuthorityKind)
    file_number = r.text("file_number", required=False, limit=128)
    contact = _contact(r.child("contact", required=False))
    r.done({"name", "country", "kind", "file_number", "contact"})
    if name is None or country is None or kind is None:
        return None
    return Authority(name, country, kind, file_number, contact)


def _offence(r: Reader | None) -> Offence | None:
    if r is None or not r.ok:
        return None
    classification = r.text("legal_classification", limit=MAX_TEXT, multiline=True)
    provision = r.text("statutory_provision", limit=MAX_TEXT, multiline=True)
    summary = r.text("summary", limit=MAX_TEXT, multiline=True)
    years = r.integer("max_custodial_years", 0, 100)
    listed = r.choice("listed_offence", ListedOffence, required=False)
    by_is = r.flag("by_information_system", False)
    r.done({"legal_classification", "statutory_provision", "summary", "max_custodial_years",
            "listed_offence", "by_information_system"})
    if classification is None or provision is None or summary is None:
        return None
    return Offence(classification, provision, summary, years, listed, by_is)


def _target(r: Reader) -> Target | None:
    if not r.ok:
        return None
    ttype, value = r.choice("type", TargetType), r.text("value", limit=256)
    port, at = r.integer("port", 0, 65535), r.time("at", required=False)
    r.done({"type", "value", "port", "at"})
    if ttype is None or value is None:
        return None
    if ttype is TargetType.IP:
        try:
            value = str(ipaddress.ip_address(value))
        except ValueError:
            r.error("value", "not an IPv4 or IPv6 address")
            return None
        if at is None:
            r.error("at", "an IP address identifies someone only at a given time: required")
    elif port is not None or at is not None:
        r.error("port" if port is not None else "at", "only for targets of type ip")
    elif ttype is TargetType.EMAIL and not is_email(value):
        r.error("value", "not an email address")
    elif ttype is TargetType.PHONE and not _PHONE.fullmatch(value):
        r.error("value", "want E.164: + and 7 to 15 digits")
    return Target(ttype, value, port, at)


def parse_order(data: bytes | str | Mapping, *, received_at: dt.datetime | None = None) -> Order:
    """Parse and validate an order; raise ``OrderFormatError`` listing every problem.

    ``received_at`` (naive UTC), when given, refuses an order issued after it was received.
    """
    if isinstance(data, (bytes, str)):
        raw = data.encode() if isinstance(data, str) else data
        if len(raw) > MAX_ORDER_BYTES:
            raise OrderFormatError([("(order)", f"larger than {MAX_ORDER_BYTES} bytes")])
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise OrderFormatError([("(order)", f"not JSON: {exc}")]) from None
    errors: list[tuple[str, str]] = []
    order = _read_order(Reader(data, "", errors), received_at)
    if errors or order is None:
        raise OrderFormatError(errors or [("(order)", "invalid")])
    return order


def _categories(r: Reader) -> list[DataCategory]:
    raw, out = r.data.get("data_categories"), []
    if not isinstance(raw, list) or not raw or len(raw) > len(DataCategory):
        r.error("data_categories", f"want a list of 1 to {len(DataCategory)} categories")
        return out
    for i, value in enumerate(raw):
        try:
            out.append(DataCategory(value))
        except (ValueError, TypeError):
            r.error(f"data_categories[{i}]", f"want one of {', '.join(c.value for c in DataCategory)}")
    if len(set(out)) != len(out):
        r.error("data_categories", "duplicate category")
    return sorted(set(out), key=list(DataCategory).index)


def _targets(r: Reader) -> list[Target]:
    targets = [t for t in (_target(item) for item in r.items("targets", MAX_TARGETS)) if t]
    keys = [(t.type, t.value, t.port, t.at) for t in targets]
    if len(set(keys)) != len(keys):
        r.error("targets", "duplicate target")
    return targets


def _time_range(r: Reader | None) -> TimeRange | None:
    if r is None or not r.ok:
        return None
    start, end = r.time("start"), r.time("end")
    r.done({"start", "end"})
    if start and end and start >= end:
        r.error("end", "must be after start")
    return TimeRange(start, end) if start and end and start < end else None


def _related(r: Reader) -> list[Related]:
    out = []
    for item in r.items("related", MAX_RELATED, required=False):
        kind, ref = item.choice("kind", RelatedKind), item.text("reference", limit=128)
        item.done({"kind", "reference"})
        if kind and ref:
            out.append(Related(kind, ref))
    return out


def _threat(r: Reader | None) -> Threat | None:
    if r is None or not r.ok:
        return None
    kind, description = r.choice("kind", ThreatKind), r.text("description", limit=MAX_TEXT, multiline=True)
    r.done({"kind", "description"})
    return Threat(kind, description) if kind and description else None


def _read_order(r: Reader, received_at: dt.datetime | None) -> Order | None:
    if not r.ok:
        return None
    kind = r.choice("kind", OrderKind)
    request = kind is OrderKind.EMERGENCY_REQUEST
    reference, issued_at = r.text("reference", limit=128), r.time("issued_at")
    issuing = _authority(r.child("issuing_authority"))
    validating = _authority(r.child("validating_authority", required=False))
    offence = _offence(r.child("offence", required=not request))
    purpose = r.choice("purpose", Purpose, required=False) or Purpose.CRIMINAL_PROCEEDINGS
    sentence = r.integer("sentence_months", 1, 1200)
    categories, targets = _categories(r), _targets(r)
    time_range = _time_range(r.child("time_range", required=bool(SENSITIVE & set(categories))))
    emergency = r.flag("emergency", request)
    reason = r.text("emergency_reason", required=False, limit=MAX_TEXT, multiline=True)
    confidential = r.flag("confidential", True)
    ea_notified = r.flag("enforcing_authority_notified", False)
    related, threat = _related(r), _threat(r.child("threat", required=request))
    r.done({"kind", "reference", "issued_at", "issuing_authority", "validating_authority", "offence",
            "purpose", "sentence_months", "data_categories", "targets", "time_range", "emergency",
            "emergency_reason", "confidential", "enforcing_authority_notified", "related", "threat"})
    if kind is None or reference is None or issued_at is None or issuing is None or r.errors:
        return None
    order = Order(kind, reference, issued_at, issuing, tuple(categories), tuple(targets), validating, offence,
                  purpose, sentence, time_range, emergency, reason, threat, confidential, ea_notified,
                  tuple(related))
    _check_rules(order, r, received_at)
    return order


def _check_rules(o: Order, r: Reader, received_at: dt.datetime | None) -> None:
    """The Regulation's conditions (Art. 4, 5, 8) and the fields each kind may carry."""
    if received_at is not None and o.issued_at > received_at + CLOCK_SKEW:
        r.error("issued_at", "after the order was received")
    if o.kind is OrderKind.EMERGENCY_REQUEST:
        if not o.emergency:
            r.error("emergency", "an emergency request is an emergency")
        for key, present in (("enforcing_authority_notified", o.enforcing_authority_notified),
                             ("sentence_months", o.sentence_months is not None)):
            if present:
                r.error(key, "not for a voluntary emergency request")
        return
    if o.threat is not None:
        r.error("threat", "only for an emergency_request; an order states its offence")
    if o.issuing.country not in BOUND_MEMBER_STATES:
        r.error("issuing_authority.country",
                f"{o.issuing.country} is not a Member State bound by Regulation (EU) 2023/1543")
    if o.emergency and o.emergency_reason is None:
        r.error("emergency_reason", "required for an emergency (imminent threat to life, "
                "physical integrity or safety of a person, or critical infrastructure)")
    if o.enforcing_authority_notified and o.kind is not OrderKind.EPOC:
        r.error("enforcing_authority_notified", "only a production order is notified (Art. 8)")
    needed = o.required_validators
    sensitive = o.kind is OrderKind.EPOC and bool(SENSITIVE & set(o.categories))
    who = "a judge, court or investigating judge" if needed == JUDICIAL_COURTS else \
        "a judge, court, investigating judge or prosecutor"
    if o.validating is not None:
        if o.validating.kind not in needed:
            r.error("validating_authority.kind", f"must be {who} (Art. 4)")
        if o.validating.country != o.issuing.country:
            r.error("validating_authority.country", "must be of the issuing State")
    elif o.issuing.kind not in needed and (sensitive or not o.emergency):
        r.error("validating_authority", f"required: the issuing authority is not {who} (Art. 4)"
                + ("" if sensitive else "; only an emergency order may be validated ex post"))
    if o.purpose is Purpose.EXECUTION_OF_SENTENCE:
        if o.sentence_months is None or o.sentence_months < MIN_SENTENCE_MONTHS:
            r.error("sentence_months", f"an execution order needs a sentence of at least "
                    f"{MIN_SENTENCE_MONTHS} months (Art. 5(3))")
    elif o.sentence_months is not None:
        r.error("sentence_months", "only for purpose execution_of_sentence")
    if sensitive and o.offence is not None and not o.offence.serious:
        r.error("offence", f"traffic and content data need an offence punishable by at least "
                f"{SERIOUS_OFFENCE_YEARS} years or listed in Art. 5(4)")


def order_to_json(order: Order) -> dict:
    """The order as the JSON object ``parse_order`` reads (every field, canonical values)."""

    def authority(a: Authority | None) -> dict | None:
        if a is None:
            return None
        contact = None if a.contact is None else {"name": a.contact.name, "email": a.contact.email,
                                                  "phone": a.contact.phone}
        return {"name": a.name, "country": a.country, "kind": a.kind.value,
                "file_number": a.file_number, "contact": contact}

    off = order.offence
    return {
        "kind": order.kind.value, "reference": order.reference, "issued_at": format_time(order.issued_at),
        "issuing_authority": authority(order.issuing), "validating_authority": authority(order.validating),
        "offence": None if off is None else {
            "legal_classification": off.legal_classification, "statutory_provision": off.statutory_provision,
            "summary": off.summary, "max_custodial_years": off.max_custodial_years,
            "listed_offence": off.listed_offence.value if off.listed_offence else None,
            "by_information_system": off.by_information_system},
        "purpose": order.purpose.value, "sentence_months": order.sentence_months,
        "data_categories": [c.value for c in order.categories],
        "targets": [{"type": t.type.value, "value": t.value, "port": t.port,
                     "at": format_time(t.at) if t.at else None} for t in order.targets],
        "time_range": None if order.time_range is None else {
            "start": format_time(order.time_range.start), "end": format_time(order.time_range.end)},
        "emergency": order.emergency, "emergency_reason": order.emergency_reason,
        "confidential": order.confidential,
        "enforcing_authority_notified": order.enforcing_authority_notified,
        "related": [{"kind": x.kind.value, "reference": x.reference} for x in order.related],
        "threat": None if order.threat is None else {"kind": order.threat.kind.value,
                                                     "description": order.threat.description},
    }


def order_bytes(order: Order) -> bytes:
    """The order's canonical JSON bytes (as stored in a disclosure package and an ETSI document)."""
    return canonical_json(order_to_json(order))
