"""Time to answer in the daily transparency report: the ``answers`` lines of the one report
format (rempart/report/v2), their statistics, and a published report that still verifies."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from rempart.authz import Role
from rempart.errors import InvalidInput
from rempart.legal.db import stats
from rempart.legal.db.models import Agency
from rempart.store.db import utcnow
from rempart.transparency.leaves import Report, answer_stats, format_report_leaf, parse_report_leaf
from tests.legal.desk_helpers import agency_with_officer, epoc, items_of
from tests.web.web_helpers import make_users


def test_answer_statistics_are_observed_times():
    samples = [("production", "FR-prosecutor-1", s) for s in (10, 20, 30, 40, 1000)]
    assert answer_stats(samples) == {("production", "FR-prosecutor-1"): (5, 30, 1000)}
    assert answer_stats([("preservation", "DE-police-2", 5)]) == {("preservation", "DE-police-2"): (1, 5, 5)}


def test_answers_lines_round_trip_and_are_checked():
    r = Report("2026-12-01", None, None, None, {}, {}, {("emergency_production", "FR-prosecutor-1"): (2, 60, 90)})
    data = format_report_leaf(r)
    assert data.startswith(b"rempart/report/v2\n")
    assert b"answers emergency_production FR-prosecutor-1 2 60 90\n" in data
    assert parse_report_leaf(data) == r
    for bad in ({("emergency_production", "Parquet de Paris"): (1, 1, 1)},  # a name, not a label
                {("subpoena", "FR-court-1"): (1, 1, 1)}, {("production", "FR-court-1"): (1, 9, 1)}):
        with pytest.raises(InvalidInput):
            Report("2026-12-01", None, None, None, {}, {}, bad)
    with pytest.raises(InvalidInput):
        parse_report_leaf(data.replace(b" 60 90", b" 60 90 7"))


def test_the_daily_report_publishes_time_to_answer_and_still_verifies(runtime, tmp_path):
    from rempart.transparency.db.publish import publish
    from rempart.transparency.verify import verify_published_report

    _, officer, _, _ = agency_with_officer(runtime)
    items_of(runtime, "u-123", 1)
    ana = make_users(runtime, {"ana": Role.LEGAL})["ana"].actor
    t0 = utcnow() - dt.timedelta(minutes=30)
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, epoc(t0, emergency=True), [], now=t0)
        runtime.legal.produce(s, ana, row, tmp_path / "p.zip", now=t0 + dt.timedelta(minutes=20))
        agency_label = stats.agency_label(s.get(Agency, row.agency_id))
    day = t0.date()
    with runtime.db.session() as s:
        runtime.transparency.close_day(s, runtime.transparency.today())
        publish(s, runtime.transparency, tmp_path / "log")
    doc = json.loads((tmp_path / "log" / "reports" / f"{runtime.transparency.today()}.json").read_text())
    if day == runtime.transparency.today():
        assert doc["law_enforcement_answers"] == [{"order": "emergency_production", "agency": agency_label,
                                                   "answered": 1, "median_seconds": 1200, "p95_seconds": 1200}]
    text = json.dumps(doc)
    assert "u-123" not in text and "Parquet" not in text and "PAR-2026" not in text
    v = verify_published_report(tmp_path / "log", str(runtime.transparency.today()), runtime.transparency.vkey())
    assert v.ok, v.reason
