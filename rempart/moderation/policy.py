"""The policy taxonomy (configurable, in the DSA Transparency Database's categories and
keywords) and the statement of reasons of a reviewer's action.

``statement_of_reasons`` states one restrictive action of one decision: what the action does
(``log_fields.ACTION_EFFECTS``), where the case came from (``log_fields.source_fields``) and the
policy violated, handed to the one builder, ``rempart.transparency.dsa.build_statement``. Pure:
it takes plain values and returns a dict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from rempart.errors import InvalidInput, NotFound, shown
from rempart.moderation.log_fields import ACTION_EFFECTS, source_fields
from rempart.moderation.vocab import ActionKind, CaseSource
from rempart.transparency import StatementInput, build_statement


@dataclass(frozen=True)
class Policy:
    """One entry of the platform's policy taxonomy."""

    key: str  # stable id, e.g. "csam"
    title: str
    dsa_category: str
    keywords: tuple[str, ...] = ()  # KEYWORD_* values of the category specification
    illegal: bool = True  # DECISION_GROUND_ILLEGAL_CONTENT vs _INCOMPATIBLE_CONTENT
    legal_ground: str = ""  # the law (illegal) or the terms-of-service clause (incompatible)
    child_safety: bool = False  # cases under it are child-safety work


@dataclass(frozen=True)
class Taxonomy:
    policies: tuple[Policy, ...]

    def __post_init__(self) -> None:
        keys = [p.key for p in self.policies]
        if len(set(keys)) != len(keys):
            raise InvalidInput("policy keys must be unique")
        for p in self.policies:
            if not p.title.strip():
                raise InvalidInput(f"policy {shown(p.key)} needs a title")
            try:  # a policy whose statements the Transparency Database would refuse is refused
                statement_of_reasons(ReasonsInput(ActionKind.REMOVE_ITEM, p, CaseSource.HASH_REVIEW,
                                                  "check", puid="check"))
            except InvalidInput as exc:
                raise InvalidInput(f"policy {shown(p.key)}: {exc}") from None

    def keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.policies)

    def get(self, key: str) -> Policy:
        for p in self.policies:
            if p.key == key:
                return p
        raise NotFound("policy", key)


#: actions that restrict nothing of the affected user: no statement of reasons
NON_RESTRICTIVE = frozenset(set(ActionKind) - set(ACTION_EFFECTS))
#: what the explanation quotes of the facts (the database takes 2000 characters)
EXPLANATION_FACTS = 1000


@dataclass(frozen=True)
class ReasonsInput:
    """What a statement of reasons is built from (plain values, no database rows)."""

    action: ActionKind
    policy: Policy
    source: CaseSource
    facts: str
    #: the log's content types of what the action acts on: image, video, other
    content_types: tuple[str, ...] = ()
    content_date: dt.date | None = None
    application_date: dt.date | None = None
    end_date: dt.date | None = None  # for a temporary restriction
    puid: str = ""  # unique per statement: the action, never a user's identifier
    region: str = "EU"  # the decision's territorial scope (see ``dsa.territorial_scope``)


def statement_of_reasons(r: ReasonsInput) -> dict:
    """The DSA Transparency Database fields for one restrictive action (``NON_RESTRICTIVE``
    actions have none and raise ``InvalidInput``, as does a statement the database's schema
    would refuse).

    Decisions are always taken by a person (``AUTOMATED_DECISION_NOT_AUTOMATED``);
    ``automated_detection`` says whether a machine found the content (hash matching).
    """
    if r.action in NON_RESTRICTIVE:
        raise InvalidInput(f"{r.action.value} restricts nothing and has no statement of reasons")
    facts = r.facts.strip()
    if not facts:
        raise InvalidInput("a statement of reasons needs the facts and circumstances")
    if r.action is ActionKind.RESTRICT_ACCOUNT and r.end_date is None:
        raise InvalidInput("a temporary restriction needs an end date")
    target, decision = ACTION_EFFECTS[r.action]
    p = r.policy
    applied = r.application_date or dt.date.today()
    statement = build_statement(StatementInput(
        target=target, decision=decision,
        ground="illegal_content" if p.illegal else "incompatible_content",
        category=p.dsa_category, keywords=p.keywords, legal_ground=p.legal_ground,
        explanation=f"{p.title}: {facts[:EXPLANATION_FACTS]}", content_types=r.content_types,
        **source_fields(r.source.value), facts=facts,
        content_date=(r.content_date or applied).isoformat(), application_date=applied.isoformat(),
        region=r.region, puid=r.puid, end_date=r.end_date.isoformat() if r.end_date else None))
    if statement is None:
        raise InvalidInput(f"{r.action.value} restricts nothing and has no statement of reasons")
    return statement


def policies_for(taxonomy: Taxonomy, child_safety: bool | None = None) -> Iterable[Policy]:
    return (p for p in taxonomy.policies if child_safety is None or p.child_safety == child_safety)


DEFAULT_TAXONOMY = Taxonomy((
    Policy("csam", "Child sexual abuse material", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
           ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
           legal_ground="Directive 2011/93/EU Art. 5; national criminal law", child_safety=True),
    Policy("grooming", "Grooming or sexual enticement of minors",
           "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
           ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",),
           legal_ground="Directive 2011/93/EU Art. 6", child_safety=True),
    Policy("sexualised-minors", "Sexualised content involving minors (not illegal per se)",
           "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", (),
           illegal=False, legal_ground="Terms of service, section on minors", child_safety=True),
    Policy("ncii", "Non-consensual intimate imagery", "STATEMENT_CATEGORY_CYBER_VIOLENCE",
           ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",), legal_ground="national criminal law"),
    Policy("spam", "Spam", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", (),
           illegal=False, legal_ground="Terms of service, section on spam"),
))
