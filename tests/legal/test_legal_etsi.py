"""An order as an ETSI TS 103 120 HI-1 message: the mapping, object by object."""

from __future__ import annotations

import base64
import hashlib
import json

from rempart.legal import DataCategory, OrderKind, TargetType, order_bytes, parse_order, to_ts103120
from rempart.legal.etsi import DOCUMENT_TYPE, LEGAL_TYPE, REQUEST_TYPE, TARGET_FORMAT
from tests.legal.legal_helpers import EMERGENCY_REQUEST, EPOC, EPOC_PR, GOLDEN, RECEIVED, order_dict

SENDER, RECEIVER = ("FR", "PAR-TJ"), ("XX", "rempart.example")


def message(sample, **kw):
    return to_ts103120(parse_order(sample), sender=SENDER, receiver=RECEIVER, received_at=RECEIVED,
                       timestamp=RECEIVED, **kw)


def objects(msg) -> list[dict]:
    return [a["CREATE"]["HI1Object"] for a in msg["Payload"]["RequestPayload"]["ActionRequests"]["ActionRequest"]]


def test_golden_epoc_message() -> None:
    expected = json.loads((GOLDEN / "ts103120-epoc.json").read_text())
    assert message(EPOC) == expected


def test_header_and_actions() -> None:
    msg = message(EPOC)
    assert msg["Header"]["SenderIdentifier"] == {"CountryCode": "FR", "UniqueIdentifier": "PAR-TJ"}
    assert msg["Header"]["Timestamp"] == "2026-08-20T08:00:00Z"
    actions = msg["Payload"]["RequestPayload"]["ActionRequests"]["ActionRequest"]
    assert [a["ActionIdentifier"] for a in actions] == list(range(len(actions)))
    assert message(EPOC) == msg, "the same order gives the same identifiers"
    assert message(EPOC, transaction_id="t-1")["Header"]["TransactionIdentifier"] == "t-1"


def test_authorisation_object() -> None:
    auth = objects(message(order_dict(EPOC, emergency=True, emergency_reason="life at risk")))[0]
    assert auth["@xsi:type"] == "auth:AuthorisationObject"
    assert auth["auth:AuthorisationReference"] == "PAR-2026-0042"
    assert auth["auth:AuthorisationLegalType"]["common:Value"] == "EPOC"
    flags = {f["common:Value"] for f in auth["auth:AuthorisationFlags"]["auth:AuthorisationFlag"]}
    assert flags == {"IsEmergency", "DelayInformingUser"}
    approvals = auth["auth:AuthorisationApprovalDetails"]
    assert [a["common:ApprovalType"] for a in approvals] == ["IssuingAuthority", "ValidatingAuthority"]
    assert approvals[0]["common:ApproverDetails"]["common:ApproverRole"] == "prosecutor"
    assert approvals[0]["common:ApprovalTimestamp"] == "2026-08-20T07:00:00Z"
    assert "common:ApprovalIsEmergency" not in approvals[0]


def test_ex_post_validation_is_flagged() -> None:
    police = order_dict(EPOC_PR, validating_authority=None, emergency=True, emergency_reason="deletion imminent")
    auth = objects(message(police))[0]
    assert auth["auth:AuthorisationApprovalDetails"][0]["common:ApprovalIsEmergency"] == "true"
    assert len(auth["auth:AuthorisationApprovalDetails"]) == 1


def test_one_task_per_target_and_category() -> None:
    order = parse_order(EPOC)
    objs = objects(message(EPOC))
    auth_id, tasks = objs[0]["ObjectIdentifier"], objs[1:-1]
    assert len(tasks) == len(order.targets) * len(order.categories)
    assert all(t["@xsi:type"] == "task:LDTaskObject" for t in tasks)
    assert all(t["AssociatedObjects"]["AssociatedObject"] == [auth_id] for t in tasks)
    assert all(t["task:DesiredStatus"]["common:Value"] == "AwaitingDisclosure" for t in tasks)
    assert [t["task:Reference"] for t in tasks] == [f"PAR-2026-0042/{i}" for i in range(1, len(tasks) + 1)]
    values = [t["task:RequestDetails"]["task:RequestValues"]["task:RequestValue"][0] for t in tasks]
    formats = {(v["task:FormatType"]["task:FormatName"], v["task:Value"]) for v in values}
    assert formats == {("AccountIdentifier", "u-123"), ("IPAddressPort", "203.0.113.7:51000"),
                       ("InternationalE164", "33612345678")}
    types = {t["task:RequestDetails"]["task:Type"]["common:Value"] for t in tasks}
    assert types == {"SubscriberData", "StoredContentData"}
    ip_task = next(t for t in tasks if "task:ObservedTimes" in t["task:RequestDetails"])
    assert ip_task["task:RequestDetails"]["task:ObservedTimes"]["task:ObservedTime"] == ["2026-08-01T10:00:00Z"]
    assert len({t["ObjectIdentifier"] for t in objs}) == len(objs)


def test_preservation_tasks_carry_the_expiry() -> None:
    objs = objects(message(EPOC_PR))
    assert objs[0]["auth:AuthorisationLegalType"]["common:Value"] == "EPOCPR"
    tasks = objs[1:-1]
    assert tasks and all(t["@xsi:type"] == "task:LPTaskObject" for t in tasks)
    assert {t["task:DesiredPreservationExpiration"] for t in tasks} == {"2026-10-19T08:00:00Z"}  # + 60 days
    assert objs[-1]["doc:DocumentType"]["common:Value"] == "Form2"


def test_the_order_travels_as_a_document() -> None:
    order = parse_order(EMERGENCY_REQUEST)
    doc = objects(message(EMERGENCY_REQUEST))[-1]
    body = base64.b64decode(doc["doc:DocumentBody"]["doc:Contents"])
    assert body == order_bytes(order) and parse_order(body) == order
    assert doc["doc:DocumentBody"]["doc:Checksum"] == hashlib.sha256(body).hexdigest()
    assert doc["doc:DocumentType"] == {"common:Owner": "rempart", "common:Name": "DocumentType",
                                       "common:Value": "EmergencyRequest"}


def test_ipv6_and_plain_addresses() -> None:
    order = order_dict(EPOC, targets=[{"type": "ip", "value": "2001:db8::1", "at": "2026-08-01T10:00:00Z"},
                                      {"type": "ip", "value": "2001:db8::2", "port": 443, "at": "2026-08-01T10:00:00Z"},
                                      {"type": "email", "value": "a@example.net"}])
    values = {(v["task:FormatType"]["task:FormatOwner"], v["task:FormatType"]["task:FormatName"], v["task:Value"])
              for t in objects(message(order))[1:-1]
              for v in t["task:RequestDetails"]["task:RequestValues"]["task:RequestValue"]}
    assert values == {("ETSI", "IPv6Address", "2001:db8::1"), ("rempart", "IPAddressPort", "[2001:db8::2]:443"),
                      ("ETSI", "EmailAddress", "a@example.net")}


def test_the_mapping_covers_every_vocabulary_value() -> None:
    assert set(LEGAL_TYPE) == set(OrderKind) == set(DOCUMENT_TYPE)
    assert set(REQUEST_TYPE) == set(DataCategory)
    assert set(TARGET_FORMAT) | {TargetType.IP} == set(TargetType)
