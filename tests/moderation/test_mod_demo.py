"""The demo leaves the console with real queues, decisions, audit entries and a blast radius."""

from __future__ import annotations

from sqlalchemy import func, select

from rempart.audit.models import AuditEntry
from rempart.demo import run_demo
from rempart.moderation.models import Case, Decision


def test_demo_works_cases_and_prints_credentials(runtime):
    summary = run_demo(runtime, uploads=120, log=lambda m: None)
    mod = summary.moderation
    assert set(mod.credentials) == {"demo-cs1", "demo-cs2", "demo-lead", "demo-mod", "demo-admin"}
    assert "demo-cs1" in summary.render() and mod.credentials["demo-cs1"]["totp_secret"]
    assert mod.cases_by_queue["hash-block"] > 0 and mod.cases_by_queue["hash-review"] > 0
    assert mod.escalated == 1 and mod.appeals == 1 and mod.blast_item is not None
    with runtime.db.session() as s:
        statuses = set(s.scalars(select(Decision.status)))
        assert {"final", "escalated", "pending_second"} <= statuses
        events = set(s.scalars(select(AuditEntry.event)))
        assert {"case.opened", "media.revealed", "decision.final", "action.applied",
                "appeal.filed", "investigation.blast-radius"} <= events
        assert s.scalar(select(func.count()).select_from(Case)
                        .where(Case.status == "open")) > 0
    assert summary.to_json()["moderation"]["credentials"]
