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
     "by_content_type": {...}, "by_automated_detection": {...},
     "statements_of_reasons": 30,
     "files": {"html": "2026-11-29.html", "statements_of_reasons": "2026-11-29.sor.json"},
     "checkpoint": "<the first signed checkpoint whose tree holds the report leaf>"}

``reports/<day>.sor.json``: ``{"statements": [...]}``, the body of the Transparency Database's
``POST /api/v1/statements``, one statement per restricting decision (see ``dsa``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rempart.transparency.dsa import statement_of_reasons
from rempart.transparency.leaves import COUNT_KEYS, Decision, Report

REPORT_FORMAT = "rempart/transparency-report/v1"
BREAKDOWNS = ("source_type", "category", "decision", "content_type", "automated_detection")


def report_summary(origin: str, index: int, report: Report, decisions: Sequence[Decision]) -> dict:
    """Everything in the report JSON except its checkpoint; ``decisions`` are leaves first..last."""
    counts = [dict(zip(COUNT_KEYS, key, strict=True), count=n) for key, n in sorted(report.counts.items())]
    out: dict = {
        "format": REPORT_FORMAT, "origin": origin, "day": report.day, "leaf_index": index,
        "first": report.first, "last": report.last, "previous": report.previous,
        "decisions": len(decisions), "counts": counts,
    }  # fmt: skip
    for field in BREAKDOWNS:
        out[f"by_{field}"] = dict(sorted(Counter(getattr(d, field) for d in decisions).items()))
    out["statements_of_reasons"] = len(statements_for(origin, report.first or 0, decisions)["statements"])
    out["files"] = {"html": f"{report.day}.html", "statements_of_reasons": f"{report.day}.sor.json"}
    return out


def report_document(summary: dict, checkpoint: bytes) -> dict:
    """The published report JSON: the summary and the signed checkpoint that holds the report."""
    return {**summary, "checkpoint": checkpoint.decode()}


def statements_for(origin: str, first: int, decisions: Sequence[Decision]) -> dict:
    """The day's statements of reasons; ``decisions[i]`` is leaf ``first + i``."""
    out = []
    for i, d in enumerate(decisions):
        sor = statement_of_reasons(d, first + i, origin)
        if sor is not None:
            out.append(sor)
    return {"statements": out}
