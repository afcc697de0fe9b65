"""Notices in the transparency log: their leaves (pure), the v2 daily report that counts them,
and the verifier recounting them from a publication (``rempart verify report``)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from rempart.errors import InvalidInput
from rempart.hotline.service import submit_batch
from rempart.moderation.vocab import ActionKind
from rempart.transparency import (
    Notice, Report, format_notice_leaf, format_report_leaf, parse_day_leaf, parse_notice_leaf,
    parse_report_leaf, verify_published_report,
)
from rempart.transparency.db.publish import publish
from tests.hotline.hotline_helpers import decide_notice, notice, org, posted, reviewer

C = os.urandom(32)


def test_a_notice_leaf_round_trips_and_refuses_anything_else():
    n = Notice("received", "2026-11-29", "trusted_flagger", "protection_of_minors", "pending",
               "none", "EU", C)
    data = format_notice_leaf(n)
    assert data.startswith(b"rempart/notice/v1\nevent received\nday 2026-11-29\n")
    assert parse_notice_leaf(data) == n == parse_day_leaf(data)
    for bad in (data.replace(b"trusted_flagger", b"acme-hotline"),  # no names, only kinds
                data.replace(b"pending", b"actioned"),  # an outcome is not received
                data + b"extra 1\n", data.replace(b"event received\n", b"")):
        with pytest.raises(InvalidInput):
            parse_notice_leaf(bad)
    with pytest.raises(InvalidInput):
        Notice("outcome", "2026-11-29", "ngo", "other", "actioned", "immediate", "EU", C)


def test_a_report_with_notices_is_v2_and_one_without_stays_v1():
    counts = {("notice_decision", "protection_of_minors", "content_removed", "content",
               "trusted_flagger", "not_automated", "under_1h"): 1}
    v1 = Report("2026-11-29", 0, 0, None, counts)
    assert format_report_leaf(v1).startswith(b"rempart/report/v1\n")
    v2 = Report("2026-11-29", 0, 2, None, counts,
                {("received", "ngo", "pending", "none"): 1,
                 ("outcome", "ngo", "actioned", "under_1h"): 1})
    data = format_report_leaf(v2)
    assert data.startswith(b"rempart/report/v2\n")
    assert b"\nnotices outcome ngo actioned under_1h 1\nnotices received ngo pending none 1\n" in data
    assert parse_report_leaf(data) == v2
    with pytest.raises(InvalidInput):  # notice lines have no place in a v1 report
        parse_report_leaf(data.replace(b"rempart/report/v2", b"rempart/report/v1"))


def test_the_verifier_recounts_the_days_notices(runtime, tmp_path):
    posted(runtime, 40, "acct-1", "m-1")
    posted(runtime, 41, "acct-2", "m-2")
    org_id, _ = org(runtime, "Hotline A")
    _, answer = submit_batch(runtime.hotline, org_id, None, {"notices": [
        notice("acct-1", "m-1"), notice("acct-2", "m-2")]})
    first, second = (n["id"] for n in answer["notices"])
    rev = reviewer(runtime)
    decide_notice(runtime, first, rev.actor, [ActionKind.REMOVE_ITEM])
    decide_notice(runtime, second, rev.actor, [ActionKind.DISMISS])
    with runtime.db.session() as s:
        day = runtime.transparency.today()
        runtime.transparency.close_day(s, day)
        publish(s, runtime.transparency, tmp_path / "pub")
    pub, vkey = tmp_path / "pub", (tmp_path / "pub" / "vkey").read_text().strip()
    verdict = verify_published_report(pub, day.isoformat(), vkey)
    assert verdict.ok, verdict.to_json()
    assert verdict.details["notices"] == 4  # two received, two outcomes
    doc = json.loads((pub / "reports" / f"{day}.json").read_text())
    assert doc["notices"]["received"] == {"hotline": 2}
    assert doc["notices"]["outcomes"] == {"hotline": {"actioned": 1, "no_action": 1,
                                                      "forwarded": 0}}
    assert doc["notices"]["time_to_action"]["median"] == "under_1h"
    assert "acct-1" not in (pub / "reports" / f"{day}.json").read_text()
    # a report that miscounts its notices is caught
    bad = tmp_path / "bad"
    shutil.copytree(pub, bad)
    doc["notices"]["received"] = {"hotline": 3}
    (bad / "reports" / f"{day}.json").write_text(json.dumps(doc))
    assert not verify_published_report(bad, day.isoformat(), vkey).ok


def test_the_demo_runs_the_hotline_to_outcomes(runtime):
    from rempart.demo import run_demo

    summary = run_demo(runtime, uploads=20, log=lambda m: None)
    hl = summary.hotline
    assert [n["status"] for n in hl.notices] == ["actioned", "no_action"]
    assert sorted(w["data"]["status"] for w in hl.webhooks) == ["actioned", "no_action"]
    assert hl.public_code.startswith("rc_") and hl.on_device_code.startswith("rc_")
    assert "computed by Python" in "\n".join(hl.render())
    assert summary.to_json()["hotline"]["on_device_hashes"] == 2
