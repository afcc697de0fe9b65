"""rempart's decision and report leaves: golden bytes, strict parsing, no personal data, recount."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib

import pytest

from rempart.errors import InvalidInput
from rempart.transparency import (
    Decision,
    Report,
    VerificationError,
    bucket_time_to_action,
    check_commitment,
    check_report,
    format_decision_leaf,
    format_report_leaf,
    make_commitment,
    median_time_to_action,
    parse_decision_leaf,
    parse_report_leaf,
    recount,
)

SALT = bytes(range(32))
CONTENT = hashlib.sha256(b"a benign stand-in picture").digest()
COMMITMENT = make_commitment(SALT, CONTENT)

FIELDS = dict(
    kind="hash_match_block",
    day="2026-11-29",
    decision="upload_blocked",
    target="content",
    ground="illegal_content",
    category="protection_of_minors",
    keyword="child_sexual_abuse_material",
    content_type="image",
    source_type="own_initiative_hash_match",
    automated_detection="yes",
    automated_decision="fully",
    time_to_action="immediate",
    region="EU",
    commitment=COMMITMENT,
)

GOLDEN = (
    "rempart/decision/v1\n"
    "kind hash_match_block\n"
    "day 2026-11-29\n"
    "decision upload_blocked\n"
    "target content\n"
    "ground illegal_content\n"
    "category protection_of_minors\n"
    "keyword child_sexual_abuse_material\n"
    "content_type image\n"
    "source_type own_initiative_hash_match\n"
    "automated_detection yes\n"
    "automated_decision fully\n"
    "time_to_action immediate\n"
    "region EU\n"
    "commitment {}\n"
)


def test_commitment_is_salted_and_opens() -> None:
    prefix = b"rempart/commit/v1\n"
    assert COMMITMENT == hashlib.sha256(prefix + SALT + CONTENT).digest()
    assert COMMITMENT != make_commitment(bytes(32), CONTENT)  # another salt, another commitment
    check_commitment(COMMITMENT, SALT, CONTENT)
    with pytest.raises(VerificationError):
        check_commitment(COMMITMENT, SALT, hashlib.sha256(b"other").digest())
    with pytest.raises(InvalidInput):
        make_commitment(SALT[:16], CONTENT)


def test_decision_leaf_golden_bytes() -> None:
    import base64

    leaf = format_decision_leaf(Decision(**FIELDS))
    assert leaf == GOLDEN.format(base64.b64encode(COMMITMENT).decode()).encode()
    assert parse_decision_leaf(leaf) == Decision(**FIELDS)
    assert CONTENT not in leaf and CONTENT.hex().encode() not in leaf  # no raw hash, in any spelling
    assert base64.b64encode(CONTENT) not in leaf


@pytest.mark.parametrize("extra", ["user_id", "account", "message_text", "sha256", "url", "ip"])
def test_fields_outside_the_vocabulary_are_refused(extra: str) -> None:
    with pytest.raises(InvalidInput):
        Decision.from_fields({**FIELDS, extra: "something personal"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("category", "alice@example.com"),
        ("region", "Paris"),
        ("day", "2026-11-29T10:00"),
        ("day", "20261129"),
        ("day", "2026-02-30"),
        ("kind", "hash_match_block "),
        ("commitment", CONTENT.hex().encode()),
    ],
)
def test_values_outside_the_vocabulary_are_refused(name: str, value: object) -> None:
    with pytest.raises(InvalidInput):
        Decision(**{**FIELDS, name: value})


def test_decision_parser_rejects_non_canonical_leaves() -> None:
    leaf = format_decision_leaf(Decision(**FIELDS))
    lines = leaf.decode().split("\n")
    swapped = "\n".join(lines[:2] + [lines[3], lines[2]] + lines[4:]).encode()
    for bad in (
        leaf[:-1],  # missing final newline
        leaf + b"extra x\n",
        leaf.replace(b"region EU\n", b""),
        leaf.replace(b"region EU\n", b"region EU\nregion EU\n"),  # duplicated line
        leaf.replace(b"kind ", b"kind  "),
        leaf.replace(b"rempart/decision/v1", b"rempart/decision/v2"),
        swapped,
        leaf.replace(b"=\n", b"\n"),  # unpadded commitment
        leaf + b"x" * 1024,
    ):
        with pytest.raises(InvalidInput):
            parse_decision_leaf(bad)


def _decisions() -> list[Decision]:
    base = Decision(**FIELDS)
    return [
        base,
        base,
        dataclasses.replace(base, kind="notice_decision", decision="content_removed", source_type="trusted_flagger",
                            automated_detection="no", automated_decision="not_automated"),
        dataclasses.replace(base, decision="no_action", automated_decision="partially"),
    ]  # fmt: skip


def test_report_round_trip_and_recount() -> None:
    leaves = [format_decision_leaf(d) for d in _decisions()]
    counts = recount(leaves)
    assert (
        counts[("hash_match_block", "protection_of_minors", "upload_blocked", "content", "own_initiative_hash_match",
                "fully", "immediate")]
        == 2
    )
    assert sum(counts.values()) == 4
    report = Report("2026-11-29", first=10, last=13, previous=9, counts=counts)
    data = format_report_leaf(report)
    assert data.startswith(b"rempart/report/v1\nday 2026-11-29\nfirst 10\nlast 13\nprevious 9\ncount ")
    assert (b"\ncount hash_match_block protection_of_minors upload_blocked content own_initiative_hash_match"
            b" fully immediate 2\n") in data
    assert parse_report_leaf(data) == report
    check_report(report, leaves)
    empty = Report("2026-11-30", None, None, 14, {})
    assert format_report_leaf(empty) == b"rempart/report/v1\nday 2026-11-30\nfirst none\nlast none\nprevious 14\n"
    assert parse_report_leaf(format_report_leaf(empty)) == empty
    check_report(empty, [])


def test_report_that_does_not_recount_fails() -> None:
    decisions = _decisions()
    leaves = [format_decision_leaf(d) for d in decisions]
    report = Report("2026-11-29", 10, 13, None, recount(leaves))
    with pytest.raises(VerificationError):
        check_report(report, leaves[:3])  # a leaf withheld
    other = format_decision_leaf(dataclasses.replace(decisions[0], decision="content_removed"))
    with pytest.raises(VerificationError):
        check_report(report, [other, *leaves[1:]])  # a decision changed
    yesterday = format_decision_leaf(dataclasses.replace(decisions[0], day="2026-11-28"))
    with pytest.raises(VerificationError):
        check_report(report, [yesterday, *leaves[1:]])
    with pytest.raises(VerificationError):
        check_report(report, [format_report_leaf(report), *leaves[1:]])  # not a decision leaf


def test_report_parser_rejects_non_canonical_reports() -> None:
    counts = recount(_decisions())
    data = format_report_leaf(Report("2026-11-29", 10, 13, None, counts))
    lines = data.decode().split("\n")
    reordered = "\n".join(lines[:5] + list(reversed(lines[5:-1])) + [""]).encode()
    for bad in (
        reordered,
        data.replace(b"first 10", b"first 010"),
        data.replace(b"first 10", b"first none"),
        data.replace(b"previous none", b"previous 10"),  # previous must come before first
        data + lines[5].encode() + b"\n",  # duplicated count line
        data.replace(b" 2\n", b" 0\n"),
        data.replace(b"fully", b"sometimes", 1),
    ):
        with pytest.raises(InvalidInput):
            parse_report_leaf(bad)


# --- target and time to action -----------------------------------------------------------

_T0 = datetime.datetime(2026, 11, 29, 10, 0, 0)


@pytest.mark.parametrize(
    ("after", "bucket"),
    [
        (datetime.timedelta(seconds=-5), "under_1h"),  # clock skew: never "immediate"
        (datetime.timedelta(0), "under_1h"),
        (datetime.timedelta(minutes=59, seconds=59, microseconds=999999), "under_1h"),
        (datetime.timedelta(hours=1), "1h_to_24h"),
        (datetime.timedelta(hours=23, minutes=59, seconds=59), "1h_to_24h"),
        (datetime.timedelta(hours=24), "1d_to_7d"),
        (datetime.timedelta(days=6, hours=23, minutes=59, seconds=59), "1d_to_7d"),
        (datetime.timedelta(days=7), "over_7d"),
        (datetime.timedelta(days=400), "over_7d"),
    ],
)
def test_time_to_action_buckets_at_every_boundary(after: datetime.timedelta, bucket: str) -> None:
    assert bucket_time_to_action(_T0, _T0 + after) == bucket
    aware = _T0.replace(tzinfo=datetime.timezone.utc)
    assert bucket_time_to_action(aware, aware + after) == bucket


def test_median_time_to_action_is_the_lower_median_in_bucket_order() -> None:
    assert median_time_to_action([]) is None
    assert median_time_to_action({"immediate": 0}) is None
    assert median_time_to_action(["over_7d"]) == "over_7d"
    assert median_time_to_action(["over_7d", "immediate", "under_1h"]) == "under_1h"
    assert median_time_to_action(["over_7d", "immediate"]) == "immediate"  # lower median of two
    assert median_time_to_action({"immediate": 1, "1d_to_7d": 3}) == "1d_to_7d"
    assert median_time_to_action({"immediate": 2, "1d_to_7d": 2}) == "immediate"
    assert median_time_to_action({"immediate": 2, "1h_to_24h": 1, "1d_to_7d": 2}) == "1h_to_24h"


@pytest.mark.parametrize(
    ("target", "decision", "ok"),
    [
        ("space", "content_disabled", True),
        ("space", "reinstated", True),
        ("account", "account_terminated", True),
        ("content", "upload_blocked", True),
        ("space", "account_terminated", False),
        ("space", "upload_blocked", False),
        ("account", "content_removed", False),
        ("content", "account_suspended", False),
        ("group", "content_disabled", False),
    ],
)
def test_target_must_agree_with_the_decision(target: str, decision: str, ok: bool) -> None:
    values = {**FIELDS, "target": target, "decision": decision}
    if ok:
        d = Decision(**values)
        assert parse_decision_leaf(format_decision_leaf(d)) == d
        assert f"\ntarget {target}\n".encode() in format_decision_leaf(d)
    else:
        with pytest.raises(InvalidInput):
            Decision(**values)


def test_parser_refuses_bad_targets_and_buckets() -> None:
    leaf = format_decision_leaf(Decision(**FIELDS))
    for bad in (
        leaf.replace(b"target content\n", b""),
        leaf.replace(b"target content\n", b"target space\n"),  # upload_blocked is never a space
        leaf.replace(b"time_to_action immediate\n", b"time_to_action 3h\n"),
        leaf.replace(b"time_to_action immediate\n", b"time_to_action 2026-11-29T10:00:00Z\n"),
        leaf.replace(b"time_to_action immediate\n", b""),
    ):
        with pytest.raises(InvalidInput):
            parse_decision_leaf(bad)


def test_report_counts_carry_target_and_time_to_action() -> None:
    space = dataclasses.replace(Decision(**FIELDS), kind="moderation_decision", decision="content_disabled",
                                target="space", automated_decision="not_automated", time_to_action="1h_to_24h")
    counts = recount([*_decisions(), space])
    data = format_report_leaf(Report("2026-11-29", 0, 4, None, counts))
    assert (b"\ncount moderation_decision protection_of_minors content_disabled space own_initiative_hash_match"
            b" not_automated 1h_to_24h 1\n") in data
    assert parse_report_leaf(data).counts == counts
    for bad in (
        data.replace(b" content_disabled space ", b" content_disabled group "),
        data.replace(b" content_disabled space ", b" account_terminated space "),  # incoherent
        data.replace(b" 1h_to_24h 1\n", b" 1\n"),  # six keys
    ):
        with pytest.raises(InvalidInput):
            parse_report_leaf(bad)
    changed = dataclasses.replace(space, target="content")  # a space ban retold as an item
    with pytest.raises(VerificationError):
        check_report(Report("2026-11-29", 0, 4, None, counts),
                     [format_decision_leaf(d) for d in [*_decisions(), changed]])
