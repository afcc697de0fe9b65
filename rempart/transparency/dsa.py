"""Decision leaves as DSA statements of reasons, in the EU Transparency Database API vocabulary.

Pure: a function of a decision leaf, its index and the log origin, so any verifier can
recompute the published statements from the log and compare them byte for byte.

Mapping of the leaf vocabulary (``leaves.VOCABULARY``) to the Transparency Database's
(API ``POST /api/v1/statements``, field names and constants as the database spells them):

    target and decision (what was acted on, and how; ``leaves.DECISIONS_BY_TARGET``):
              no_action, reinstated (any target) -> no statement (nothing was restricted)
              content  upload_blocked, content_removed -> decision_visibility [DECISION_VISIBILITY_CONTENT_REMOVED]
                       content_disabled   -> decision_visibility [DECISION_VISIBILITY_CONTENT_DISABLED]
                       content_restricted -> decision_visibility [DECISION_VISIBILITY_OTHER] (+ _other text)
              account  account_suspended  -> decision_account DECISION_ACCOUNT_SUSPENDED
                       account_terminated -> decision_account DECISION_ACCOUNT_TERMINATED
              space    content_disabled   -> decision_provision DECISION_PROVISION_PARTIAL_TERMINATION
                                             and decision_visibility [DECISION_VISIBILITY_CONTENT_DISABLED]
                       content_restricted -> decision_provision DECISION_PROVISION_PARTIAL_SUSPENSION
                                             and decision_visibility [DECISION_VISIBILITY_OTHER] (+ _other text)
              (a banned group or channel is the service no longer provided, in part, to its
              members, and its content is disabled with it). decision_monetary is never set:
              rempart's decisions have no monetary side.
    time_to_action  not a statement field (the database has no such field); published in the report
    ground    illegal_content -> DECISION_GROUND_ILLEGAL_CONTENT (+ legal ground, explanation)
              incompatible_content -> DECISION_GROUND_INCOMPATIBLE_CONTENT (+ ground, explanation)
    category  protection_of_minors -> STATEMENT_CATEGORY_PROTECTION_OF_MINORS, and so on;
              other -> STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE
    keyword   child_sexual_abuse_material -> category_specification [KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL]
              ...; none -> no category_specification
    content_type  image -> [CONTENT_TYPE_IMAGE], video -> [CONTENT_TYPE_VIDEO], ...
    source_type   article_16_notice -> SOURCE_ARTICLE_16, trusted_flagger -> SOURCE_TRUSTED_FLAGGER,
                  authority_order -> SOURCE_TYPE_OTHER_NOTIFICATION, own_initiative_* -> SOURCE_VOLUNTARY
    automated_detection  yes -> "Yes", no -> "No"
    automated_decision   fully -> AUTOMATED_DECISION_FULLY, partially -> AUTOMATED_DECISION_PARTIALLY,
                         not_automated -> AUTOMATED_DECISION_NOT_AUTOMATED
    region    EU -> territorial_scope: the 27 member states; GLOBAL -> the 30 EEA states; a
              country code -> [that code]
    kind, target -> decision_facts: a fixed sentence per kind, then one per target (account, space)
    day       -> content_date and application_date
    puid      "<origin>/<leaf index>": names the log leaf, never a user, an item or a hash

Only public fields are ever produced: no user or account identifier, no content, no hash.
"""

from __future__ import annotations

from rempart.transparency.leaves import EEA_COUNTRIES, ENFORCING, Decision

EU_COUNTRIES = tuple(c for c in EEA_COUNTRIES if c not in ("IS", "LI", "NO"))

VISIBILITY = {
    "upload_blocked": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "content_removed": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "content_disabled": "DECISION_VISIBILITY_CONTENT_DISABLED",
    "content_restricted": "DECISION_VISIBILITY_OTHER",
}
ACCOUNT = {"account_suspended": "DECISION_ACCOUNT_SUSPENDED", "account_terminated": "DECISION_ACCOUNT_TERMINATED"}
PROVISION = {"content_disabled": "DECISION_PROVISION_PARTIAL_TERMINATION",
             "content_restricted": "DECISION_PROVISION_PARTIAL_SUSPENSION"}
RESTRICTED_OTHER = {"content": "Access to the content was restricted.",
                    "space": "Access to the group or channel and its content was restricted."}
GROUND = {"illegal_content": "DECISION_GROUND_ILLEGAL_CONTENT",
          "incompatible_content": "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CATEGORY = {
    "protection_of_minors": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "non_consensual_behaviour": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "pornography_or_sexualized_content": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "other": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
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
SOURCE = {
    "article_16_notice": "SOURCE_ARTICLE_16",
    "trusted_flagger": "SOURCE_TRUSTED_FLAGGER",
    "authority_order": "SOURCE_TYPE_OTHER_NOTIFICATION",
    "own_initiative_hash_match": "SOURCE_VOLUNTARY",
    "own_initiative_other": "SOURCE_VOLUNTARY",
}
AUTOMATED_DETECTION = {"yes": "Yes", "no": "No"}
AUTOMATED_DECISION = {"fully": "AUTOMATED_DECISION_FULLY", "partially": "AUTOMATED_DECISION_PARTIALLY",
                      "not_automated": "AUTOMATED_DECISION_NOT_AUTOMATED"}

LEGAL_GROUND = ("Directive 2011/93/EU on combating the sexual abuse and sexual exploitation of "
                "children, Article 5, and the national law transposing it")
ILLEGAL_EXPLANATION = ("The item is, or was confirmed as, child sexual abuse material; making it "
                       "available is a criminal offence.")
INCOMPATIBLE_GROUND = "Terms of service: protection of minors"
INCOMPATIBLE_EXPLANATION = "The item breaks the platform's rules on the protection of minors."
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


def territorial_scope(region: str) -> list[str]:
    """Country codes a decision applies to, for a leaf ``region``."""
    if region == "EU":
        return sorted(EU_COUNTRIES)
    if region == "GLOBAL":
        return sorted(EEA_COUNTRIES)
    return [region]


def statement_of_reasons(d: Decision, index: int, origin: str) -> dict | None:
    """The Transparency Database statement for decision leaf ``index``; None when nothing was restricted.

    Which restriction fields are set follows the leaf's ``target`` (see the module docstring).
    """
    if d.decision not in ENFORCING:
        return None
    out: dict = {}
    if d.target == "account":
        out["decision_account"] = ACCOUNT[d.decision]
    else:
        if d.target == "space":
            out["decision_provision"] = PROVISION[d.decision]
        out["decision_visibility"] = [VISIBILITY[d.decision]]
        if d.decision == "content_restricted":
            out["decision_visibility_other"] = RESTRICTED_OTHER[d.target]
    out["decision_ground"] = GROUND[d.ground]
    if d.ground == "illegal_content":
        out["illegal_content_legal_ground"] = LEGAL_GROUND
        out["illegal_content_explanation"] = ILLEGAL_EXPLANATION
    else:
        out["incompatible_content_ground"] = INCOMPATIBLE_GROUND
        out["incompatible_content_explanation"] = INCOMPATIBLE_EXPLANATION
    out["category"] = CATEGORY[d.category]
    if d.keyword in KEYWORD:
        out["category_specification"] = [KEYWORD[d.keyword]]
    out["content_type"] = [CONTENT_TYPE[d.content_type]]
    out["content_date"] = d.day
    out["application_date"] = d.day
    out["territorial_scope"] = territorial_scope(d.region)
    out["decision_facts"] = FACTS[d.kind] + TARGET_FACTS[d.target]
    out["source_type"] = SOURCE[d.source_type]
    out["automated_detection"] = AUTOMATED_DETECTION[d.automated_detection]
    out["automated_decision"] = AUTOMATED_DECISION[d.automated_decision]
    out["puid"] = f"{origin}/{index}"
    return out
