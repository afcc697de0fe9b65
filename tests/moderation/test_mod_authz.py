"""Every console service that checks a permission, against every role.

For each service: the roles without its permission get ``PermissionDenied``; the roles with it
get past the check (they may then meet another error, e.g. a missing case, never a denial).
"""

from __future__ import annotations

import pytest

from rempart import audit, people as people_svc
from rempart.authz import GRANTS, Permission as P, Role
from rempart.errors import PermissionDenied, RempartError
from rempart.moderation import (
    ActionKind, ActionRequest, CaseSource, Confirmation, NewCase, add_endpoint, blast_radius,
    bulk_act, case_view, claim, decide, decide_appeal, decisions_of_case, delete_case_data,
    file_appeal, get_case, review_media,
    list_cases, next_case, open_case, outbox_status, queue_stats, release_hold,
    resolve_escalation, reveal, second_review, set_prefs, sla_warnings, team_exposure,
    visible_queues,
)

ROLES = {"mod": Role.MODERATOR, "cs": Role.CHILD_SAFETY_MODERATOR, "lead": Role.LEAD,
         "admin": Role.ADMIN}
NO = 987654

SERVICES = {
    "list_cases": (P.CASES_READ, lambda s, a, c: list_cases(s, a, c)),
    "visible_queues": (P.CASES_READ, lambda s, a, c: visible_queues(s, a, c)),
    "sla_warnings": (P.CASES_READ, lambda s, a, c: sla_warnings(s, a, c)),
    "case_view": (P.CASES_READ, lambda s, a, c: case_view(s, a, NO)),
    "claim": (P.CASES_CLAIM, lambda s, a, c: claim(s, a, NO, c)),
    "next_case": (P.CASES_CLAIM, lambda s, a, c: next_case(s, a, c)),
    "decide": (P.CASES_DECIDE, lambda s, a, c: decide(
        s, a, NO, actions=[ActionRequest(ActionKind.DISMISS)], policy=None, facts="", config=c)),
    "second_review": (P.CASES_SECOND_REVIEW, lambda s, a, c: second_review(
        s, a, NO, agrees=True, note="", config=c)),
    "resolve_escalation": (P.ESCALATIONS_RESOLVE, lambda s, a, c: resolve_escalation(
        s, a, NO, uphold=True, note="", config=c)),
    "open_case": (P.CASES_OPEN, lambda s, a, c: open_case(
        s, a, NewCase(source=CaseSource.PUBLIC_REPORT, subject="authz"), c)),
    "reveal": (P.MEDIA_REVEAL, lambda s, a, c: reveal(s, a, NO, NO, c)),
    "review_media": (P.MEDIA_REVEAL, lambda s, a, c: review_media(s, a, NO, NO, None, c)),
    "get_case": (P.CASES_READ, lambda s, a, c: get_case(s, a, NO)),
    "decisions_of_case": (P.CASES_READ, lambda s, a, c: decisions_of_case(s, a, NO)),
    "blast_radius": (P.INVESTIGATE, lambda s, a, c: blast_radius(s, a, NO)),
    "bulk_act": (P.BULK_ACTION, lambda s, a, c: bulk_act(s, a, NO, [Confirmation(
        "account", "x", "csam", (ActionRequest(ActionKind.REMOVE_ITEM),), "f")], c)),
    "file_appeal": (P.APPEALS_FILE, lambda s, a, c: file_appeal(
        s, a, NO, appellant="x", statement="", config=c)),
    "decide_appeal": (P.APPEALS_DECIDE, lambda s, a, c: decide_appeal(
        s, a, NO, overturn=True, note="x", config=c)),
    "release_hold": (P.HOLDS_RELEASE, lambda s, a, c: release_hold(s, a, NO, "x")),
    "delete_case_data": (P.CASE_DATA_DELETE, lambda s, a, c: delete_case_data(s, a, NO)),
    "queue_stats": (P.QUEUES_STATS, lambda s, a, c: queue_stats(s, a, c)),
    "team_exposure": (P.EXPOSURE_READ, lambda s, a, c: team_exposure(s, a, c)),
    "set_prefs": (P.PREFERENCES_WRITE, lambda s, a, c: set_prefs(s, a, blur=30)),
    "audit_read": (P.AUDIT_READ, lambda s, a, c: audit.read(s, a)),
    "audit_export": (P.AUDIT_EXPORT, lambda s, a, c: list(audit.export_jsonl(s, a))),
    "add_endpoint": (P.WEBHOOKS_ADMIN, lambda s, a, c: add_endpoint(
        s, a, f"ep-{a.name}", "https://platform.example/hook")),
    "outbox_status": (P.WEBHOOKS_ADMIN, lambda s, a, c: outbox_status(s, a)),
    "create_user": (P.USERS_ADMIN, lambda s, a, c: people_svc.create_user(
        s, a, f"new-{a.name}", Role.MODERATOR)),
    "disable_user": (P.USERS_ADMIN, lambda s, a, c: people_svc.disable_user(s, a, NO)),
}


def test_only_child_safety_moderators_may_reveal_media():
    assert [r for r in Role if P.MEDIA_REVEAL in GRANTS[r]] == [Role.CHILD_SAFETY_MODERATOR]


def test_nobody_has_a_permission_to_edit_the_audit_log():
    assert not [p for p in P if p.value.startswith("audit:") and p not in
                (P.AUDIT_READ, P.AUDIT_EXPORT)]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_role_against_every_service(runtime, people, cfg, service):
    permission, call = SERVICES[service]
    for name, role in ROLES.items():
        actor = people[name]
        with runtime.db.session() as s:
            try:
                call(s, actor, cfg)
                outcome = "ok"
            except PermissionDenied:
                outcome = "denied"
            except RempartError:
                outcome = "ok"  # past the permission check
            finally:
                s.rollback()
        expected = "ok" if permission in GRANTS[role] else "denied"
        assert outcome == expected, f"{service} as {name} ({role.value})"
