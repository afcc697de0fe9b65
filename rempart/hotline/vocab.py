"""Closed vocabularies of the hotline (pure): organisations, channels, notice statuses."""

from __future__ import annotations

import enum

from rempart.moderation.vocab import CaseSource


class OrgKind(str, enum.Enum):
    HOTLINE = "hotline"  # an INHOPE member hotline
    NGO = "ngo"  # a child-protection NGO
    TRUSTED_FLAGGER = "trusted-flagger"  # awarded DSA Art. 22 status


class Channel(str, enum.Enum):
    """How a notice arrived."""

    API = "api"  # an organisation's key, POST /v1/notices
    FORM = "form"  # the public form at /report
    ON_DEVICE = "on_device"  # hashes computed in the reporter's browser, /report/hash


class Status(str, enum.Enum):
    """received -> in review -> actioned | no action | forwarded to authorities."""

    RECEIVED = "received"
    IN_REVIEW = "in_review"
    ACTIONED = "actioned"
    NO_ACTION = "no_action"
    FORWARDED = "forwarded"


FINAL_STATUSES = frozenset({Status.ACTIONED, Status.NO_ACTION, Status.FORWARDED})


class Classification(str, enum.Enum):
    """An organisation's own classification of what it reports (INHOPE's terms)."""

    BASELINE = "baseline"  # illegal everywhere (the INTERPOL baseline)
    NATIONALLY_ILLEGAL = "nationally_illegal"
    NOT_ILLEGAL = "not_illegal"


class HashStatus(str, enum.Enum):
    """A fingerprint sent with a notice matches nothing until a reviewer confirms it."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


#: the fingerprints a notice may carry, and their exact form
HASH_TYPES = {"pdq": 64, "md5": 32, "sha256": 64}


def source_kind(channel: Channel, org_kind: OrgKind | None) -> str:
    """Who sent a notice, in the transparency log's words (``leaves.NOTICE_SOURCES``)."""
    if channel is Channel.ON_DEVICE:
        return "on_device"
    if org_kind is None:
        return "public"
    return org_kind.value.replace("-", "_")


def case_source(org_kind: OrgKind | None) -> CaseSource:
    """Hotlines and trusted flaggers are served first (DSA Art. 22); other organisations'
    notices are ``org_notice`` (urgent when about child safety); the public's are reports."""
    if org_kind in (OrgKind.HOTLINE, OrgKind.TRUSTED_FLAGGER):
        return CaseSource.TRUSTED_FLAGGER
    if org_kind is OrgKind.NGO:
        return CaseSource.ORG_NOTICE
    return CaseSource.PUBLIC_REPORT
