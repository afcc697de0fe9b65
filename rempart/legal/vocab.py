"""Closed vocabularies of the legal desk (pure), each tied to the text it comes from.

References are to Regulation (EU) 2023/1543 (e-Evidence) unless said otherwise: Art. 3 points
(9)-(12) define the data categories, Art. 4 who may issue and validate, Art. 5(4) the offences
for which traffic and content data may be ordered, Annex III (Form 3) the reasons a provider
gives for not executing an order.
"""

from __future__ import annotations

import enum


class OrderKind(str, enum.Enum):
    EPOC = "epoc"  # European Production Order Certificate, Annex I
    EPOC_PR = "epoc_pr"  # European Preservation Order Certificate, Annex II
    EMERGENCY_REQUEST = "emergency_request"  # voluntary disclosure outside any order


class DataCategory(str, enum.Enum):
    """Art. 3 points (9)-(12), in that order (the order is the canonical one of lists)."""

    SUBSCRIBER = "subscriber"  # (9) identity, contact, billing, service type and duration
    IP_IDENTIFICATION = "ip_identification"  # (10) IP, port, time: sole purpose of identifying the user
    TRAFFIC = "traffic"  # (11) metadata of messages and sessions, other than (9)
    CONTENT = "content"  # (12) text, voice, images, video, sound


#: categories any judge, court, investigating judge or prosecutor may order (Art. 4(1), 5(3))
IDENTIFYING = frozenset({DataCategory.SUBSCRIBER, DataCategory.IP_IDENTIFICATION})
#: categories that need a judge, court or investigating judge and a serious offence (Art. 4(2), 5(4))
SENSITIVE = frozenset({DataCategory.TRAFFIC, DataCategory.CONTENT})


class AuthorityKind(str, enum.Enum):
    JUDGE = "judge"
    COURT = "court"
    INVESTIGATING_JUDGE = "investigating_judge"
    PROSECUTOR = "prosecutor"
    POLICE = "police"  # an "other competent authority" (Art. 4(1)(b)) named for what it is
    OTHER_COMPETENT_AUTHORITY = "other_competent_authority"


#: who may issue on their own, or validate, an order for identifying data and any EPOC-PR (Art. 4(1), 4(3))
JUDICIAL_ALL = frozenset({AuthorityKind.JUDGE, AuthorityKind.COURT, AuthorityKind.INVESTIGATING_JUDGE,
                          AuthorityKind.PROSECUTOR})
#: who may issue on their own, or validate, a production order for traffic or content data (Art. 4(2))
JUDICIAL_COURTS = frozenset({AuthorityKind.JUDGE, AuthorityKind.COURT, AuthorityKind.INVESTIGATING_JUDGE})


class TargetType(str, enum.Enum):
    ACCOUNT = "account"  # the platform's account identifier
    USERNAME = "username"
    EMAIL = "email"
    PHONE = "phone"  # E.164, "+" and digits
    IP = "ip"  # an IPv4/IPv6 address at a given time (and port, behind CGNAT)
    SPACE = "space"  # a group, channel or conversation identifier


class Purpose(str, enum.Enum):
    CRIMINAL_PROCEEDINGS = "criminal_proceedings"
    EXECUTION_OF_SENTENCE = "execution_of_sentence"  # custodial sentence >= 4 months, absconded


#: minimum custodial sentence or detention order for execution orders (Art. 5(3), 5(4)(d))
MIN_SENTENCE_MONTHS = 4
#: maximum custodial sentence (years) from which any offence allows traffic/content data (Art. 5(4)(a))
SERIOUS_OFFENCE_YEARS = 3


class ListedOffence(str, enum.Enum):
    """Offences of Art. 5(4)(b) and (c), whatever their penalty."""

    NON_CASH_PAYMENT_FRAUD = "non_cash_payment_fraud"  # Directive (EU) 2019/713 Art. 3-8
    CHILD_SEXUAL_ABUSE = "child_sexual_abuse"  # Directive 2011/93/EU Art. 3-7
    ATTACKS_ON_INFORMATION_SYSTEMS = "attacks_on_information_systems"  # Directive 2013/40/EU Art. 3-8
    TERRORISM = "terrorism"  # Directive (EU) 2017/541 Art. 3-12 and 14


#: listed offences that count only if committed wholly or partly by means of an information system
NEEDS_INFORMATION_SYSTEM = frozenset({ListedOffence.NON_CASH_PAYMENT_FRAUD, ListedOffence.CHILD_SEXUAL_ABUSE,
                                      ListedOffence.ATTACKS_ON_INFORMATION_SYSTEMS})


class ThreatKind(str, enum.Enum):
    """Why a voluntary emergency disclosure is asked (Art. 3(18) "emergency case", narrowed)."""

    THREAT_TO_LIFE = "threat_to_life"
    CHILD_AT_RISK = "child_at_risk"
    SERIOUS_PHYSICAL_HARM = "serious_physical_harm"


class RelatedKind(str, enum.Enum):
    """Other orders an order refers to (Annex I section D)."""

    EPOC = "epoc"
    EPOC_PR = "epoc_pr"
    EMERGENCY_REQUEST = "emergency_request"
    EUROPEAN_INVESTIGATION_ORDER = "eio"
    MUTUAL_LEGAL_ASSISTANCE = "mla"


class Form3Reason(str, enum.Enum):
    """Annex III (Form 3) section D: why an EPOC or EPOC-PR cannot be executed (in time)."""

    INCOMPLETE = "incomplete"
    MANIFEST_ERRORS = "manifest_errors"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    DATA_NOT_HELD = "data_not_held"  # not stored by or for the provider when the order arrived
    DE_FACTO_IMPOSSIBILITY = "de_facto_impossibility"  # not attributable to the provider
    NOT_ISSUED_BY_COMPETENT_AUTHORITY = "not_issued_by_competent_authority"  # Art. 4
    OFFENCE_NOT_COVERED = "offence_not_covered"  # traffic/content outside Art. 5(4)
    SERVICE_NOT_COVERED = "service_not_covered"
    IMMUNITIES_OR_PRIVILEGES = "immunities_or_privileges"  # incl. press freedom, Art. 10(5), 11(4)
    THIRD_COUNTRY_CONFLICT = "third_country_conflict"  # Art. 17, Form 3 section E


#: reasons that ask the issuing authority for clarification; the obligations are suspended until
#: it is given (Art. 10(6), 11(5)). Any other reason reports non-execution (Art. 10(7)-(8)).
CLARIFICATION_REASONS = frozenset({Form3Reason.INCOMPLETE, Form3Reason.MANIFEST_ERRORS,
                                   Form3Reason.INSUFFICIENT_INFORMATION})


class CustodyAction(str, enum.Enum):
    """What a person did with the evidence, for a package's chain of custody."""

    RECEIVED = "received"  # the order arrived
    VERIFIED = "verified"  # authority checked (credentials, callback to the registered contact)
    COLLECTED = "collected"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    PACKAGED = "packaged"
    SIGNED = "signed"
    SENT = "sent"


#: Member States bound by Regulation 2023/1543: the EU 27 but Denmark (ISO 3166-1 alpha-2; Greece
#: is GR here, not the EU's "EL"). Only their authorities may issue an EPOC or EPOC-PR.
BOUND_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
