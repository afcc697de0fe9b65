"""The audit log: a closed vocabulary, append-only at the database, readable by leads."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from rempart.audit import AuditEvent, AuditFilter, export_jsonl, read, record
from rempart.audit.models import AuditEntry
from rempart.errors import InvalidInput, PermissionDenied
from rempart.moderation import claim, reveal
from rempart.moderation.models import Case
from tests.moderation.mod_helpers import upload


def test_update_and_delete_are_refused_by_the_database(runtime, people):
    with runtime.db.session() as s:
        record(s, people["lead"], AuditEvent.CASE_VIEWED, case_id=1)
    for stmt in ("UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with runtime.db.session() as s:
                s.execute(text(stmt))
    with runtime.db.session() as s:
        rows = list(s.scalars(select(AuditEntry)))
        assert rows[-1].actor == "user:lead-user"


def test_only_vocabulary_events_are_recorded(runtime, people):
    with runtime.db.session() as s, pytest.raises(InvalidInput):
        record(s, people["lead"], "case.whatever")


def test_views_claims_reveals_and_decisions_are_audited(banked, people, cfg):
    upload(banked, 101, "acct-a")
    with banked.db.session() as s:
        case = s.scalar(select(Case))
        claim(s, people["cs"], case.id, cfg)
        reveal(s, people["cs"], case.id, case.items[0].item_id, cfg)
    with banked.db.session() as s:
        events = [e.event for e in read(s, people["lead"], AuditFilter(case_id=case.id))]
        assert events == ["case.opened", "case.claimed", "media.revealed"]


def test_reading_and_exporting_is_for_leads(runtime, people):
    with runtime.db.session() as s:
        for i in range(3):
            record(s, people["cs"], AuditEvent.CASE_VIEWED, case_id=i)
    with runtime.db.session() as s:
        for who in ("mod", "cs"):
            with pytest.raises(PermissionDenied):
                read(s, people[who])
            with pytest.raises(PermissionDenied):
                list(export_jsonl(s, people[who]))
        with pytest.raises(PermissionDenied):
            list(export_jsonl(s, people["admin"]))
        assert read(s, people["admin"], AuditFilter(event=AuditEvent.CASE_VIEWED))
        lines = [json.loads(x) for x in export_jsonl(s, people["lead"],
                                                     AuditFilter(event=AuditEvent.CASE_VIEWED))]
        assert [x["case_id"] for x in lines] == [0, 1, 2]
        assert all(x["actor"] == "user:cs-user" for x in lines)
    with runtime.db.session() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.event == "audit.exported"))
