"""The closed vocabulary of access: every permission in one enum, and what each role grants.

People hold roles (the console); API tokens hold scopes, whose grants are in
``rempart.api.permissions``. Services check one ``Permission`` for the acting principal
(``rempart.authz.principal.require``); routes declare theirs; handlers never test roles.

Least privilege: only ``child-safety-moderator`` may reveal flagged media; leads see queues,
statistics, exposure and the audit log and resolve escalations (from metadata); admins manage
accounts and webhook endpoints, and see no case content at all. ``analyst`` people belong to an
organisation (a hotline, an NGO, a trusted flagger) and see only its notices, in the portal.

Each role signs into exactly one site (``Audience``, ``AUDIENCE``): console roles never reach
the portal and analysts never reach the review console. The session gate of every site
(``rempart.web.security``) and the login service (``rempart.people.login``) check it.
"""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    MODERATOR = "moderator"
    CHILD_SAFETY_MODERATOR = "child-safety-moderator"
    LEAD = "lead"
    ADMIN = "admin"
    #: a named person of an organisation (hotline, NGO, trusted flagger): the portal only
    ANALYST = "analyst"
    #: the platform's legal team: the Legal desk (orders, clocks, answers, emergency requests,
    #: CyberTipline reports); nothing of the review queues
    LEGAL = "legal"
    #: a law-enforcement officer of an agency (``rempart officer add``): the officers' portal
    #: and ``/v1/legal/orders`` only, and only their own agency's requests
    OFFICER = "officer"
    #: rempart itself (the after-scan hook, the outbox worker, the platform's appeal intake);
    #: never assignable to a person
    SYSTEM = "system"


class Permission(str, enum.Enum):
    # API (token scopes)
    SCAN = "scan:write"
    MATCHES_READ = "matches:read"
    BANKS_READ = "banks:read"
    BANKS_WRITE = "banks:write"
    BANKS_EXPORT = "banks:export"
    TOKENS_ADMIN = "tokens:admin"
    # console (roles) and services
    CASES_READ = "cases:read"
    CASES_CHILD_SAFETY = "cases:child-safety"  # see and work child-safety queues (metadata)
    CASES_CLAIM = "cases:claim"
    CASES_DECIDE = "cases:decide"
    CASES_SECOND_REVIEW = "cases:second-review"
    CASES_OPEN = "cases:open"  # open cases from other sources (notices, requests)
    ESCALATIONS_RESOLVE = "escalations:resolve"
    MEDIA_REVEAL = "media:reveal"  # the only way to see flagged media
    INVESTIGATE = "investigate:read"  # fingerprints, matches, blast radius
    BULK_ACTION = "investigate:bulk-action"
    APPEALS_FILE = "appeals:file"
    APPEALS_DECIDE = "appeals:decide"
    HOLDS_RELEASE = "holds:release"
    CASE_DATA_DELETE = "cases:delete-data"
    QUEUES_STATS = "queues:stats"
    QUEUES_ADMIN = "queues:admin"
    EXPOSURE_READ = "exposure:read"  # every reviewer's exposure (own exposure is always visible)
    PREFERENCES_WRITE = "preferences:write"  # one's own wellness preferences
    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"
    USERS_ADMIN = "users:admin"
    WEBHOOKS_ADMIN = "webhooks:admin"
    WEBHOOKS_DELIVER = "webhooks:deliver"
    # hotline (organisations' tokens with scope ``reporter``, and their analysts)
    NOTICES_SUBMIT = "notices:submit"  # send notices for one's own organisation
    NOTICES_READ_OWN = "notices:read-own"  # one's own organisation's notices and statistics
    ORG_WEBHOOKS = "org:webhooks"  # one's own organisation's webhook endpoint
    # hotline, for the platform's people
    ORGS_STATS = "orgs:stats"  # every organisation's statistics, unfounded-notice rates
    ORGS_SUSPEND = "orgs:suspend"  # suspend an organisation's notices (DSA Art. 22(6))
    # the law-enforcement desk (issue 10)
    LEGAL_DESK = "legal:desk"  # orders, clocks, clarifications, packages, CyberTipline reports
    LEGAL_APPROVE = "legal:approve"  # approve an emergency disclosure (two different people)
    ORDERS_SUBMIT = "orders:submit"  # an officer sends an order for their own agency
    ORDERS_READ_OWN = "orders:read-own"  # an officer reads their own agency's orders
    # hash-sharing exchanges: a partner rempart's key (``rempart exchange partner add``) alone
    EXCHANGE_FEED = "exchange:feed"  # read the banks shared with that partner


class Audience(str, enum.Enum):
    """The sites people sign into; each role may use exactly one."""

    CONSOLE = "console"  # the platform's review console
    PORTAL = "portal"  # organisations' hotline portal
    OFFICERS = "officers"  # law-enforcement officers' portal


P = Permission
_REVIEWER = frozenset({P.CASES_READ, P.CASES_CLAIM, P.CASES_DECIDE, P.CASES_SECOND_REVIEW,
                       P.APPEALS_DECIDE, P.PREFERENCES_WRITE})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.MODERATOR: _REVIEWER,
    Role.CHILD_SAFETY_MODERATOR: _REVIEWER | {P.CASES_CHILD_SAFETY, P.MEDIA_REVEAL, P.INVESTIGATE,
                                              P.BULK_ACTION},
    Role.LEAD: _REVIEWER | {P.CASES_CHILD_SAFETY, P.INVESTIGATE, P.BULK_ACTION,
                            P.ESCALATIONS_RESOLVE, P.APPEALS_FILE, P.CASES_OPEN,
                            P.HOLDS_RELEASE, P.QUEUES_STATS, P.QUEUES_ADMIN, P.EXPOSURE_READ,
                            P.AUDIT_READ, P.AUDIT_EXPORT, P.ORGS_STATS, P.ORGS_SUSPEND},
    Role.ADMIN: frozenset({P.USERS_ADMIN, P.WEBHOOKS_ADMIN, P.QUEUES_ADMIN, P.AUDIT_READ,
                           P.PREFERENCES_WRITE, P.CASE_DATA_DELETE}),
    Role.ANALYST: frozenset({P.NOTICES_SUBMIT, P.NOTICES_READ_OWN, P.ORG_WEBHOOKS}),
    Role.LEGAL: frozenset({P.LEGAL_DESK, P.LEGAL_APPROVE, P.PREFERENCES_WRITE}),
    Role.OFFICER: frozenset({P.ORDERS_SUBMIT, P.ORDERS_READ_OWN}),
    Role.SYSTEM: frozenset({P.CASES_OPEN, P.APPEALS_FILE, P.WEBHOOKS_DELIVER}),
}

#: the one site each person's role signs into (``Role.SYSTEM`` signs into none)
AUDIENCE: dict[Role, Audience] = {
    Role.MODERATOR: Audience.CONSOLE,
    Role.CHILD_SAFETY_MODERATOR: Audience.CONSOLE,
    Role.LEAD: Audience.CONSOLE,
    Role.ADMIN: Audience.CONSOLE,
    Role.ANALYST: Audience.PORTAL,
    Role.LEGAL: Audience.CONSOLE,
    Role.OFFICER: Audience.OFFICERS,
}
#: roles whose people belong to an organisation (``console_users.org_id`` set)
ORG_ROLES = frozenset({Role.ANALYST})


def may_sign_into(role: Role, audience: Audience) -> bool:
    """Whether people with ``role`` may sign into the site of ``audience``."""
    return AUDIENCE.get(role) is audience

#: roles a person can hold (``user add --role``)
PERSON_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)
