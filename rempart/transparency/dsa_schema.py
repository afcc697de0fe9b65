"""What the DSA Transparency Database accepts as a statement of reasons, written down as data.

Pure. ``statement_problems`` checks a statement (a dict, the body of ``POST /api/v1/statement``)
against the rules below; ``check_statement`` raises ``InvalidInput`` listing them. Every
statement rempart produces passes through it (``rempart.transparency.dsa.build_statement``).

Source, read on 2026-06-24 in github.com/digital-services-act/transparency-database at commit
69e80a0 (the code behind https://transparency.dsa.ec.europa.eu):

- the allowed values: ``app/Models/Statement.php`` (``DECISION_VISIBILITIES``, ``KEYWORDS``, ...)
  and ``app/Services/EuropeanCountriesService.php`` (territorial scope);
- the field rules (required, required-if, excluded-unless, lengths, dates, the PUID's
  characters): ``app/Http/Requests/StatementStoreRequest.php``, and the API documentation
  (https://transparency.dsa.ec.europa.eu/page/api-documentation), which also makes
  ``territorial_scope`` required;
- which keywords (``category_specification``) fall under which category: the documentation
  page, section 16 (https://transparency.dsa.ec.europa.eu/page/documentation), after Commission
  Implementing Regulation (EU) 2024/2835. The database does not enforce it; rempart does (a
  keyword must fall under ``category`` or a ``category_addition``), except for the two
  keywords the table places nowhere: ``KEYWORD_OTHER`` and the older ``KEYWORD_STALKING``.

The categories changed on 2025-02-26 (``STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR``,
``_PORNOGRAPHY_OR_SEXUALIZED_CONTENT``, ``_SCOPE_OF_PLATFORM_SERVICE`` and
``_UNSAFE_AND_ILLEGAL_PRODUCTS`` are gone): a statement using them is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from rempart.errors import InvalidInput, shown

DECISION_VISIBILITY = (
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)
DECISION_MONETARY = ("DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION",
                     "DECISION_MONETARY_OTHER")
DECISION_PROVISION = (
    "DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION",
)
DECISION_ACCOUNT = ("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
ACCOUNT_TYPE = ("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
DECISION_GROUND = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
CONTENT_TYPE = (
    "CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER",
)
SOURCE_TYPE = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION",
               "SOURCE_VOLUNTARY")
AUTOMATED_DETECTION = ("Yes", "No")
AUTOMATED_DECISION = ("AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY",
                      "AUTOMATED_DECISION_NOT_AUTOMATED")
INCOMPATIBLE_CONTENT_ILLEGAL = ("Yes", "No")

#: territorial scope: the EU member states, and the EEA (the EU, Iceland, Liechtenstein, Norway)
EU_COUNTRIES = tuple(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
EEA_COUNTRIES = tuple(sorted(EU_COUNTRIES + ("IS", "LI", "NO")))

#: the high-level categories and the keywords that fall under each (documentation, section 16)
KEYWORDS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": ("KEYWORD_ANIMAL_HARM", "KEYWORD_UNLAWFUL_SALE_ANIMALS"),
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": (
        "KEYWORD_HIDDEN_ADVERTISEMENT", "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        "KEYWORD_MISLEADING_INFO_GOODS_SERVICES", "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        "KEYWORD_NONCOMPLIANCE_PRICING"),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": (
        "KEYWORD_CYBER_BULLYING_INTIMIDATION", "KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_INCITEMENT",
        "KEYWORD_CYBER_STALKING", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": (
        "KEYWORD_BULLYING_AGAINST_GIRLS", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        "KEYWORD_CYBER_STALKING_AGAINST_WOMEN", "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        "KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"),
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": (
        "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_DATA_FALSIFICATION",
        "KEYWORD_MISSING_PROCESSING_GROUND", "KEYWORD_RIGHT_TO_BE_FORGOTTEN"),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": (
        "KEYWORD_DEFAMATION", "KEYWORD_DISCRIMINATION", "KEYWORD_HATE_SPEECH"),
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": (
        "KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_DESIGN_INFRINGEMENT",
        "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT", "KEYWORD_PATENT_INFRINGEMENT",
        "KEYWORD_TRADE_SECRET_INFRINGEMENT", "KEYWORD_TRADEMARK_INFRINGEMENT"),
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "KEYWORD_MISINFORMATION_DISINFORMATION", "KEYWORD_VIOLATION_EU_LAW",
        "KEYWORD_VIOLATION_NATIONAL_LAW"),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": (),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": (
        "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
        "KEYWORD_GEOGRAPHICAL_REQUIREMENTS", "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        "KEYWORD_LANGUAGE_REQUIREMENTS", "KEYWORD_NUDITY"),
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": (
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "KEYWORD_UNSAFE_CHALLENGES"),
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": (
        "KEYWORD_ILLEGAL_ORGANIZATIONS", "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
        "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_TERRORIST_CONTENT"),
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": (
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS",
        "KEYWORD_INAUTHENTIC_LISTINGS", "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_PHISHING",
        "KEYWORD_PYRAMID_SCHEMES"),
    "STATEMENT_CATEGORY_SELF_HARM": (
        "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_SELF_MUTILATION", "KEYWORD_SUICIDE"),
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": (
        "KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_UNSAFE_PRODUCTS"),
    "STATEMENT_CATEGORY_VIOLENCE": (
        "KEYWORD_COORDINATED_HARM", "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        "KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_TRAFFICKING_WOMEN_GIRLS"),
}
CATEGORIES = tuple(KEYWORDS_BY_CATEGORY)
#: keywords the section-16 table places under no category: allowed with any
UNPLACED_KEYWORDS = ("KEYWORD_OTHER", "KEYWORD_STALKING")
KEYWORDS = tuple(sorted({k for ks in KEYWORDS_BY_CATEGORY.values() for k in ks}
                        | set(UNPLACED_KEYWORDS)))

#: free-text limits, in characters
MAX_CHARS = {
    "decision_visibility_other": 500, "decision_monetary_other": 500,
    "category_specification_other": 500, "content_type_other": 500,
    "decision_ground_reference_url": 500, "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000, "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000, "decision_facts": 5000, "source_identity": 500,
    "puid": 500,
}
#: the PUID: letters, digits, hyphens and underscores only
PUID = re.compile(r"[A-Za-z0-9_-]+\Z")
DATE_RANGE = {
    "content_date": (dt.date(2000, 1, 1), dt.date(2038, 1, 1)),
    "application_date": (dt.date(2020, 1, 1), dt.date(2038, 1, 1)),
}
END_DATES = ("end_date_account_restriction", "end_date_monetary_restriction",
             "end_date_service_restriction", "end_date_visibility_restriction")
LATEST_END = dt.date(2038, 1, 1)
#: the restriction fields; a statement needs at least one
RESTRICTIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")

#: every attribute a statement may carry
FIELDS = frozenset({
    *RESTRICTIONS, *END_DATES, *MAX_CHARS, *DATE_RANGE,
    "account_type", "decision_ground", "incompatible_content_illegal", "content_type", "category",
    "category_addition", "category_specification", "territorial_scope", "content_language",
    "content_id", "content_id_ean", "source_type", "automated_detection", "automated_decision",
})
_ONE_OF: dict[str, tuple[str, ...]] = {
    "decision_monetary": DECISION_MONETARY, "decision_provision": DECISION_PROVISION,
    "decision_account": DECISION_ACCOUNT, "account_type": ACCOUNT_TYPE,
    "decision_ground": DECISION_GROUND, "category": CATEGORIES, "source_type": SOURCE_TYPE,
    "automated_detection": AUTOMATED_DETECTION, "automated_decision": AUTOMATED_DECISION,
    "incompatible_content_illegal": INCOMPATIBLE_CONTENT_ILLEGAL,
}
_LIST_OF: dict[str, tuple[str, ...]] = {
    "decision_visibility": DECISION_VISIBILITY, "content_type": CONTENT_TYPE,
    "category_addition": CATEGORIES, "category_specification": KEYWORDS,
    "territorial_scope": EEA_COUNTRIES,
}
REQUIRED = ("decision_ground", "content_type", "category", "territorial_scope", "content_date",
            "application_date", "decision_facts", "source_type", "automated_detection",
            "automated_decision", "puid")
#: (field, condition field, value): the field is required when the condition field holds (or,
#: for a list, contains) the value, and must be absent otherwise
_REQUIRED_IF = (
    ("decision_visibility_other", "decision_visibility", "DECISION_VISIBILITY_OTHER"),
    ("decision_monetary_other", "decision_monetary", "DECISION_MONETARY_OTHER"),
    ("content_type_other", "content_type", "CONTENT_TYPE_OTHER"),
    ("illegal_content_legal_ground", "decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT"),
    ("illegal_content_explanation", "decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT"),
    ("incompatible_content_ground", "decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
    ("incompatible_content_explanation", "decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
)
#: (field, condition field, value): the field may be given only when the condition holds
_ONLY_IF = (
    ("incompatible_content_illegal", "decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
    ("category_specification_other", "category_specification", "KEYWORD_OTHER"),
)


def _given(value: object) -> bool:
    return value is not None and value != "" and value != []


def _holds(value: object, want: str) -> bool:
    return want in value if isinstance(value, list) else value == want


def statement_problems(sor: Mapping[str, object]) -> list[str]:
    """Everything in ``sor`` the Transparency Database (or rempart's keyword rule) would refuse."""
    out: list[str] = []
    out += [f"{k}: not a statement attribute" for k in sorted(set(sor) - FIELDS)]
    out += [f"{k}: required" for k in REQUIRED if not _given(sor.get(k))]
    if not any(_given(sor.get(k)) for k in RESTRICTIONS):
        out.append("one of " + ", ".join(RESTRICTIONS) + " is required")
    for key, allowed in _ONE_OF.items():
        value = sor.get(key)
        if value is not None and value not in allowed:
            out.append(f"{key}: {shown(value)} is not allowed")
    for key, allowed in _LIST_OF.items():
        value = sor.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            out.append(f"{key}: must be a list")
            continue
        bad = [v for v in value if v not in allowed]
        if bad:
            out.append(f"{key}: {', '.join(map(str, bad))} not allowed")
        if len(set(value)) != len(value):
            out.append(f"{key}: repeated values")
    for key, when, value in _REQUIRED_IF:
        holds = _holds(sor.get(when), value)
        if holds and not _given(sor.get(key)):
            out.append(f"{key}: required when {when} is {value}")
        if not holds and key in sor:
            out.append(f"{key}: only when {when} is {value}")
    for key, when, value in _ONLY_IF:
        if key in sor and not _holds(sor.get(when), value):
            out.append(f"{key}: only when {when} is {value}")
    if sor.get("source_type") == "SOURCE_VOLUNTARY" and "source_identity" in sor:
        out.append("source_identity: not taken for SOURCE_VOLUNTARY")
    for key, limit in MAX_CHARS.items():
        value = sor.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            out.append(f"{key}: text of at most {limit} characters")
    puid = sor.get("puid")
    if isinstance(puid, str) and puid and not PUID.match(puid):
        out.append("puid: letters, digits, '-' and '_' only")
    out += _date_problems(sor)
    out += _keyword_problems(sor)
    return out


def check_statement(sor: Mapping[str, object]) -> None:
    """Raise ``InvalidInput`` naming every problem of ``sor`` (see ``statement_problems``)."""
    problems = statement_problems(sor)
    if problems:
        raise InvalidInput("statement of reasons refused by the Transparency Database schema: "
                           + "; ".join(problems))


def _date(value: object) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return day if day is not None and day.isoformat() == value else None


def _date_problems(sor: Mapping[str, object]) -> list[str]:
    out = []
    for key, (low, high) in DATE_RANGE.items():
        if key in sor and not (_date(sor[key]) and low <= _date(sor[key]) <= high):
            out.append(f"{key}: a YYYY-MM-DD date from {low} to {high}")
    applied = _date(sor.get("application_date"))
    for key in END_DATES:
        if sor.get(key) is None:
            continue
        end = _date(sor[key])
        if end is None or end > LATEST_END or (applied is not None and end < applied):
            out.append(f"{key}: a YYYY-MM-DD date from the application date to {LATEST_END}")
    return out


def _keyword_problems(sor: Mapping[str, object]) -> list[str]:
    keywords = sor.get("category_specification") or []
    categories = [sor.get("category"), *(sor.get("category_addition") or [])]
    placed = {k for c in categories if isinstance(c, str) for k in KEYWORDS_BY_CATEGORY.get(c, ())}
    stray = [k for k in keywords if k in KEYWORDS and k not in placed and k not in UNPLACED_KEYWORDS]
    return [f"category_specification: {k} falls under none of the statement's categories"
            for k in stray]
