"""The policy taxonomy (configurable, mapped to the DSA categories) and the statement of reasons.

``statement_of_reasons`` builds the fields of the DSA Transparency Database schema (Art. 17 and
Art. 24(5)) for one action of one decision. Pure: it takes plain values and returns a dict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from rempart.errors import InvalidInput, NotFound, shown
from rempart.moderation.vocab import ActionKind, CaseSource

# DSA Transparency Database statement categories (STATEMENT_CATEGORY_*)
DSA_CATEGORIES = (
    "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR", "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
)


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
            if p.dsa_category not in DSA_CATEGORIES:
                raise InvalidInput(f"policy {shown(p.key)}: unknown DSA category "
                                   f"{shown(p.dsa_category)}")

    def get(self, key: str) -> Policy:
        for p in self.policies:
            if p.key == key:
                return p
        raise NotFound("policy", key)


DEFAULT_TAXONOMY = Taxonomy((
    Policy("csam", "Child sexual abuse material", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
           ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
           legal_ground="Directive 2011/93/EU Art. 5; national criminal law", child_safety=True),
    Policy("grooming", "Grooming or sexual enticement of minors",
           "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
           ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_OF_MINORS",),
           legal_ground="Directive 2011/93/EU Art. 6", child_safety=True),
    Policy("sexualised-minors", "Sexualised content involving minors (not illegal per se)",
           "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", (),
           illegal=False, legal_ground="Terms of service, section on minors", child_safety=True),
    Policy("ncii", "Non-consensual intimate imagery", "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
           ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",), legal_ground="national criminal law"),
    Policy("spam", "Spam", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", (),
           illegal=False, legal_ground="Terms of service, section on spam"),
))

#: DECISION_VISIBILITY / DECISION_ACCOUNT / DECISION_PROVISION per action
_VISIBILITY = {ActionKind.REMOVE_ITEM: "DECISION_VISIBILITY_CONTENT_REMOVED",
               ActionKind.BANK_ITEM: "DECISION_VISIBILITY_CONTENT_REMOVED",
               ActionKind.BAN_SPACE: "DECISION_VISIBILITY_CONTENT_DISABLED"}
_ACCOUNT = {ActionKind.RESTRICT_ACCOUNT: "DECISION_ACCOUNT_SUSPENDED",
            ActionKind.BAN_ACCOUNT: "DECISION_ACCOUNT_TERMINATED"}
_PROVISION = {ActionKind.RESTRICT_ACCOUNT: "DECISION_PROVISION_PARTIAL_SUSPENSION",
              ActionKind.BAN_ACCOUNT: "DECISION_PROVISION_TOTAL_TERMINATION",
              ActionKind.BAN_SPACE: "DECISION_PROVISION_PARTIAL_TERMINATION"}
_SOURCE = {CaseSource.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
           CaseSource.PUBLIC_REPORT: "SOURCE_ARTICLE_16",
           CaseSource.LAW_ENFORCEMENT: "SOURCE_TYPE_OTHER_NOTIFICATION",
           CaseSource.EMERGENCY: "SOURCE_TYPE_OTHER_NOTIFICATION"}
_CONTENT = {"image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO",
            "text": "CONTENT_TYPE_TEXT"}


@dataclass(frozen=True)
class ReasonsInput:
    """What a statement of reasons is built from (plain values, no database rows)."""

    action: ActionKind
    policy: Policy
    source: CaseSource
    facts: str
    content_kinds: tuple[str, ...] = ()  # "image", "video", ...
    automated_detection: bool = False  # found by hash matching
    content_date: dt.date | None = None
    application_date: dt.date | None = None
    end_date: dt.date | None = None  # for a temporary restriction
    puid: str = ""  # the platform's id of the item / account / space
    territorial_scope: tuple[str, ...] = ()  # ISO country codes; empty = worldwide
    extra_keywords: tuple[str, ...] = field(default_factory=tuple)


#: actions that restrict nothing of the affected user: no statement of reasons
NON_RESTRICTIVE = frozenset({ActionKind.DISMISS, ActionKind.PRESERVATION_HOLD,
                             ActionKind.REFER_NCMEC, ActionKind.OVERTURN_BLOCK})


def statement_of_reasons(r: ReasonsInput) -> dict:
    """The DSA Transparency Database fields for one restrictive action (``NON_RESTRICTIVE``
    actions have none and raise ``InvalidInput``).

    Decisions are always taken by a person (``AUTOMATED_DECISION_NOT_AUTOMATED``);
    ``automated_detection`` says whether a machine found the content (hash matching).
    """
    if r.action in NON_RESTRICTIVE:
        raise InvalidInput(f"{r.action.value} restricts nothing and has no statement of reasons")
    if not r.facts.strip():
        raise InvalidInput("a statement of reasons needs the facts and circumstances")
    p = r.policy
    sor: dict = {
        "decision_visibility": [_VISIBILITY[r.action]] if r.action in _VISIBILITY else [],
        "decision_monetary": None,
        "decision_provision": _PROVISION.get(r.action),
        "decision_account": _ACCOUNT.get(r.action),
        "account_type": "ACCOUNT_TYPE_PRIVATE",
        "decision_ground": ("DECISION_GROUND_ILLEGAL_CONTENT" if p.illegal
                            else "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
        "category": p.dsa_category,
        "category_specification": sorted(set(p.keywords) | set(r.extra_keywords)),
        "content_type": sorted({_CONTENT.get(k, "CONTENT_TYPE_OTHER") for k in r.content_kinds})
                        or ["CONTENT_TYPE_OTHER"],
        "source_type": _SOURCE.get(r.source, "SOURCE_VOLUNTARY"),
        "automated_detection": "Yes" if r.automated_detection else "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "decision_facts": r.facts.strip()[:5000],
        "territorial_scope": list(r.territorial_scope),
        "content_date": (r.content_date or r.application_date or dt.date.today()).isoformat(),
        "application_date": (r.application_date or dt.date.today()).isoformat(),
        "puid": r.puid[:500],
    }
    if p.illegal:
        sor["illegal_content_legal_ground"] = p.legal_ground
        sor["illegal_content_explanation"] = f"{p.title}: {r.facts.strip()[:1000]}"
    else:
        sor["incompatible_content_ground"] = p.legal_ground
        sor["incompatible_content_explanation"] = f"{p.title}: {r.facts.strip()[:1000]}"
    if r.action is ActionKind.RESTRICT_ACCOUNT:
        if r.end_date is None:
            raise InvalidInput("a temporary restriction needs an end date")
        sor["end_date_account_restriction"] = r.end_date.isoformat()
    if not sor["decision_visibility"] and sor["decision_account"] is None \
            and sor["decision_provision"] is None:
        sor["decision_visibility"] = ["DECISION_VISIBILITY_OTHER"]
        sor["decision_visibility_other"] = r.action.value.replace("_", " ")
    return sor


def policies_for(taxonomy: Taxonomy, child_safety: bool | None = None) -> Iterable[Policy]:
    return (p for p in taxonomy.policies if child_safety is None or p.child_safety == child_safety)
