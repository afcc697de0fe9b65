"""An order as an ETSI TS 103 120 (HI-1 request handover) message, and the mapping as data.

``to_ts103120`` renders an ``Order`` as the XML-shaped dictionary ETSI's JSON encoding uses
(element names with namespace prefixes, ``@xsi:type`` for the concrete object type, dictionary
entries as ``common:Owner`` / ``common:Name`` / ``common:Value``): one HI1Message whose
RequestPayload CREATEs an AuthorisationObject, one task per (target, data category) and one
DocumentObject carrying the order itself. Object identifiers are UUIDv5 of the sender and the
order reference, so the same order always yields the same identifiers.

Mapping (dictionary values marked * are those of the e-Evidence profile, ETSI TS 104 144 /
TS 103 120 ``EPOC*`` dictionaries; owner ``rempart`` marks values of our own)::

    rempart order                     TS 103 120
    ------------------------------    -------------------------------------------------------
    (message)                         HI1Message/Header: SenderIdentifier = ``sender``,
                                      ReceiverIdentifier = ``receiver``, TransactionIdentifier,
                                      Timestamp, Version; Payload/RequestPayload/ActionRequests
    kind, reference                   AuthorisationObject: AuthorisationReference = reference;
                                      AuthorisationLegalType ETSI/EPOCLegalType EPOC* | EPOCPR*
                                      (rempart/RequestLegalType VoluntaryEmergencyDisclosure)
    (received)                        AuthorisationDesiredStatus ETSI/AuthorisationDesiredStatus
                                      SubmittedToCSP*
    emergency                         AuthorisationFlags: ETSI/AuthorisationFlag IsEmergency*
    confidential                      AuthorisationFlags: ETSI/EPOCAuthorisationFlag
                                      DelayInformingUser* (Art. 13(2): the user is not informed)
    enforcing_authority_notified      AuthorisationFlags: ETSI/EPOCAuthorisationFlag
                                      EnforcingAuthorityNotified*
    issuing_authority, issued_at      AuthorisationApprovalDetails (ApprovalType
                                      IssuingAuthority): ApprovalReference = file_number,
                                      ApproverDetails {ApproverName, ApproverRole = kind,
                                      ApproverContactDetails {Name, EmailAddress, PhoneNumber}},
                                      ApprovalTimestamp = issued_at; ApprovalIsEmergency = true
                                      when validation is pending (Art. 4(5))
    validating_authority              AuthorisationApprovalDetails (ApprovalType
                                      ValidatingAuthority), same fields
    target x data category            EPOC / request: LDTaskObject, DesiredStatus
                                      ETSI/LDTaskDesiredStatus AwaitingDisclosure*;
                                      EPOC-PR: LPTaskObject, DesiredStatus AwaitingPreservation*,
                                      DesiredPreservationExpiration = received + 60 days.
                                      AssociatedObjects = the AuthorisationObject; Reference =
                                      "<reference>/<n>"; RequestDetails/Type ETSI/RequestType
                                      SubscriberData* | UserIdentifyingData* | TrafficData* |
                                      StoredContentData*; RequestDetails/StartTime, EndTime =
                                      time_range; RequestValues/RequestValue = the target
    target.type                       FormatType: email ETSI/EmailAddress, phone
                                      ETSI/InternationalE164 (digits, no "+"), ip
                                      ETSI/IPv4Address | IPv6Address, ip with port
                                      rempart/IPAddressPort ("a.b.c.d:p", "[v6]:p"), account
                                      rempart/AccountIdentifier, username rempart/Username,
                                      space rempart/SpaceIdentifier
    target.at (ip)                    RequestDetails/ObservedTimes/ObservedTime
    the order (canonical JSON)        DocumentObject: DocumentName, DocumentType
                                      ETSI/EPOCDocumentType Form1* | Form2* (rempart/DocumentType
                                      EmergencyRequest), DocumentBody {Contents (base64),
                                      ContentType application/json, Checksum (SHA-256 hex),
                                      ChecksumType SHA-256}; AssociatedObjects = authorisation
    offence, purpose, threat,         no TS 103 120 field: carried by the DocumentObject (the
    related                           certificate itself), as the forms are
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator

from rempart.legal._common import format_time
from rempart.legal.clocks import PRESERVATION
from rempart.legal.orders import Authority, Order, Target, order_bytes
from rempart.legal.vocab import DataCategory, OrderKind, TargetType

NS = {
    "@xmlns": "http://uri.etsi.org/03120/common/2019/10/Core",
    "@xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "@xmlns:common": "http://uri.etsi.org/03120/common/2016/02/Common",
    "@xmlns:auth": "http://uri.etsi.org/03120/common/2020/09/Authorisation",
    "@xmlns:task": "http://uri.etsi.org/03120/common/2020/09/Task",
    "@xmlns:doc": "http://uri.etsi.org/03120/common/2020/09/Document",
}
ETSI_VERSION = {"ETSIVersion": "V1.22.1", "NationalProfileOwner": "EU", "NationalProfileVersion": "v1.3.1"}
_ID_NAMESPACE = uuid.UUID("6f1d3c2a-5b4e-4c8d-9a7b-2e0f1c3d4b5a")  # rempart's, for UUIDv5 ids

#: the mapping, as data: (owner, dictionary, value) per vocabulary value
LEGAL_TYPE = {
    OrderKind.EPOC: ("ETSI", "EPOCLegalType", "EPOC"),
    OrderKind.EPOC_PR: ("ETSI", "EPOCLegalType", "EPOCPR"),
    OrderKind.EMERGENCY_REQUEST: ("rempart", "RequestLegalType", "VoluntaryEmergencyDisclosure"),
}
REQUEST_TYPE = {
    DataCategory.SUBSCRIBER: ("ETSI", "RequestType", "SubscriberData"),
    DataCategory.IP_IDENTIFICATION: ("ETSI", "RequestType", "UserIdentifyingData"),
    DataCategory.TRAFFIC: ("ETSI", "RequestType", "TrafficData"),
    DataCategory.CONTENT: ("ETSI", "RequestType", "StoredContentData"),
}
DOCUMENT_TYPE = {
    OrderKind.EPOC: ("ETSI", "EPOCDocumentType", "Form1"),
    OrderKind.EPOC_PR: ("ETSI", "EPOCDocumentType", "Form2"),
    OrderKind.EMERGENCY_REQUEST: ("rempart", "DocumentType", "EmergencyRequest"),
}
TARGET_FORMAT = {
    TargetType.ACCOUNT: ("rempart", "AccountIdentifier"),
    TargetType.USERNAME: ("rempart", "Username"),
    TargetType.EMAIL: ("ETSI", "EmailAddress"),
    TargetType.PHONE: ("ETSI", "InternationalE164"),
    TargetType.SPACE: ("rempart", "SpaceIdentifier"),
}
FLAG_EMERGENCY = ("ETSI", "AuthorisationFlag", "IsEmergency")
FLAG_CONFIDENTIAL = ("ETSI", "EPOCAuthorisationFlag", "DelayInformingUser")
FLAG_EA_NOTIFIED = ("ETSI", "EPOCAuthorisationFlag", "EnforcingAuthorityNotified")
DESIRED_AUTH = ("ETSI", "AuthorisationDesiredStatus", "SubmittedToCSP")
DESIRED_DISCLOSURE = ("ETSI", "LDTaskDesiredStatus", "AwaitingDisclosure")
DESIRED_PRESERVATION = ("ETSI", "LDTaskDesiredStatus", "AwaitingPreservation")


def _entry(owner_name_value: tuple[str, str, str]) -> dict:
    owner, name, value = owner_name_value
    return {"common:Owner": owner, "common:Name": name, "common:Value": value}


def _id(sender: tuple[str, str], order: Order, role: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{sender[0]}\n{sender[1]}\n{order.reference}\n{role}"))


def target_format(target: Target) -> tuple[str, str, str]:
    """(FormatOwner, FormatName, Value) of a target identifier."""
    if target.type is TargetType.IP:
        v6 = ":" in target.value
        if target.port is not None:
            host = f"[{target.value}]" if v6 else target.value
            return "rempart", "IPAddressPort", f"{host}:{target.port}"
        return "ETSI", "IPv6Address" if v6 else "IPv4Address", target.value
    owner, name = TARGET_FORMAT[target.type]
    value = target.value[1:] if target.type is TargetType.PHONE else target.value
    return owner, name, value


def _approval(a: Authority, approval_type: str, when: dt.datetime | None, emergency: bool) -> dict:
    contact = {"common:Name": a.contact.name if a.contact else a.name}
    if a.contact and a.contact.email:
        contact["common:EmailAddress"] = a.contact.email
    if a.contact and a.contact.phone:
        contact["common:PhoneNumber"] = a.contact.phone
    out: dict = {"common:ApprovalType": approval_type}
    if a.file_number:
        out["common:ApprovalReference"] = a.file_number
    out["common:ApproverDetails"] = {"common:ApproverName": a.name, "common:ApproverRole": a.kind.value,
                                     "common:ApproverContactDetails": contact}
    if when is not None:
        out["common:ApprovalTimestamp"] = format_time(when)
    if emergency:
        out["common:ApprovalIsEmergency"] = "true"
    return out


def _tasks(order: Order, sender: tuple[str, str], auth_id: str, received_at: dt.datetime) -> Iterator[dict]:
    preservation = order.kind is OrderKind.EPOC_PR
    n = 0
    for target in order.targets:
        owner, name, value = target_format(target)
        for category in order.categories:
            n += 1
            details: dict = {"task:Type": _entry(REQUEST_TYPE[category])}
            if order.time_range is not None:
                details["task:StartTime"] = format_time(order.time_range.start)
                details["task:EndTime"] = format_time(order.time_range.end)
            details["task:RequestValues"] = {"task:RequestValue": [
                {"task:FormatType": {"task:FormatOwner": owner, "task:FormatName": name}, "task:Value": value}]}
            if target.at is not None:
                details["task:ObservedTimes"] = {"task:ObservedTime": [format_time(target.at)]}
            task = {
                "@xsi:type": "task:LPTaskObject" if preservation else "task:LDTaskObject",
                "ObjectIdentifier": _id(sender, order, f"task/{n}"),
                "CountryCode": sender[0], "OwnerIdentifier": sender[1],
                "AssociatedObjects": {"AssociatedObject": [auth_id]},
                "task:Reference": f"{order.reference}/{n}",
                "task:DesiredStatus": _entry(DESIRED_PRESERVATION if preservation else DESIRED_DISCLOSURE),
                "task:RequestDetails": details,
            }
            if preservation:
                task["task:DesiredPreservationExpiration"] = format_time(received_at + PRESERVATION)
            yield task


def to_ts103120(order: Order, *, sender: tuple[str, str], receiver: tuple[str, str],
                received_at: dt.datetime, timestamp: dt.datetime,
                transaction_id: str | None = None) -> dict:
    """The order as a TS 103 120 HI1Message (dict). ``sender`` and ``receiver`` are
    (CountryCode, UniqueIdentifier): the issuing authority's endpoint and the platform's."""
    auth_id = _id(sender, order, "authorisation")
    flags = [_entry(FLAG_EMERGENCY)] if order.emergency else []
    if order.confidential:
        flags.append(_entry(FLAG_CONFIDENTIAL))
    if order.enforcing_authority_notified:
        flags.append(_entry(FLAG_EA_NOTIFIED))
    approvals = [_approval(order.issuing, "IssuingAuthority", order.issued_at, order.validation_pending)]
    if order.validating is not None:
        approvals.append(_approval(order.validating, "ValidatingAuthority", None, False))
    authorisation = {
        "@xsi:type": "auth:AuthorisationObject", "ObjectIdentifier": auth_id,
        "CountryCode": sender[0], "OwnerIdentifier": sender[1],
        "auth:AuthorisationReference": order.reference,
        "auth:AuthorisationLegalType": _entry(LEGAL_TYPE[order.kind]),
        "auth:AuthorisationDesiredStatus": _entry(DESIRED_AUTH),
        "auth:AuthorisationFlags": {"auth:AuthorisationFlag": flags},
        "auth:AuthorisationApprovalDetails": approvals,
    }
    body = order_bytes(order)
    document = {
        "@xsi:type": "doc:DocumentObject", "ObjectIdentifier": _id(sender, order, "document"),
        "CountryCode": sender[0], "OwnerIdentifier": sender[1],
        "AssociatedObjects": {"AssociatedObject": [auth_id]},
        "doc:DocumentName": f"{order.kind.value}-{order.reference}.json",
        "doc:DocumentType": _entry(DOCUMENT_TYPE[order.kind]),
        "doc:DocumentBody": {"doc:Contents": base64.b64encode(body).decode(),
                             "doc:ContentType": "application/json",
                             "doc:Checksum": hashlib.sha256(body).hexdigest(), "doc:ChecksumType": "SHA-256"},
    }
    objects = [authorisation, *_tasks(order, sender, auth_id, received_at), document]
    return {**NS, "Header": {
        "SenderIdentifier": {"CountryCode": sender[0], "UniqueIdentifier": sender[1]},
        "ReceiverIdentifier": {"CountryCode": receiver[0], "UniqueIdentifier": receiver[1]},
        "TransactionIdentifier": transaction_id or _id(sender, order, f"transaction/{format_time(timestamp)}"),
        "Timestamp": format_time(timestamp), "Version": dict(ETSI_VERSION)},
        "Payload": {"RequestPayload": {"ActionRequests": {"ActionRequest": [
            {"ActionIdentifier": i, "CREATE": {"HI1Object": obj}} for i, obj in enumerate(objects)]}}}}
