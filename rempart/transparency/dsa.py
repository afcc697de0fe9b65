"""DSA statements of reasons (Art. 17, Art. 24(5)): built in one place, in the EU Transparency
Database's vocabulary, and checked against its schema (``dsa_schema``).

Pure. ``build_statement`` is the only builder of a statement in rempart. Its callers:

- a reviewer's action: ``rempart.moderation.policy.statement_of_reasons`` builds the statement
  that is stored with the action, sent in its webhook and shown, before, in the console's
  preview (``rempart.moderation.preview``);
- the published report: ``statement_of_reasons`` below, from a decision leaf and its index, so
  that any verifier recomputes the published statements from the log and compares them byte for
  byte. Only public fields are produced there: no user, account or item identifier, no content,
  no hash; fixed sentences stand for the facts and grounds.

A statement is described in rempart's decision vocabulary (the log leaf's terms,
``leaves.VOCABULARY``) plus the policy's Transparency Database category and keywords, and the
free texts. The mapping, in one table each (``StatementInput`` field -> database field):

    target, decision (``leaves.DECISIONS_BY_TARGET``; no_action and reinstated: no statement)
              content  upload_blocked, content_removed -> decision_visibility [DECISION_VISIBILITY_CONTENT_REMOVED]
                       content_disabled   -> decision_visibility [DECISION_VISIBILITY_CONTENT_DISABLED]
                       content_restricted -> decision_visibility [DECISION_VISIBILITY_OTHER] (+ _other text)
              account  account_suspended  -> decision_account DECISION_ACCOUNT_SUSPENDED
                                             (+ end_date_account_restriction when known)
                       account_terminated -> decision_account DECISION_ACCOUNT_TERMINATED
              space    content_disabled   -> decision_provision DECISION_PROVISION_PARTIAL_TERMINATION
                                             and decision_visibility [DECISION_VISIBILITY_CONTENT_DISABLED]
                       content_restricted -> decision_provision DECISION_PROVISION_PARTIAL_SUSPENSION
                                             and decision_visibility [DECISION_VISIBILITY_OTHER] (+ _other text)
              (an account decision restricts the account, nothing more: no decision_provision; a
              banned group or channel is the service no longer provided, in part, to its members,
              and its content disabled with it). decision_monetary is never set: rempart's
              decisions have no monetary side; account_type is never guessed.
    ground    illegal_content -> DECISION_GROUND_ILLEGAL_CONTENT (+ illegal_content_legal_ground, _explanation)
              incompatible_content -> DECISION_GROUND_INCOMPATIBLE_CONTENT (+ incompatible_content_ground, _explanation)
    category, keywords  -> category, category_specification (absent when there is none)
    content_types  image -> CONTENT_TYPE_IMAGE, video -> CONTENT_TYPE_VIDEO, ...; other ->
              CONTENT_TYPE_OTHER with content_type_other (``OTHER_CONTENT``)
    source_type   article_16_notice -> SOURCE_ARTICLE_16, trusted_flagger -> SOURCE_TRUSTED_FLAGGER,
                  authority_order -> SOURCE_TYPE_OTHER_NOTIFICATION, own_initiative_* and
                  shared_list_* -> SOURCE_VOLUNTARY
    automated_detection  yes -> "Yes", no -> "No"
    automated_decision   fully -> AUTOMATED_DECISION_FULLY, partially -> AUTOMATED_DECISION_PARTIALLY,
                         not_automated -> AUTOMATED_DECISION_NOT_AUTOMATED
    region    EU -> territorial_scope: the 27 member states; GLOBAL -> the 30 EEA states; a
              country code -> [that code] (the scope is never left empty: the database requires it)
    puid      letters, digits, '-' and '_' (the database refuses anything else)

A leaf names its category and keyword in the log's own closed words; ``CATEGORY`` and
``KEYWORD`` map them to the database's, and ``leaf_classification`` maps a reviewer's statement
back onto them (what the public log can say of it: a category or keyword it has no word for is
published as ``other`` / no keyword), so the published statement of a reviewer's decision says
what the stored one says, field for field, wherever the log has the words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rempart.errors import InvalidInput, shown
from rempart.transparency.dsa_schema import EEA_COUNTRIES, EU_COUNTRIES, check_statement
from rempart.transparency.leaves import ENFORCING, Decision

#: (target, decision) -> the restriction fields
RESTRICTIONS: dict[tuple[str, str], dict[str, object]] = {
    ("content", "upload_blocked"): {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]},
    ("content", "content_removed"): {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]},
    ("content", "content_disabled"): {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"]},
    ("content", "content_restricted"): {
        "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
        "decision_visibility_other": "Access to the content was restricted."},
    ("account", "account_suspended"): {"decision_account": "DECISION_ACCOUNT_SUSPENDED"},
    ("account", "account_terminated"): {"decision_account": "DECISION_ACCOUNT_TERMINATED"},
    ("space", "content_disabled"): {
        "decision_provision": "DECISION_PROVISION_PARTIAL_TERMINATION",
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"]},
    ("space", "content_restricted"): {
        "decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION",
        "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
        "decision_visibility_other": "Access to the group or channel and its content was restricted."},
}
GROUND = {"illegal_content": "DECISION_GROUND_ILLEGAL_CONTENT",
          "incompatible_content": "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
#: the log's categories; since the database's categories of 2025, non-consensual behaviour is
#: part of cyber violence, and sexualised content of "other violation of terms and conditions"
CATEGORY = {
    "protection_of_minors": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "non_consensual_behaviour": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "pornography_or_sexualized_content": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "other": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
}
KEYWORD = {
    "child_sexual_abuse_material": "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "grooming_sexual_enticement_of_minors": "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "age_specific_restrictions_minors": "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "unsafe_challenges": "KEYWORD_UNSAFE_CHALLENGES",
    "other": "KEYWORD_OTHER",
}
CONTENT_TYPE = {
    "image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO",
    "text": "CONTENT_TYPE_TEXT", "synthetic_media": "CONTENT_TYPE_SYNTHETIC_MEDIA", "other": "CONTENT_TYPE_OTHER",
}  # fmt: skip
#: content_type_other, which the database requires with CONTENT_TYPE_OTHER
OTHER_CONTENT = "A file of a kind rempart does not decode, known by its fingerprints"
SOURCE = {
    "article_16_notice": "SOURCE_ARTICLE_16",
    "trusted_flagger": "SOURCE_TRUSTED_FLAGGER",
    "authority_order": "SOURCE_TYPE_OTHER_NOTIFICATION",
    "own_initiative_hash_match": "SOURCE_VOLUNTARY",
    "own_initiative_other": "SOURCE_VOLUNTARY",
    "shared_list_ncmec": "SOURCE_VOLUNTARY",
    "shared_list_threatexchange": "SOURCE_VOLUNTARY",
    "shared_list_stopncii": "SOURCE_VOLUNTARY",
    "shared_list_rempart": "SOURCE_VOLUNTARY",
}
AUTOMATED_DETECTION = {"yes": "Yes", "no": "No"}
AUTOMATED_DECISION = {"fully": "AUTOMATED_DECISION_FULLY", "partially": "AUTOMATED_DECISION_PARTIALLY",
                      "not_automated": "AUTOMATED_DECISION_NOT_AUTOMATED"}

#: what a match in a hash list of known material is, in the log's words: an automatic block's
#: ground, category and keyword, and those of a decision that states no other
HASH_LIST_CLASSIFICATION = {"ground": "illegal_content", "category": "protection_of_minors",
                            "keyword": "child_sexual_abuse_material"}

#: the inverse maps, for ``leaf_classification``
LEAF_CATEGORY = {
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "protection_of_minors",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "non_consensual_behaviour",
}
LEAF_KEYWORD = {tdb: leaf for leaf, tdb in KEYWORD.items()}
LEAF_GROUND = {tdb: leaf for leaf, tdb in GROUND.items()}

# The published statements' fixed texts (no facts of any case): the ground of a leaf, by its
# keyword where one is specific, else by its ground.
CSAM_LEGAL_GROUND = ("Directive 2011/93/EU on combating the sexual abuse and sexual exploitation "
                     "of children, Article 5, and the national law transposing it")
PUBLIC_GROUNDS: dict[tuple[str, str], tuple[str, str]] = {
    ("illegal_content", "child_sexual_abuse_material"): (
        CSAM_LEGAL_GROUND,
        "The item is, or was confirmed as, child sexual abuse material; making it available is "
        "a criminal offence."),
    ("illegal_content", "grooming_sexual_enticement_of_minors"): (
        "Directive 2011/93/EU on combating the sexual abuse and sexual exploitation of children, "
        "Article 6, and the national law transposing it",
        "The content was found to be the solicitation of a child for sexual purposes, a criminal "
        "offence."),
    ("illegal_content", ""): (
        "The Union or national law named in the statement of reasons given to the person concerned",
        "The content was found to be illegal under that law."),
    ("incompatible_content", "protection_of_minors"): (
        "Terms of service: protection of minors",
        "The item breaks the platform's rules on the protection of minors."),
    ("incompatible_content", ""): (
        "Terms of service",
        "The content breaks the platform's terms of service."),
}
FACTS = {
    "hash_match_block": "The upload matched a hash list of known material and was refused at upload.",
    "moderation_decision": "A trained moderator reviewed the item and decided.",
    "notice_decision": "The item was reported in a notice; a moderator reviewed it and decided.",
    "appeal_decision": "An appeal against an earlier decision was reviewed and decided.",
    "authority_order": "The decision executes an order of a competent authority.",
}
#: appended to the facts: what the decision acted on
TARGET_FACTS = {
    "content": "",
    "account": " The decision applies to the account that shared the item.",
    "space": " The decision applies to the group or channel in which the item was shared.",
}
_NOT_PUID = re.compile(r"[^A-Za-z0-9_-]")


def territorial_scope(region: str) -> list[str]:
    """Country codes a decision applies to, for a leaf ``region`` (never empty)."""
    if region == "EU":
        return sorted(EU_COUNTRIES)
    if region == "GLOBAL":
        return sorted(EEA_COUNTRIES)
    if region in EEA_COUNTRIES:
        return [region]
    raise InvalidInput(f"region {shown(region, 20)} is not EU, GLOBAL or an EEA country code")


def make_puid(*parts: object) -> str:
    """A platform unique identifier from ``parts``, in the characters the database accepts
    (letters, digits, '-', '_'; every other character becomes '-')."""
    return _NOT_PUID.sub("-", "-".join(str(p) for p in parts))


@dataclass(frozen=True)
class StatementInput:
    """Everything one statement is built from (plain values; see the module's mapping)."""

    target: str  # content | account | space
    decision: str  # leaves.DECISIONS_BY_TARGET[target]
    ground: str  # illegal_content | incompatible_content
    category: str  # STATEMENT_CATEGORY_*
    keywords: tuple[str, ...]  # KEYWORD_*
    legal_ground: str  # the law (illegal) or the terms-of-service clause (incompatible)
    explanation: str  # why the content is illegal / incompatible on that ground
    content_types: tuple[str, ...]  # leaf content types: image, video, ..., other
    source_type: str  # leaf source type
    automated_detection: str  # yes | no
    automated_decision: str  # fully | partially | not_automated
    facts: str
    content_date: str  # YYYY-MM-DD
    application_date: str  # YYYY-MM-DD
    region: str  # EU | GLOBAL | an EEA country code
    puid: str
    end_date: str | None = None  # an account suspension's last day, when known


def build_statement(s: StatementInput) -> dict | None:
    """The Transparency Database statement for ``s``; None when nothing was restricted
    (``no_action``, ``reinstated``). Raises ``InvalidInput`` for a statement the database's
    schema refuses (``dsa_schema.check_statement``), naming every problem."""
    if s.decision not in ENFORCING:
        return None
    restriction = RESTRICTIONS.get((s.target, s.decision))
    if restriction is None:
        raise InvalidInput(f"decision {s.decision} cannot have target {s.target}")
    out: dict = dict(restriction)
    if s.end_date is not None and s.decision == "account_suspended":
        out["end_date_account_restriction"] = s.end_date
    out["decision_ground"] = GROUND[s.ground]
    if s.ground == "illegal_content":
        out["illegal_content_legal_ground"] = s.legal_ground
        out["illegal_content_explanation"] = s.explanation
    else:
        out["incompatible_content_ground"] = s.legal_ground
        out["incompatible_content_explanation"] = s.explanation
    out["category"] = s.category
    if s.keywords:
        out["category_specification"] = sorted(set(s.keywords))
    types = sorted({CONTENT_TYPE[t] for t in s.content_types or ("other",)})
    out["content_type"] = types
    if "CONTENT_TYPE_OTHER" in types:
        out["content_type_other"] = OTHER_CONTENT
    out["content_date"] = s.content_date
    out["application_date"] = s.application_date
    out["territorial_scope"] = territorial_scope(s.region)
    out["decision_facts"] = s.facts
    out["source_type"] = SOURCE[s.source_type]
    out["automated_detection"] = AUTOMATED_DETECTION[s.automated_detection]
    out["automated_decision"] = AUTOMATED_DECISION[s.automated_decision]
    out["puid"] = s.puid
    check_statement(out)
    return out


def leaf_classification(statement: Mapping[str, object]) -> dict[str, str]:
    """The ``ground``, ``category`` and ``keyword`` a log leaf gives the decision ``statement``
    (a statement ``build_statement`` made): the database's terms in the log's closed words; a
    category the log has no word for is ``other``, and keywords it has no word for are left out
    (``none`` when no keyword remains)."""
    keywords = [LEAF_KEYWORD[k] for k in statement.get("category_specification") or ()
                if k in LEAF_KEYWORD]
    specific = [k for k in keywords if k != "other"]
    return {"ground": LEAF_GROUND[str(statement["decision_ground"])],
            "category": LEAF_CATEGORY.get(str(statement["category"]), "other"),
            "keyword": (specific or keywords or ["none"])[0]}


def public_grounds(ground: str, category: str, keyword: str) -> tuple[str, str]:
    """The fixed (legal or contractual ground, explanation) of a published statement."""
    return (PUBLIC_GROUNDS.get((ground, keyword)) or PUBLIC_GROUNDS.get((ground, category))
            or PUBLIC_GROUNDS[(ground, "")])


def statement_of_reasons(d: Decision, index: int, origin: str) -> dict | None:
    """The published statement for decision leaf ``index`` of the log ``origin``; None when
    nothing was restricted. Its PUID names the leaf (``<origin>-<index>``, in the database's
    characters), never a user, an item or a hash."""
    legal_ground, explanation = public_grounds(d.ground, d.category, d.keyword)
    return build_statement(StatementInput(
        target=d.target, decision=d.decision, ground=d.ground, category=CATEGORY[d.category],
        keywords=(KEYWORD[d.keyword],) if d.keyword in KEYWORD else (),
        legal_ground=legal_ground, explanation=explanation, content_types=(d.content_type,),
        source_type=d.source_type, automated_detection=d.automated_detection,
        automated_decision=d.automated_decision, facts=FACTS[d.kind] + TARGET_FACTS[d.target],
        content_date=d.day, application_date=d.day, region=d.region, puid=make_puid(origin, index)))
