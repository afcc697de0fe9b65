"""Shared fixtures of the legal tests: sample orders, a fixed signing key, a small package.

Every value is invented and benign; the "media" are a few bytes standing in for pictures.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from rempart.legal import CustodyAction, CustodyEvent, MediaFile, build_package, parse_order
from rempart.transparency import Ed25519Signer

GOLDEN = Path(__file__).resolve().parent / "golden"
RECEIVED = dt.datetime(2026, 8, 20, 8, 0)
SIGNER = Ed25519Signer("rempart.example/evidence", bytes(range(32)))
VKEY = SIGNER.verifier().vkey()
OTHER_SIGNER = Ed25519Signer("rempart.example/evidence", bytes(range(1, 33)))

EPOC = {
    "kind": "epoc",
    "reference": "PAR-2026-0042",
    "issued_at": "2026-08-20T09:00:00+02:00",
    "issuing_authority": {"name": "Parquet de Paris", "country": "FR", "kind": "prosecutor",
                          "file_number": "P-26-0042",
                          "contact": {"name": "J. Martin", "email": "j.martin@justice.example",
                                      "phone": "+33100000000"}},
    "validating_authority": {"name": "Tribunal judiciaire de Paris", "country": "FR", "kind": "judge",
                             "file_number": "J-26-7"},
    "offence": {"legal_classification": "distribution of child sexual abuse material",
                "statutory_provision": "Code pénal, art. 227-23", "max_custodial_years": 7,
                "listed_offence": "child_sexual_abuse", "by_information_system": True,
                "summary": "Files shared through the platform by the target account."},
    "data_categories": ["content", "subscriber"],
    "targets": [{"type": "account", "value": "u-123"},
                {"type": "ip", "value": "203.0.113.7", "port": 51000, "at": "2026-08-01T10:00:00Z"},
                {"type": "phone", "value": "+33612345678"}],
    "time_range": {"start": "2026-07-01T00:00:00Z", "end": "2026-08-01T00:00:00Z"},
    "related": [{"kind": "epoc_pr", "reference": "PAR-2026-0040"}],
}

EPOC_PR = {
    "kind": "epoc_pr",
    "reference": "BER-2026-17",
    "issued_at": "2026-08-19T16:00:00Z",
    "issuing_authority": {"name": "Polizeipräsidium Berlin", "country": "DE", "kind": "police"},
    "validating_authority": {"name": "Staatsanwaltschaft Berlin", "country": "DE", "kind": "prosecutor"},
    "offence": {"legal_classification": "grooming", "statutory_provision": "StGB § 176b",
                "summary": "Contact with a child through the platform.", "max_custodial_years": 5},
    "data_categories": ["subscriber", "traffic", "content"],
    "targets": [{"type": "username", "value": "someone_42"}],
    "time_range": {"start": "2026-06-01T00:00:00Z", "end": "2026-08-19T00:00:00Z"},
}

EMERGENCY_REQUEST = {
    "kind": "emergency_request",
    "reference": "NCA-EMR-9",
    "issued_at": "2026-08-20T07:30:00Z",
    "issuing_authority": {"name": "National Crime Agency", "country": "GB", "kind": "police",
                          "contact": {"name": "Duty officer", "phone": "+441000000000"}},
    "data_categories": ["subscriber", "ip_identification"],
    "targets": [{"type": "account", "value": "u-999"}],
    "threat": {"kind": "child_at_risk", "description": "A child announced self-harm in a message."},
}


def order_dict(base: dict, **changes) -> dict:
    """A deep copy of ``base`` with top-level ``changes`` (None deletes a key)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def sample_order():
    return parse_order(EPOC)


def custody() -> list[CustodyEvent]:
    t = dt.datetime(2026, 8, 20, 10, 0)
    return [CustodyEvent(t, "alice", CustodyAction.COLLECTED, "media/item-1.jpg"),
            CustodyEvent(t + dt.timedelta(minutes=20), "bob", CustodyAction.REVIEWED, "package"),
            CustodyEvent(t + dt.timedelta(minutes=40), "carol", CustodyAction.APPROVED, "package", "two-person check")]


def make_package(dest: Path, *, delivery: int = 1, previous: str | None = None, signer=SIGNER,
                 media: list[MediaFile] | None = None):
    return build_package(
        dest, order=sample_order(), delivery=delivery, previous=previous,
        records={"subscriber": {"account": "u-123", "email": "someone@example.net"},
                 "content/messages": [{"at": "2026-07-02T10:00:00Z", "text": "benign stand-in"}]},
        media=media if media is not None else [MediaFile("item-1.jpg", b"\xff\xd8\xff\xe0 benign stand-in"),
                                               MediaFile("item-2.png", b"\x89PNG benign stand-in")],
        custody=custody(), receipt=b"rempart/receipt/v1\nstand-in receipt\n", signer=signer,
        created_at=dt.datetime(2026, 8, 20, 11, 0))
