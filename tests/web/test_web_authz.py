"""Every role against every console page and form: what each may open, and that the rest is
refused (403) without any effect. Least privilege: only child-safety moderators get media."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rempart.audit.models import AuditEntry
from rempart.authz import GRANTS, Permission as P
from rempart.moderation.models import Case, Reveal
from tests.web.web_helpers import token

ROLES = ("mod", "cs", "lead", "admin")
ROLE_OF = {"mod": "moderator", "cs": "child-safety-moderator", "lead": "lead", "admin": "admin"}

#: (path template, permission, needs child-safety visibility too); None: any signed-in person
PAGES = (
    ("/", None, False),
    ("/password", None, False),
    ("/preferences", P.PREFERENCES_WRITE, False),
    ("/cases", P.CASES_READ, False),
    ("/cases/{report}", P.CASES_READ, False),
    ("/cases/{cs_case}", P.CASES_READ, True),
    ("/cases/{cs_case}/items/{item}/media", P.MEDIA_REVEAL, True),
    ("/escalations", P.ESCALATIONS_RESOLVE, False),
    ("/appeals", P.APPEALS_DECIDE, False),
    ("/queues", P.QUEUES_STATS, False),
    ("/exposure", P.EXPOSURE_READ, False),
    ("/audit", P.AUDIT_READ, False),
    ("/audit/export?format=csv", P.AUDIT_EXPORT, False),
    ("/items/{item}/blast-radius", P.INVESTIGATE, True),
    ("/users", P.USERS_ADMIN, False),
    ("/webhooks", P.WEBHOOKS_ADMIN, False),
)


def _allowed(role: str, permission, child_safety: bool) -> bool:
    from rempart.authz import Role

    grants = GRANTS[Role(ROLE_OF[role])]
    if permission is not None and permission not in grants:
        return False
    return not child_safety or P.CASES_CHILD_SAFETY in grants


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_page(clients, claimed, role):
    client = clients[role]
    for template, permission, child_safety in PAGES:
        path = "/console" + template.format(**claimed)
        r = client.get(path, follow_redirects=False)
        expected = 200 if _allowed(role, permission, child_safety) else 403
        assert r.status_code == expected, f"{role} GET {path}: {r.status_code}"


def test_anonymous_visitors_are_sent_to_the_login_page(clients, claimed):
    for template, _, _ in PAGES:
        path = "/console" + template.format(**claimed)
        r = clients["anon"].get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/login", path
    assert clients["anon"].get("/console/login").status_code == 200


#: (path template, form, permission, child-safety visibility needed)
FORMS = (
    ("/cases/next", {}, P.CASES_CLAIM, False),
    ("/cases/{cs_case2}/claim", {}, P.CASES_CLAIM, True),
    ("/cases/{cs_case}/items/{item}/reveal", {}, P.MEDIA_REVEAL, True),
    ("/cases/{cs_case}/reasons", {"policy": "csam", "actions": "remove_item", "facts": "x"},
     P.CASES_DECIDE, True),
    ("/cases/{cs_case}/decide", {"actions": "dismiss"}, P.CASES_DECIDE, True),
    ("/decisions/999/second", {"agrees": "yes"}, P.CASES_SECOND_REVIEW, False),
    ("/decisions/999/resolve", {"uphold": "yes"}, P.ESCALATIONS_RESOLVE, False),
    ("/appeals/999/decide", {"overturn": "no", "note": "n"}, P.APPEALS_DECIDE, False),
    ("/items/{item}/blast-radius/act", {"policy": "csam", "entities": "account:acct-a",
                                        "actions": "ban_account", "facts": "f"},
     P.BULK_ACTION, True),
    ("/users", {"username": "newbie", "role": "lead"}, P.USERS_ADMIN, False),
    ("/users/1/disable", {}, P.USERS_ADMIN, False),
    ("/webhooks", {"name": "p", "url": "http://127.0.0.1:9/x"}, P.WEBHOOKS_ADMIN, False),
)


def _state(runtime):
    with runtime.db.session() as s:
        return (s.scalar(select(func.count()).select_from(Reveal)),
                [(c.id, c.status, c.claimed_by) for c in s.scalars(select(Case).order_by(Case.id))])


@pytest.mark.parametrize("role", ROLES)
def test_forms_refuse_roles_without_the_permission(runtime, clients, claimed, role):
    client = clients[role]
    csrf = token(client)
    for template, form, permission, child_safety in FORMS:
        path = "/console" + template.format(**claimed)
        if _allowed(role, permission, child_safety):
            # let through (the service may still say no for other reasons: 404, 409...)
            r = client.post(path, data={**form, "csrf_token": csrf}, follow_redirects=False)
            assert r.status_code not in (401, 403), f"{role} POST {template}: {r.status_code}"
            continue
        before = _state(runtime)
        r = client.post(path, data={**form, "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 403, f"{role} POST {template}: {r.status_code}"
        assert "CSRF" not in r.text  # refused for the permission, not the token
        assert _state(runtime) == before


def test_a_moderator_never_sees_child_safety_cases_or_media(clients, claimed):
    mod = clients["mod"]
    assert mod.get(f"/console/cases/{claimed['cs_case']}").status_code == 403
    assert mod.get(f"/console/cases/{claimed['cs_case']}/items/{claimed['item']}/media"
                   ).status_code == 403
    listing = mod.get("/console/cases").text
    assert f"/cases/{claimed['report']}\"" in listing
    assert f"/cases/{claimed['cs_case']}\"" not in listing


def test_a_lead_decides_from_metadata_without_media(clients, claimed):
    page = clients["lead"].get(f"/console/cases/{claimed['cs_case']}").text
    assert 'data-testid="media"' not in page and "metadata only" in page
    assert "review-list" in page  # the match metadata is there


def test_media_needs_the_claim_even_for_a_child_safety_moderator(clients, claimed):
    r = clients["cs2"].get(f"/console/cases/{claimed['cs_case']}/items/{claimed['item']}/media")
    assert r.status_code == 409


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nobody_can_edit_the_audit_log(runtime, clients, method):
    for role in ROLES:
        with runtime.db.session() as s:
            n = s.scalar(select(func.count()).select_from(AuditEntry))
        for path in ("/console/audit", "/console/audit/export", "/console/audit/1"):
            r = getattr(clients[role], method)(path)
            assert r.status_code in (404, 405), f"{role} {method} {path}: {r.status_code}"
        with runtime.db.session() as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry)) == n
