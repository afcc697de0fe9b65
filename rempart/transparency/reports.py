"""The published forms of a daily report: JSON and statements of reasons (the page: ``db.html``).

Pure: every field is a function of the log's leaves (the report leaf and the day's decision
leaves), so a verifier recomputes them and compares (``verify``). Nothing personal or secret
can appear: the inputs are leaves, which hold only vocabulary values, days and commitments, and
the commitments themselves are left out.

``reports/<day>.json`` (keys in this order)::

    {"format": "rempart/transparency-report/v1", "origin": "rempart.local/log",
     "day": "2026-11-29", "leaf_index": 130, "first": 100, "last": 129, "previous": 99,
     "decisions": 30,
     "counts": [{"kind": ..., "category": ..., "decision": ..., "source_type": ...,
                 "automated_decision": ..., "count": 30}],
     "by_source_type": {...}, "by_category": {...}, "by_decision": {...},
     "by_content_type": {...}, "by_automated_detection": {...}, "by_target": {...},
     "by_time_to_action": {...},
     "banned": {"content": 25, "account": 2, "space": 1},
     "banned_by_source_type": {"own_initiative_hash_match": {"content": 20, "account": 0, "space": 0}, ...},
     "banned_by_category": {"protection_of_minors": {"content": 25, "account": 2, "space": 1}, ...},
     "time_to_action": {"median": "immediate",
                        "distribution": {"immediate": 20, "under_1h": 5, "1h_to_24h": 3,
                                         "1d_to_7d": 0, "over_7d": 0}},
     "statements_of_reasons": 30,
     "files": {"html": "2026-11-29.html", "statements_of_reasons": "2026-11-29.sor.json"},
     "checkpoint": "<the first signed checkpoint whose tree holds the report leaf>"}

``counts`` lists the report leaf's count lines (keys ``leaves.COUNT_KEYS``). ``by_<field>``
count all the day's decision leaves by one field (only values that occur, sorted). The rest
counts *bans*: decision leaves whose decision restricts something (``leaves.ENFORCING``: not
``no_action``, not ``reinstated``), per ``target`` — ``banned.content`` is the banned items,
``banned.space`` the banned groups and channels, ``banned.account`` the suspended or terminated
accounts — in total, per source type and per category (every target present, zeros included;
only sources and categories that occur, sorted), and their ``time_to_action`` distribution
(all five buckets, fastest first) with its lower median (``leaves.median_time_to_action``; null
on a day without bans). All of these are sums over the report leaf's count lines
(``enforcement``), which the verifier has recounted from the day's decision leaves.

On a day with notices (a ``rempart/report/v2`` leaf), the JSON also has, after ``time_to_action``::

     "notices": {"received": {"trusted_flagger": 4, "public": 2, ...},
                 "outcomes": {"trusted_flagger": {"actioned": 3, "no_action": 1, "forwarded": 0}, ...},
                 "time_to_action": {"median": "under_1h",
                                    "distribution": {"under_1h": 3, "1h_to_24h": 1, "1d_to_7d": 0,
                                                     "over_7d": 0}}}

counted from the report's notice lines (``notice_summary``): notices received per source kind,
outcomes per source kind (every outcome, zeros included), and the time from receipt to outcome.

``reports/<day>.sor.json``: ``{"statements": [...]}``, the body of the Transparency Database's
``POST /api/v1/statements``, one statement per restricting decision (see ``dsa``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from rempart.transparency.dsa import statement_of_reasons
from rempart.transparency.leaves import (
    COUNT_KEYS,
    ENFORCING,
    NOTICE_COUNT_KEYS,
    NOTICE_OUTCOMES,
    TARGETS,
    TIME_TO_ACTION,
    CountKey,
    Decision,
    Notice,
    NoticeKey,
    Report,
    median_time_to_action,
)

REPORT_FORMAT = "rempart/transparency-report/v1"
BREAKDOWNS = ("source_type", "category", "decision", "content_type", "automated_detection", "target",
              "time_to_action")


def enforcement(counts: Mapping[CountKey, int]) -> dict:
    """The bans among report counts: ``banned``, ``banned_by_source_type``, ``banned_by_category``
    and ``time_to_action`` (distribution and lower median), as in the report JSON."""
    banned = dict.fromkeys(TARGETS, 0)
    by_source: dict[str, dict[str, int]] = {}
    by_category: dict[str, dict[str, int]] = {}
    tta = dict.fromkeys(TIME_TO_ACTION, 0)
    for key, n in counts.items():
        k = dict(zip(COUNT_KEYS, key, strict=True))
        if k["decision"] not in ENFORCING:
            continue
        banned[k["target"]] += n
        by_source.setdefault(k["source_type"], dict.fromkeys(TARGETS, 0))[k["target"]] += n
        by_category.setdefault(k["category"], dict.fromkeys(TARGETS, 0))[k["target"]] += n
        tta[k["time_to_action"]] += n
    return {
        "banned": banned,
        "banned_by_source_type": dict(sorted(by_source.items())),
        "banned_by_category": dict(sorted(by_category.items())),
        "time_to_action": {"median": median_time_to_action(tta), "distribution": tta},
    }


def notice_summary(notices: Mapping[NoticeKey, int]) -> dict:
    """The report's ``notices`` object, from its notice counts (see the module docstring)."""
    received: Counter[str] = Counter()
    outcomes: dict[str, dict[str, int]] = {}
    tta = dict.fromkeys(TIME_TO_ACTION[1:], 0)
    for key, n in notices.items():
        k = dict(zip(NOTICE_COUNT_KEYS, key, strict=True))
        if k["event"] == "received":
            received[k["source"]] += n
            continue
        outcomes.setdefault(k["source"], dict.fromkeys(NOTICE_OUTCOMES, 0))[k["outcome"]] += n
        tta[k["time_to_action"]] += n
    return {"received": dict(sorted(received.items())), "outcomes": dict(sorted(outcomes.items())),
            "time_to_action": {"median": median_time_to_action(tta), "distribution": tta}}


def report_summary(origin: str, index: int, report: Report,
                   leaves: Sequence[Decision | Notice]) -> dict:
    """Everything in the report JSON except its checkpoint; ``leaves`` are leaves first..last
    (parsed: decisions, and notices on a day that has some)."""
    decisions = [x for x in leaves if isinstance(x, Decision)]
    counts = [dict(zip(COUNT_KEYS, key, strict=True), count=n) for key, n in sorted(report.counts.items())]
    out: dict = {
        "format": REPORT_FORMAT, "origin": origin, "day": report.day, "leaf_index": index,
        "first": report.first, "last": report.last, "previous": report.previous,
        "decisions": len(decisions), "counts": counts,
    }  # fmt: skip
    for field in BREAKDOWNS:
        out[f"by_{field}"] = dict(sorted(Counter(getattr(d, field) for d in decisions).items()))
    out.update(enforcement(report.counts))
    if report.notices:
        out["notices"] = notice_summary(report.notices)
    if report.answers:
        out["law_enforcement_answers"] = [
            {"order": o, "agency": a, "answered": n, "median_seconds": med, "p95_seconds": p95}
            for (o, a), (n, med, p95) in sorted(report.answers.items())]
    out["statements_of_reasons"] = len(statements_for(origin, report.first or 0, leaves)["statements"])
    out["files"] = {"html": f"{report.day}.html", "statements_of_reasons": f"{report.day}.sor.json"}
    return out


def report_document(summary: dict, checkpoint: bytes) -> dict:
    """The published report JSON: the summary and the signed checkpoint that holds the report."""
    return {**summary, "checkpoint": checkpoint.decode()}


def statements_for(origin: str, first: int, leaves: Sequence[Decision | Notice]) -> dict:
    """The day's statements of reasons; ``leaves[i]`` is leaf ``first + i`` (notices have none)."""
    out = []
    for i, d in enumerate(leaves):
        if not isinstance(d, Decision):
            continue
        sor = statement_of_reasons(d, first + i, origin)
        if sor is not None:
            out.append(sor)
    return {"statements": out}
