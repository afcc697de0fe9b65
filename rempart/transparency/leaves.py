"""The leaves of rempart's transparency log: one per enforcement decision, one per daily report.

Nothing personal ever enters a leaf: every field is drawn from a closed vocabulary (below), a
UTC day, or a salted commitment. No user identifier, message text, URL or raw content hash can
be written, because the formatter refuses any field or value outside the vocabulary.

Decision leaf, byte for byte: ASCII, every line ending in U+000A, the keys exactly in this
order, each once, one space between key and value::

    rempart/decision/v1
    kind hash_match_block
    day 2026-11-29
    decision upload_blocked
    target content
    ground illegal_content
    category protection_of_minors
    keyword child_sexual_abuse_material
    content_type image
    source_type own_initiative_hash_match   (shared_list_<exchange> for an exchange's entry)
    automated_detection yes
    automated_decision fully
    time_to_action immediate
    region EU
    commitment 3q2+7w...=          (canonical base64 of 32 bytes)

``target`` is what the decision acted on: ``content`` (an item), ``account`` or ``space`` (a
group or channel). It must agree with ``decision`` (``DECISIONS_BY_TARGET``): an account leaf is
``account_suspended``/``account_terminated``, a space leaf ``content_disabled``/``content_restricted``,
a content leaf any content decision; ``no_action`` and ``reinstated`` go with every target.
A reviewer decision that bans a space or an account and removes items gives one leaf for the
space, one for the account and one per item, so counting ``target space`` leaves counts banned
spaces, never the items they held.

``time_to_action`` is a coarse bucket (never a timestamp) of the time from when the platform
learned of the content (upload, notice, flag) to the decision taking effect: ``immediate``
(refused at upload, before anyone could see it: automatic blocks only), then, from
``bucket_time_to_action``, ``under_1h`` [0, 1 h), ``1h_to_24h`` [1 h, 24 h), ``1d_to_7d``
[24 h, 7 d), ``over_7d`` [7 d, ...). Buckets are ordered as listed; ``median_time_to_action``
is the lower median in that order.

(``target`` and ``time_to_action`` joined ``rempart/decision/v1`` and ``rempart/report/v1``
in place, before any log was published; from the first publication on, a change to either
format is a new version line, never an edit of v1.)

Commitment to the content's SHA-256, with a 32-byte secret salt the platform keeps::

    commitment = SHA-256("rempart/commit/v1" 0x0A || salt (32 bytes) || content SHA-256 (32 bytes))

Revealing (salt, content SHA-256) to an authority proves which item a leaf is about; without
the salt the leaf says nothing about the content, so no fingerprint is published.

Notice leaf: a notice received (DSA Art. 16 / 22), and later its outcome, in closed vocabulary::

    rempart/notice/v1
    event received                 received | outcome
    day 2026-11-29
    source trusted_flagger         hotline | ngo | trusted_flagger | public | on_device
    category protection_of_minors  (the decision vocabulary's categories)
    outcome pending                pending (event received) | actioned | no_action | forwarded
    time_to_action none            none (event received) | under_1h | 1h_to_24h | 1d_to_7d | over_7d
    region EU
    commitment 3q2+7w...=          (to the SHA-256 of what was received, salted as below)

``time_to_action`` runs from when the notice was received to its outcome (never ``immediate``:
a person decides). The commitment's content hash is the digest of the notice as received, so a
reporter holding the opening can show that this leaf is their notice; nobody else learns anything.

Daily report leaf: counts of the day's decision leaves, which anyone can recount::

    rempart/report/v1
    day 2026-11-29
    first 1200                  index of the day's first decision leaf, or "none"
    last 1290                   index of the day's last decision leaf, or "none"
    previous 1199               index of the previous report leaf, or "none"
    count <kind> <category> <decision> <target> <source_type> <automated_decision> <time_to_action> <n>
    ...

for example ``count hash_match_block protection_of_minors upload_blocked content
own_initiative_hash_match fully immediate 12`` (one line). A day whose leaves include notice
leaves has a ``rempart/report/v2`` leaf: the same lines, then one line per notice bucket::

    notices <event> <source> <outcome> <time_to_action> <n>

sorted by their four keys (byte order), each at most once; the report's range then covers the
day's decision and notice leaves, and both are recounted. A v2 report may also carry, after
them, the time law-enforcement orders answered that day took from receipt to answer::

    answers <order> <agency> <n> <median seconds> <p95 seconds>

``order`` is the kind of legal clock (``production``, ``emergency_production``,
``preservation``, ``emergency_request``), ``agency`` a label that names no person
(``<country>-<kind>-<number>``, e.g. ``FR-prosecutor-3``); counts and times only. These lines
are the platform's signed statement (no leaf of the day carries the times, so they are not
recounted). A day without notices and answers keeps v1. ``first`` and ``last`` are both "none"
exactly when there are no count lines. Count lines are sorted by their seven keys (byte order),
each key tuple at most once, ``n`` >= 1 in decimal. ``target`` and ``time_to_action`` are count
keys so that the report leaf alone commits to the banned items, accounts and spaces of the day
and to the distribution (hence the median) of the time to action: anyone recomputes them from
the count lines, or from the day's decision leaves (``recount``).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields

from rempart.errors import InvalidInput, shown
from rempart.transparency._text import b64decode, b64encode, parse_decimal
from rempart.transparency.dsa_schema import EEA_COUNTRIES
from rempart.transparency.errors import VerificationError

DECISION_HEADER = "rempart/decision/v1"
NOTICE_HEADER = "rempart/notice/v1"
REPORT_HEADER = "rempart/report/v1"
REPORT_V2_HEADER = "rempart/report/v2"
COMMIT_PREFIX = b"rempart/commit/v1\n"
MAX_DECISION_BYTES = 1024
MAX_REPORT_BYTES = 256 * 1024
MAX_COUNT_LINES = 4096


VOCABULARY: dict[str, tuple[str, ...]] = {
    "kind": ("hash_match_block", "moderation_decision", "notice_decision", "appeal_decision", "authority_order"),
    "decision": (
        "upload_blocked", "content_removed", "content_disabled", "content_restricted",
        "account_suspended", "account_terminated", "no_action", "reinstated",
    ),
    "target": ("content", "account", "space"),
    "ground": ("illegal_content", "incompatible_content"),
    "category": ("protection_of_minors", "non_consensual_behaviour", "pornography_or_sexualized_content", "other"),
    "keyword": (
        "child_sexual_abuse_material", "grooming_sexual_enticement_of_minors",
        "age_specific_restrictions_minors", "unsafe_challenges", "other", "none",
    ),
    "content_type": ("image", "video", "audio", "text", "synthetic_media", "other"),
    "source_type": (
        "article_16_notice", "trusted_flagger", "authority_order",
        "own_initiative_hash_match", "own_initiative_other",
        # a hash match on an entry a hash-sharing exchange shared (``rempart.exchanges``)
        "shared_list_ncmec", "shared_list_threatexchange", "shared_list_stopncii", "shared_list_rempart",
    ),
    "automated_detection": ("yes", "no"),
    "automated_decision": ("fully", "partially", "not_automated"),
    "time_to_action": ("immediate", "under_1h", "1h_to_24h", "1d_to_7d", "over_7d"),
    "region": ("EU", "GLOBAL", *EEA_COUNTRIES),
}  # fmt: skip

#: the targets, and the decisions each can carry
TARGETS = VOCABULARY["target"]
DECISIONS_BY_TARGET: dict[str, tuple[str, ...]] = {
    "content": ("upload_blocked", "content_removed", "content_disabled", "content_restricted",
                "no_action", "reinstated"),
    "account": ("account_suspended", "account_terminated", "no_action", "reinstated"),
    "space": ("content_disabled", "content_restricted", "no_action", "reinstated"),
}
#: decisions that restrict something (a ban): all but no_action and reinstated
ENFORCING = tuple(d for d in VOCABULARY["decision"] if d not in ("no_action", "reinstated"))
#: time-to-action buckets, fastest first
TIME_TO_ACTION = VOCABULARY["time_to_action"]
_HOUR = 3600
_TTA_BOUNDS = ((_HOUR, "under_1h"), (24 * _HOUR, "1h_to_24h"), (7 * 24 * _HOUR, "1d_to_7d"))

COUNT_KEYS = ("kind", "category", "decision", "target", "source_type", "automated_decision", "time_to_action")
CountKey = tuple[str, str, str, str, str, str, str]

NOTICE_VOCABULARY: dict[str, tuple[str, ...]] = {
    "event": ("received", "outcome"),
    "source": ("hotline", "ngo", "trusted_flagger", "public", "on_device"),
    "category": VOCABULARY["category"],
    "outcome": ("pending", "actioned", "no_action", "forwarded"),
    "time_to_action": ("none", *TIME_TO_ACTION[1:]),
    "region": VOCABULARY["region"],
}
NOTICE_SOURCES = NOTICE_VOCABULARY["source"]
NOTICE_OUTCOMES = NOTICE_VOCABULARY["outcome"][1:]
NOTICE_COUNT_KEYS = ("event", "source", "outcome", "time_to_action")
NoticeKey = tuple[str, str, str, str]
#: law-enforcement answers: (order clock kind, agency label) -> (answered, median s, p95 s)
ANSWER_ORDERS = ("production", "emergency_production", "preservation", "emergency_request")
AGENCY_LABEL = re.compile(r"[A-Z]{2}-(police|prosecutor|court)-[1-9][0-9]{0,8}")
AnswerKey = tuple[str, str]
AnswerStat = tuple[int, int, int]


def hash_match_source_type(exchange_kind: str | None) -> str:
    """The ``source_type`` of a decision on a hash match: ``shared_list_<kind>`` when the matched
    entry came from a hash-sharing exchange of that kind, else ``own_initiative_hash_match``."""
    shared = f"shared_list_{exchange_kind}"
    return shared if exchange_kind and shared in VOCABULARY["source_type"] else "own_initiative_hash_match"


def bucket_time_to_action(learned: datetime.datetime, effective: datetime.datetime) -> str:
    """The ``time_to_action`` bucket of a decision taking effect at ``effective`` about content
    the platform learned of at ``learned`` (both naive UTC, or both aware).

    [0, 1 h) -> under_1h, [1 h, 24 h) -> 1h_to_24h, [24 h, 7 d) -> 1d_to_7d, >= 7 d -> over_7d;
    a negative interval (clock skew) counts as under_1h. Never ``immediate``: that bucket is
    for automatic blocks at upload, which no reviewer's decision is.
    """
    seconds = (effective - learned).total_seconds()
    for bound, name in _TTA_BOUNDS:
        if seconds < bound:
            return name
    return "over_7d"


def median_time_to_action(buckets: Iterable[str] | Mapping[str, int]) -> str | None:
    """The lower median bucket (in ``TIME_TO_ACTION`` order) of bucket names, or of a mapping
    bucket -> count; None when there are none. With n values sorted fastest first, it is the
    value at position (n - 1) // 2 (counting from 0)."""
    counts = Counter(buckets) if not isinstance(buckets, Mapping) else Counter(dict(buckets))
    n = sum(counts.values())
    if n == 0:
        return None
    seen, want = 0, (n - 1) // 2
    for name in TIME_TO_ACTION:
        seen += counts.get(name, 0)
        if seen > want:
            return name
    raise InvalidInput("unknown time_to_action bucket")


def make_commitment(salt: bytes, content_sha256: bytes) -> bytes:
    """Return SHA-256("rempart/commit/v1\\n" || salt || content SHA-256); both inputs 32 bytes."""
    if len(salt) != 32 or len(content_sha256) != 32:
        raise InvalidInput("a commitment needs a 32-byte salt and a 32-byte content SHA-256")
    return hashlib.sha256(COMMIT_PREFIX + salt + content_sha256).digest()


def check_commitment(commitment: bytes, salt: bytes, content_sha256: bytes) -> None:
    """Raise VerificationError unless ``commitment`` opens to (salt, content SHA-256)."""
    if not hmac.compare_digest(commitment, make_commitment(salt, content_sha256)):
        raise VerificationError("the commitment does not open to this salt and content hash")


@dataclass(frozen=True)
class Decision:
    """One enforcement decision as the public log sees it; every value is checked on creation."""

    kind: str
    day: str
    decision: str
    target: str
    ground: str
    category: str
    keyword: str
    content_type: str
    source_type: str
    automated_detection: str
    automated_decision: str
    time_to_action: str
    region: str
    commitment: bytes

    def __post_init__(self) -> None:
        _check_day(self.day)
        for name, allowed in VOCABULARY.items():
            value = getattr(self, name)
            if value not in allowed:
                raise InvalidInput(f"{name} {shown(str(value)[:40])} is not in the log vocabulary")
        if self.decision not in DECISIONS_BY_TARGET[self.target]:
            raise InvalidInput(f"decision {self.decision} cannot have target {self.target}")
        if not isinstance(self.commitment, bytes) or len(self.commitment) != 32:
            raise InvalidInput("commitment must be 32 bytes")

    @classmethod
    def from_fields(cls, values: Mapping[str, object]) -> Decision:
        """Build from a mapping; refuse any key that is not a leaf field (no personal data)."""
        names = {f.name for f in fields(cls)}
        extra = sorted(set(values) - names)
        if extra:
            raise InvalidInput(f"fields not allowed in a log leaf: {', '.join(extra)}")
        missing = sorted(names - set(values))
        if missing:
            raise InvalidInput(f"missing leaf fields: {', '.join(missing)}")
        return cls(**values)  # type: ignore[arg-type]

    @property
    def count_key(self) -> CountKey:
        """The report bucket this decision counts in."""
        return (self.kind, self.category, self.decision, self.target, self.source_type,
                self.automated_decision, self.time_to_action)


_DECISION_KEYS = tuple(f.name for f in fields(Decision))


@dataclass(frozen=True)
class Notice:
    """A notice received, or its outcome, as the public log sees it (checked on creation)."""

    event: str
    day: str
    source: str
    category: str
    outcome: str
    time_to_action: str
    region: str
    commitment: bytes

    def __post_init__(self) -> None:
        _check_day(self.day)
        for name, allowed in NOTICE_VOCABULARY.items():
            value = getattr(self, name)
            if value not in allowed:
                raise InvalidInput(f"{name} {shown(str(value)[:40])} is not in the notice vocabulary")
        received = self.event == "received"
        if received != (self.outcome == "pending") or received != (self.time_to_action == "none"):
            raise InvalidInput("a received notice has outcome pending and time_to_action none; "
                               "an outcome has neither")
        if not isinstance(self.commitment, bytes) or len(self.commitment) != 32:
            raise InvalidInput("commitment must be 32 bytes")

    @property
    def count_key(self) -> NoticeKey:
        return (self.event, self.source, self.outcome, self.time_to_action)


_NOTICE_KEYS = tuple(f.name for f in fields(Notice))


def format_notice_leaf(n: Notice) -> bytes:
    """Return the canonical leaf bytes of a notice event."""
    values = asdict(n)
    values["commitment"] = b64encode(n.commitment)
    lines = [NOTICE_HEADER] + [f"{k} {values[k]}" for k in _NOTICE_KEYS]
    return ("\n".join(lines) + "\n").encode("ascii")


def parse_notice_leaf(data: bytes) -> Notice:
    """Parse notice leaf bytes; reject anything ``format_notice_leaf`` would not write."""
    lines = _lines(data, MAX_DECISION_BYTES, NOTICE_HEADER)
    if len(lines) != len(_NOTICE_KEYS):
        raise InvalidInput(f"a notice leaf has {len(_NOTICE_KEYS)} fields, not {len(lines)}")
    values: dict[str, object] = {k: _value(line, k) for k, line in zip(_NOTICE_KEYS, lines, strict=True)}
    values["commitment"] = b64decode(str(values["commitment"]), "commitment")
    n = Notice(**values)  # type: ignore[arg-type]
    if format_notice_leaf(n) != data:
        raise InvalidInput("notice leaf is not in canonical form")
    return n


def parse_day_leaf(data: bytes) -> Decision | Notice:
    """A leaf of a day's range: a decision or a notice (by its first line)."""
    if data.startswith(NOTICE_HEADER.encode() + b"\n"):
        return parse_notice_leaf(data)
    return parse_decision_leaf(data)


def format_decision_leaf(d: Decision) -> bytes:
    """Return the canonical leaf bytes of a decision."""
    values = asdict(d)
    values["commitment"] = b64encode(d.commitment)
    lines = [DECISION_HEADER] + [f"{k} {values[k]}" for k in _DECISION_KEYS]
    return ("\n".join(lines) + "\n").encode("ascii")


def parse_decision_leaf(data: bytes) -> Decision:
    """Parse decision leaf bytes; reject anything ``format_decision_leaf`` would not write."""
    lines = _lines(data, MAX_DECISION_BYTES, DECISION_HEADER)
    if len(lines) != len(_DECISION_KEYS):
        raise InvalidInput(f"a decision leaf has {len(_DECISION_KEYS)} fields, not {len(lines)}")
    values: dict[str, object] = {}
    for key, line in zip(_DECISION_KEYS, lines, strict=True):
        values[key] = _value(line, key)
    values["commitment"] = b64decode(str(values["commitment"]), "commitment")
    d = Decision.from_fields(values)
    if format_decision_leaf(d) != data:
        raise InvalidInput("decision leaf is not in canonical form")
    return d


@dataclass(frozen=True)
class Report:
    """A daily report: the day, the range of its decision leaves, the previous report, counts."""

    day: str
    first: int | None
    last: int | None
    previous: int | None
    counts: Mapping[CountKey, int]
    #: notice leaves per (event, source, outcome, time_to_action); a report with any is v2
    notices: Mapping[NoticeKey, int] = field(default_factory=dict)
    #: orders answered that day per (order, agency): (n, median s, p95 s); any makes it v2
    answers: Mapping[AnswerKey, AnswerStat] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_day(self.day)
        empty = not self.counts and not self.notices
        if (self.first is None) != (self.last is None) or (self.first is None) != empty:
            raise InvalidInput("first and last are none exactly when the report counts nothing")
        if len(self.notices) > MAX_COUNT_LINES:
            raise InvalidInput(f"more than {MAX_COUNT_LINES} notice lines")
        for key, n in self.notices.items():
            if len(key) != len(NOTICE_COUNT_KEYS) or not 1 <= n < 1 << 63:
                raise InvalidInput(f"bad notice count {shown(key)} {shown(n)}")
            for name, value in zip(NOTICE_COUNT_KEYS, key, strict=True):
                if value not in NOTICE_VOCABULARY[name]:
                    raise InvalidInput(f"{name} {shown(value[:40])} is not in the notice vocabulary")
        if len(self.answers) > MAX_COUNT_LINES:
            raise InvalidInput(f"more than {MAX_COUNT_LINES} answer lines")
        for key, stat in self.answers.items():
            if len(key) != 2 or key[0] not in ANSWER_ORDERS or not AGENCY_LABEL.fullmatch(key[1]):
                raise InvalidInput(f"bad answer key {shown(key)}")
            if len(stat) != 3 or not 1 <= stat[0] < 1 << 63 or not 0 <= stat[1] <= stat[2] < 1 << 63:
                raise InvalidInput(f"bad answer times {shown(stat)}")
        if self.first is not None and not 0 <= self.first <= self.last:  # type: ignore[operator]
            raise InvalidInput("report range must have 0 <= first <= last")
        if self.previous is not None and self.first is not None and self.previous >= self.first:
            raise InvalidInput("the previous report must come before this report's first leaf")
        if len(self.counts) > MAX_COUNT_LINES:
            raise InvalidInput(f"more than {MAX_COUNT_LINES} count lines")
        for key, n in self.counts.items():
            if len(key) != len(COUNT_KEYS) or not 1 <= n < 1 << 63:
                raise InvalidInput(f"bad count {shown(key)} {shown(n)}")
            for name, value in zip(COUNT_KEYS, key, strict=True):
                if value not in VOCABULARY[name]:
                    raise InvalidInput(f"{name} {shown(value[:40])} is not in the log vocabulary")
            if key[2] not in DECISIONS_BY_TARGET[key[3]]:
                raise InvalidInput(f"decision {key[2]} cannot have target {key[3]}")


def format_report_leaf(r: Report) -> bytes:
    """Return the canonical leaf bytes of a daily report."""
    lines = [REPORT_V2_HEADER if r.notices or r.answers else REPORT_HEADER, f"day {r.day}"]
    lines += [f"{k} {_format_optional(v)}" for k, v in (("first", r.first), ("last", r.last), ("previous", r.previous))]
    lines += [f"count {' '.join(key)} {r.counts[key]}" for key in sorted(r.counts)]
    lines += [f"notices {' '.join(key)} {r.notices[key]}" for key in sorted(r.notices)]
    lines += [f"answers {' '.join(key)} {' '.join(map(str, r.answers[key]))}" for key in sorted(r.answers)]
    return ("\n".join(lines) + "\n").encode("ascii")


def parse_report_leaf(data: bytes) -> Report:
    """Parse report leaf bytes; reject anything ``format_report_leaf`` would not write."""
    v2 = data.startswith(REPORT_V2_HEADER.encode() + b"\n")
    lines = _lines(data, MAX_REPORT_BYTES, REPORT_V2_HEADER if v2 else REPORT_HEADER)
    if len(lines) < 4:
        raise InvalidInput("a report leaf needs day, first, last and previous lines")
    day = _value(lines[0], "day")
    keys = ("first", "last", "previous")
    first, last, previous = (_optional(_value(line, k), k) for line, k in zip(lines[1:4], keys, strict=True))
    counts: dict[CountKey, int] = {}
    notices: dict[NoticeKey, int] = {}
    answers: dict[AnswerKey, AnswerStat] = {}
    for line in lines[4:]:
        if v2 and line.startswith("answers "):
            parts = _value(line, "answers").split(" ")
            if len(parts) != 5:
                raise InvalidInput("an answers line has an order, an agency and three numbers")
            answers[(parts[0], parts[1])] = tuple(parse_decimal(x, "answers") for x in parts[2:])  # type: ignore[assignment]
            continue
        if v2 and line.startswith("notices "):
            parts = _value(line, "notices").split(" ")
            if len(parts) != len(NOTICE_COUNT_KEYS) + 1:
                raise InvalidInput(f"a notices line has {len(NOTICE_COUNT_KEYS)} keys and a number")
            notices[tuple(parts[:-1])] = parse_decimal(parts[-1], "notices")  # type: ignore[index]
            continue
        parts = _value(line, "count").split(" ")
        if len(parts) != len(COUNT_KEYS) + 1:
            raise InvalidInput(f"a count line has {len(COUNT_KEYS)} keys and a number")
        counts[tuple(parts[:-1])] = parse_decimal(parts[-1], "count")  # type: ignore[index]
    if v2 and not notices and not answers:
        raise InvalidInput("a v2 report has notice or answer lines (a day without them is v1)")
    r = Report(day, first, last, previous, counts, notices, answers)
    if format_report_leaf(r) != data:
        raise InvalidInput("report leaf is not in canonical form (order, duplicates)")
    return r


def answer_stats(samples: Iterable[tuple[str, str, float]]) -> dict[AnswerKey, AnswerStat]:
    """(n, median, 95th percentile) seconds per (order, agency) from (order, agency, seconds)
    samples: the median is the lower median, the 95th percentile the nearest rank (both are
    times that were observed), in whole seconds."""
    groups: dict[AnswerKey, list[int]] = {}
    for order, agency, seconds in samples:
        groups.setdefault((order, agency), []).append(max(0, int(seconds)))
    out = {}
    for key, times in groups.items():
        times.sort()
        n = len(times)
        out[key] = (n, times[(n - 1) // 2], times[max(0, math.ceil(0.95 * n) - 1)])
    return out


def recount(leaves: Iterable[bytes | Decision]) -> dict[CountKey, int]:
    """Count decision leaves (bytes or parsed) per report bucket."""
    decisions = (leaf if isinstance(leaf, Decision) else parse_decision_leaf(leaf) for leaf in leaves)
    return dict(Counter(d.count_key for d in decisions))


def recount_notices(leaves: Iterable[Notice]) -> dict[NoticeKey, int]:
    """Count notice leaves per report bucket."""
    return dict(Counter(n.count_key for n in leaves))


def split_day(leaves: Iterable[bytes | Decision | Notice]) -> tuple[list[Decision], list[Notice]]:
    """A day's leaves (bytes or parsed), as its decisions and its notices."""
    parsed = [x if isinstance(x, (Decision, Notice)) else parse_day_leaf(x) for x in leaves]
    return ([x for x in parsed if isinstance(x, Decision)],
            [x for x in parsed if isinstance(x, Notice)])


def check_report(report: Report, leaves: Sequence[bytes]) -> None:
    """Check a report against the log leaves at indexes ``first..last`` (given in order).

    Every one must be a decision or notice leaf of the report's day (notices only in a v2
    report), and their recounts must equal the report's counts and notice counts. Raises
    VerificationError otherwise.
    """
    want = 0 if report.first is None else report.last - report.first + 1  # type: ignore[operator]
    if len(leaves) != want:
        raise VerificationError(f"report covers {want} leaves, {len(leaves)} given")
    try:
        decisions, notices = split_day(leaves)
    except InvalidInput as exc:
        raise VerificationError(f"a leaf in the report's range is not a decision or notice: {exc}") from exc
    if any(d.day != report.day for d in (*decisions, *notices)):
        raise VerificationError(f"a leaf in the report's range is not from {report.day}")
    if recount(decisions) != dict(report.counts):
        raise VerificationError(f"the recount of {report.day} does not match the report")
    if recount_notices(notices) != dict(report.notices):
        raise VerificationError(f"the recount of {report.day}'s notices does not match the report")


def _lines(data: bytes, cap: int, header: str) -> list[str]:
    if len(data) > cap:
        raise InvalidInput(f"leaf exceeds {cap} bytes")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidInput("leaf is not ASCII") from exc
    if not text.endswith("\n"):
        raise InvalidInput("leaf must end with a newline")
    lines = text[:-1].split("\n")
    if lines[0] != header:
        raise InvalidInput(f"leaf must start with {header}")
    return lines[1:]


def _value(line: str, key: str) -> str:
    prefix = key + " "
    if not line.startswith(prefix) or not line[len(prefix) :]:
        raise InvalidInput(f"expected a {shown(key)} line")
    return line[len(prefix) :]


def _format_optional(value: int | None) -> str:
    return "none" if value is None else str(value)


def _optional(text: str, what: str) -> int | None:
    return None if text == "none" else parse_decimal(text, what)


def _check_day(day: str) -> None:
    try:
        ok = isinstance(day, str) and datetime.date.fromisoformat(day).isoformat() == day
    except ValueError:
        ok = False
    if not ok:
        raise InvalidInput(f"day must be a UTC date YYYY-MM-DD, not {shown(str(day)[:20])}")
