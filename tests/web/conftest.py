"""Fixtures for the console tests: people of every role with known credentials, flagged cases
(benign stand-ins), and logged-in test clients."""

from __future__ import annotations

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.api.app import create_app
from rempart.authz import Role, system_actor
from rempart.banks import service as banks
from rempart.moderation import CaseSource, FlaggedItem, NewCase, claim, open_case
from rempart.moderation.models import Case
from rempart.people.models import ConsoleUser
from rempart.scanning.service import ScanContext
from tests.factories import image_bytes
from tests.web.web_helpers import WebUser, login, make_users, upload

ROLES = {"mod": Role.MODERATOR, "cs": Role.CHILD_SAFETY_MODERATOR,
         "cs2": Role.CHILD_SAFETY_MODERATOR, "lead": Role.LEAD, "admin": Role.ADMIN}


@pytest.fixture
def app(runtime):
    return create_app(runtime, outbox_worker=False)


@pytest.fixture
def users(runtime) -> dict[str, WebUser]:
    """One person per role (cs2: a second child-safety moderator), past their first login's
    password change unless ``fresh`` is asked for."""
    return make_users(runtime, ROLES)


@pytest.fixture
def clients(app, users):
    """A logged-in TestClient per role, plus "anon" (no session)."""
    made = {"anon": TestClient(app, raise_server_exceptions=False)}
    for key, user in users.items():
        made[key] = login(TestClient(app, raise_server_exceptions=False), user)
    yield made
    for c in made.values():
        c.close()


@pytest.fixture
def flagged(runtime):
    """Two benign stand-ins banked in a review list, uploaded by two accounts: two child-safety
    cases with media, plus a public report in the non-child-safety queue."""
    with runtime.db.session() as s:
        banks.create_bank(s, "review-list", action="review")
    for seed in (101, 102):
        runtime.bank_media("review-list", runtime.fingerprint(image_bytes(seed)))
    upload(runtime, 101, "acct-a", "group-1")
    upload(runtime, 102, "acct-b", "group-1")
    with runtime.db.session() as s:
        report = open_case(s, system_actor("hotline"), NewCase(
            source=CaseSource.PUBLIC_REPORT, subject="report:r-1", title="Spam report",
            account="acct-r", items=(FlaggedItem(external_ref="msg-77"),), has_media=False,
            child_safety=False), runtime.moderation).case.id
        cs_cases = list(s.scalars(select(Case).where(Case.source == "hash_review")
                                  .order_by(Case.id)))
        return {"cs_case": cs_cases[0].id, "item": cs_cases[0].items[0].item_id,
                "cs_case2": cs_cases[1].id, "report": report}


@pytest.fixture
def claimed(runtime, users, flagged):
    """The first child-safety case, claimed by the child-safety moderator ``cs``."""
    with runtime.db.session() as s:
        claim(s, users["cs"].actor, flagged["cs_case"], runtime.moderation)
    return flagged


def user_id(runtime, username: str) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username))


def totp(secret: str) -> str:
    return pyotp.TOTP(secret).now()


VIDEO = "video/doorknob-hd-no-bar.mp4"


@pytest.fixture
def video_case(runtime, users, testdata):
    """A benign sample video banked in a review list, re-uploaded: a case claimed by ``cs``."""
    data = (testdata / VIDEO).read_bytes()
    with runtime.db.session() as s:
        banks.create_bank(s, "video-review", action="review")
    runtime.bank_media("video-review", runtime.fingerprint(data))
    runtime.scan_media(data, ScanContext(account="acct-v", space="chan-v"))
    with runtime.db.session() as s:
        case = s.scalar(select(Case).where(Case.account == "acct-v"))
        claim(s, users["cs"].actor, case.id, runtime.moderation)
        return case.id, case.items[0].item_id
