"""Orders: the certificates' fields, the Regulation's rules, precise errors, nothing half-accepted."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from rempart.legal import (
    AuthorityKind, DataCategory, OrderFormatError, OrderKind, TargetType, order_bytes, order_to_json,
    parse_order,
)
from rempart.legal.orders import MAX_ORDER_BYTES, MAX_TARGETS
from tests.legal.legal_helpers import EMERGENCY_REQUEST, EPOC, EPOC_PR, GOLDEN, RECEIVED, order_dict


def errors_of(data, **kw) -> dict[str, str]:
    with pytest.raises(OrderFormatError) as info:
        parse_order(data, **kw)
    assert info.value.errors, "an OrderFormatError lists its errors"
    return dict(info.value.errors)


def test_epoc_parses_into_the_typed_model() -> None:
    o = parse_order(json.dumps(EPOC).encode(), received_at=RECEIVED)
    assert o.kind is OrderKind.EPOC and o.reference == "PAR-2026-0042"
    assert o.issued_at == dt.datetime(2026, 8, 20, 7, 0)  # +02:00 converted to naive UTC
    assert o.issuing.kind is AuthorityKind.PROSECUTOR and o.validating.kind is AuthorityKind.JUDGE
    assert o.categories == (DataCategory.SUBSCRIBER, DataCategory.CONTENT)  # canonical order
    assert [t.type for t in o.targets] == [TargetType.ACCOUNT, TargetType.IP, TargetType.PHONE]
    assert o.targets[1].port == 51000 and o.targets[1].at == dt.datetime(2026, 8, 1, 10)
    assert o.confidential is True and o.offence.serious and not o.validation_pending


@pytest.mark.parametrize("sample", [EPOC, EPOC_PR, EMERGENCY_REQUEST])
def test_round_trip_and_canonical_bytes(sample) -> None:
    o = parse_order(sample)
    assert parse_order(order_to_json(o)) == o
    assert parse_order(order_bytes(o)) == o
    assert order_bytes(parse_order(order_bytes(o))) == order_bytes(o)


def test_order_bytes_golden() -> None:
    assert order_bytes(parse_order(EPOC)) == (GOLDEN / "order-epoc.json").read_bytes()


def test_every_problem_is_listed_with_its_field() -> None:
    bad = order_dict(EPOC, kind="order", reference="", surprise=1)
    bad["issuing_authority"] = {"name": "X", "country": "fr", "kind": "sheriff", "extra": True}
    bad["targets"] = [{"type": "ip", "value": "999.1.1.1"}, {"type": "account", "value": "a", "port": 1}]
    errs = errors_of(bad)
    for field in ("kind", "reference", "surprise", "issuing_authority.country", "issuing_authority.kind",
                  "issuing_authority.extra", "targets[0].value", "targets[1].port"):
        assert field in errs, (field, errs)


@pytest.mark.parametrize("data, field", [
    (b"not json", "(order)"),
    (b"[]", "(order)"),
    (b"\xff\xfe", "(order)"),
    (json.dumps(order_dict(EPOC, emergency="yes")), "emergency"),
    (json.dumps(order_dict(EPOC, confidential=1)), "confidential"),
    (json.dumps(order_dict(EPOC, issued_at="2026-08-20T09:00:00")), "issued_at"),  # no offset
    (json.dumps(order_dict(EPOC, issued_at="2026-02-30T09:00:00Z")), "issued_at"),
    (json.dumps(order_dict(EPOC, data_categories=[])), "data_categories"),
    (json.dumps(order_dict(EPOC, data_categories=["content", "content"])), "data_categories"),
    (json.dumps(order_dict(EPOC, data_categories=["metadata"])), "data_categories[0]"),
    (json.dumps(order_dict(EPOC, targets=[])), "targets"),
    (json.dumps(order_dict(EPOC, time_range=None)), "time_range"),
    (json.dumps(order_dict(EPOC, time_range={"start": "2026-08-01T00:00:00Z", "end": "2026-07-01T00:00:00Z"})), "time_range.end"),
    (json.dumps(order_dict(EPOC, reference="bad\nref")), "reference"),
    (json.dumps(order_dict(EPOC, reference=" padded")), "reference"),
])
def test_malformed_input_names_the_field(data, field) -> None:
    assert field in errors_of(data)


def test_targets_are_checked() -> None:
    errs = errors_of(order_dict(EPOC, targets=[
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "email", "value": "not-an-email"},
        {"type": "phone", "value": "0612345678"},
        {"type": "account", "value": "u-1", "at": "2026-08-01T10:00:00Z"},
        {"type": "account", "value": "u-2"}, {"type": "account", "value": "u-2"},
    ]))
    assert "targets[0].at" in errs and "time" in errs["targets[0].at"]
    assert {"targets[1].value", "targets[2].value", "targets[3].at", "targets"} <= set(errs)
    assert parse_order(order_dict(EPOC, targets=[{"type": "ip", "value": "2001:DB8::1", "at": "2026-08-01T10:00:00Z"}])
                       ).targets[0].value == "2001:db8::1"  # the canonical spelling


def test_caps_on_sizes_and_counts() -> None:
    huge = order_dict(EPOC, offence={**EPOC["offence"], "summary": "x" * (MAX_ORDER_BYTES + 1)})
    assert "(order)" in errors_of(json.dumps(huge).encode())
    many = order_dict(EPOC, targets=[{"type": "account", "value": f"u-{i}"} for i in range(MAX_TARGETS + 1)])
    assert "targets" in errors_of(many)
    assert "offence.summary" in errors_of(order_dict(EPOC, offence={**EPOC["offence"], "summary": "x" * 4001}))


# --- the Regulation's rules ---

def test_only_member_states_bound_by_the_regulation_issue_orders() -> None:
    dk = copy.deepcopy(EPOC)
    dk["issuing_authority"]["country"] = dk["validating_authority"]["country"] = "DK"
    assert "issuing_authority.country" in errors_of(dk)
    # a voluntary emergency request may come from anywhere
    assert parse_order(EMERGENCY_REQUEST).issuing.country == "GB"


def test_traffic_and_content_need_a_judge_court_or_investigating_judge() -> None:
    no_validation = order_dict(EPOC, validating_authority=None)
    assert "Art. 4" in errors_of(no_validation)["validating_authority"]
    prosecutor_validates = copy.deepcopy(EPOC)
    prosecutor_validates["validating_authority"]["kind"] = "prosecutor"
    assert "judge" in errors_of(prosecutor_validates)["validating_authority.kind"]
    judge_issues = order_dict(EPOC, validating_authority=None)
    judge_issues["issuing_authority"] = {**EPOC["issuing_authority"], "kind": "investigating_judge"}
    assert parse_order(judge_issues).validating is None
    # no emergency shortcut for traffic and content (Art. 4(5) covers only 4(1)(b) and 4(3)(b))
    emergency = order_dict(no_validation, emergency=True, emergency_reason="imminent threat")
    assert "validating_authority" in errors_of(emergency)


def test_identifying_data_may_be_validated_ex_post_in_an_emergency() -> None:
    police = order_dict(EPOC, validating_authority=None, data_categories=["subscriber", "ip_identification"],
                        time_range=None)
    police["issuing_authority"] = {"name": "Police", "country": "FR", "kind": "police"}
    assert "validating_authority" in errors_of(police)
    o = parse_order(order_dict(police, emergency=True, emergency_reason="child at imminent risk"))
    assert o.validation_pending and o.ex_post_validation_due == o.issued_at + dt.timedelta(hours=48)
    # a prosecutor may issue identifying-data orders alone
    alone = order_dict(EPOC, validating_authority=None, data_categories=["subscriber"])
    assert parse_order(alone).validating is None


def test_preservation_orders_follow_article_4_3() -> None:
    o = parse_order(EPOC_PR)
    assert o.kind is OrderKind.EPOC_PR and o.required_validators and not o.validation_pending
    unvalidated = order_dict(EPOC_PR, validating_authority=None)
    assert "validating_authority" in errors_of(unvalidated)
    assert parse_order(order_dict(unvalidated, emergency=True, emergency_reason="deletion imminent")).validation_pending
    foreign = copy.deepcopy(EPOC_PR)
    foreign["validating_authority"]["country"] = "AT"
    assert "validating_authority.country" in errors_of(foreign)


def test_traffic_and_content_need_a_serious_or_listed_offence() -> None:
    minor = order_dict(EPOC, offence={**EPOC["offence"], "max_custodial_years": 2, "listed_offence": None})
    assert "Art. 5(4)" in errors_of(minor)["offence"]
    offline = order_dict(minor, offence={**minor["offence"], "listed_offence": "child_sexual_abuse",
                                         "by_information_system": False})
    assert "offence" in errors_of(offline)
    terrorism = order_dict(minor, offence={**minor["offence"], "listed_offence": "terrorism",
                                           "by_information_system": False})
    assert parse_order(terrorism).offence.serious
    # subscriber data may be ordered for any offence
    assert parse_order(order_dict(minor, data_categories=["subscriber"], validating_authority=None))


def test_execution_orders_need_four_months() -> None:
    base = order_dict(EPOC, purpose="execution_of_sentence")
    assert "sentence_months" in errors_of(order_dict(base, sentence_months=3))
    assert "sentence_months" in errors_of(base)
    assert parse_order(order_dict(base, sentence_months=4)).sentence_months == 4
    assert "sentence_months" in errors_of(order_dict(EPOC, sentence_months=6))


def test_emergency_fields() -> None:
    assert "emergency_reason" in errors_of(order_dict(EPOC, emergency=True))
    assert parse_order(order_dict(EPOC, emergency=True, emergency_reason="a life at risk")).emergency
    request = parse_order(EMERGENCY_REQUEST)
    assert request.emergency and request.threat.kind.value == "child_at_risk" and request.offence is None
    assert "threat" in errors_of(order_dict(EMERGENCY_REQUEST, threat=None))
    assert "emergency" in errors_of(order_dict(EMERGENCY_REQUEST, emergency=False))
    assert "threat" in errors_of(order_dict(EPOC, threat=EMERGENCY_REQUEST["threat"]))
    assert "enforcing_authority_notified" in errors_of(order_dict(EPOC_PR, enforcing_authority_notified=True))
    assert parse_order(order_dict(EPOC, enforcing_authority_notified=True)).enforcing_authority_notified


def test_an_order_is_not_issued_after_it_was_received() -> None:
    assert "issued_at" in errors_of(EPOC, received_at=dt.datetime(2026, 8, 20, 6, 0))
    assert parse_order(EPOC, received_at=dt.datetime(2026, 8, 20, 6, 56))  # within the clock skew


def _mutations(value, path=()):
    """Every way of breaking one field: delete it, or replace it with a value of each JSON type."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield path + (key,), "delete"
            for junk in (None, 0, -1, True, "", "x" * 300, [], {}, [1], 1.5):
                yield path + (key,), junk
            yield from _mutations(child, path + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _mutations(child, path + (i,))


@pytest.mark.parametrize("sample", [EPOC, EPOC_PR, EMERGENCY_REQUEST])
def test_no_mutation_crashes_or_is_half_accepted(sample) -> None:
    for path, junk in _mutations(sample):
        data = copy.deepcopy(sample)
        node = data
        for p in path[:-1]:
            node = node[p]
        if junk == "delete":
            del node[path[-1]]
        else:
            node[path[-1]] = junk
        try:
            order = parse_order(data)
        except OrderFormatError as exc:
            assert exc.errors and all(isinstance(f, str) and m for f, m in exc.errors)
            continue
        # accepted only if the mutation kept it a valid order: it must round-trip
        assert parse_order(order_to_json(order)) == order, path
