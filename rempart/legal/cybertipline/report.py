"""CyberTipline report and file-details XML (NCMEC CyberTipline Reporting API).

``report_xml`` writes the body of ``POST /submit``; ``file_details_xml`` the body of
``POST /fileinfo`` for one uploaded file. Both are UTF-8 XML documents without namespace whose
root carries ``xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd"``; children
follow the schema's sequences (the API refuses elements out of order)::

    <report>
      <incidentSummary> incidentType, escalateToHighPriority?, incidentDateTime
      <reporter> reportingPerson (firstName?, lastName?, phone?, email), companyTemplate?,
                 termsOfService?, legalURL?
      <personOrUserReported> personOrUserReportedPerson?, espIdentifier, espService?,
                 screenName?, displayName?, profileUrl?, ipCaptureEvent*, priorCTReports*,
                 groupIdentifier?, additionalInfo?
      <additionalInfo>?
    <fileDetails> reportId, fileId, originalFileName, uploadedToEspTimestamp?, locationOfFile?,
                  fileViewedByEsp, exifViewedByEsp?, publiclyAvailable, fileRelevance,
                  industryClassification?, originalFileHash* (attribute hashType),
                  ipCaptureEvent?, additionalInfo?
    <ipCaptureEvent> ipAddress, eventName?, dateTime?, possibleProxy?, port?

Example (shortened)::

    <?xml version='1.0' encoding='UTF-8'?>
    <report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd"><incidentSummary>
      <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
      <incidentDateTime>2026-08-20T10:00:00Z</incidentDateTime></incidentSummary>...</report>

One report per reported account; ``fileViewedByEsp`` and ``publiclyAvailable`` are the facts
the console recorded. Bad input raises ``InvalidInput`` naming the field; nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from rempart.errors import InvalidInput
from rempart.legal._common import format_time, is_email, printable

XSD_LOCATION = "https://report.cybertip.org/ispws/xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_TEXT = 10_000


class IncidentType(str, enum.Enum):
    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Act"
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"


class FileRelevance(str, enum.Enum):
    REPORTED = "Reported"  # the content that motivates the report
    SUPPLEMENTAL = "Supplemental Reported"  # context


class IpEventName(str, enum.Enum):
    LOGIN = "Login"
    REGISTRATION = "Registration"
    PURCHASE = "Purchase"
    UPLOAD = "Upload"
    OTHER = "Other"
    UNKNOWN = "Unknown"


#: original file hash types and their hex lengths
HASH_TYPES = {"MD5": 32, "SHA1": 40, "SHA256": 64}
INDUSTRY_CLASSIFICATIONS = ("A1", "A2", "B1", "B2")


@dataclass(frozen=True)
class IpEvent:
    ip: str
    event: IpEventName | None = None
    at: dt.datetime | None = None
    possible_proxy: bool | None = None
    port: int | None = None


@dataclass(frozen=True)
class Person:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Reporter:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    company_template: str | None = None  # how to serve legal process, retention, 24h contact
    terms_of_service: str | None = None
    legal_url: str | None = None


@dataclass(frozen=True)
class ReportedUser:
    esp_identifier: str  # the account's identifier on the platform
    screen_name: str | None = None
    display_name: str | None = None
    esp_service: str | None = None
    profile_url: str | None = None
    person: Person | None = None
    ip_events: tuple[IpEvent, ...] = ()
    prior_reports: tuple[int, ...] = ()
    group_identifier: str | None = None  # the group or space the account shared it in
    additional_info: str | None = None


@dataclass(frozen=True)
class ReportFile:
    key: str  # the platform's identifier of the item (idempotency across retries)
    file_name: str
    viewed_by_esp: bool  # a person at the platform looked at the file
    publicly_available: bool
    original_hashes: tuple[tuple[str, str], ...] = ()  # (MD5 | SHA1 | SHA256, lowercase hex)
    relevance: FileRelevance = FileRelevance.REPORTED
    exif_viewed_by_esp: bool | None = None
    uploaded_at: dt.datetime | None = None
    location: str | None = None
    industry_classification: str | None = None
    ip_event: IpEvent | None = None
    additional_info: str | None = None


@dataclass(frozen=True)
class CyberTipReport:
    incident_type: IncidentType
    incident_at: dt.datetime
    reporter: Reporter
    reported: ReportedUser
    files: tuple[ReportFile, ...] = ()
    escalate: str | None = None  # a reason for urgency, e.g. a child at immediate risk
    additional_info: str | None = None


def _text(parent: ET.Element, tag: str, value: object, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, dt.datetime):
        value = format_time(value)
    value = str(value)
    if not value or len(value) > MAX_TEXT or not printable(value.replace("\n", "").replace("\t", "")):
        raise InvalidInput(f"{field}: empty, too long or with control characters")
    ET.SubElement(parent, tag).text = value


def _email(value: str | None, field: str) -> str | None:
    if value is not None and not is_email(value):
        raise InvalidInput(f"{field}: not an email address")
    return value


def _ip_event(parent: ET.Element, e: IpEvent, field: str) -> None:
    try:
        ip = str(ipaddress.ip_address(e.ip))
    except ValueError:
        raise InvalidInput(f"{field}.ip: not an IP address") from None
    if e.port is not None and not 0 <= e.port <= 65535:
        raise InvalidInput(f"{field}.port: not a port number")
    node = ET.SubElement(parent, "ipCaptureEvent")
    _text(node, "ipAddress", ip, field)
    _text(node, "eventName", e.event.value if e.event else None, field)
    _text(node, "dateTime", e.at, field)
    _text(node, "possibleProxy", e.possible_proxy, field)
    _text(node, "port", e.port, field)


def _document(root: ET.Element) -> bytes:
    root.set("xmlns:xsi", XSI)
    root.set("xsi:noNamespaceSchemaLocation", XSD_LOCATION)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def report_xml(r: CyberTipReport) -> bytes:
    """The ``<report>`` document for ``POST /submit``."""
    root = ET.Element("report")
    summary = ET.SubElement(root, "incidentSummary")
    _text(summary, "incidentType", IncidentType(r.incident_type).value, "incident_type")
    _text(summary, "escalateToHighPriority", r.escalate, "escalate")
    _text(summary, "incidentDateTime", r.incident_at, "incident_at")
    reporter = ET.SubElement(root, "reporter")
    person = ET.SubElement(reporter, "reportingPerson")
    _text(person, "firstName", r.reporter.first_name, "reporter.first_name")
    _text(person, "lastName", r.reporter.last_name, "reporter.last_name")
    _text(person, "phone", r.reporter.phone, "reporter.phone")
    _text(person, "email", _email(r.reporter.email, "reporter.email"), "reporter.email")
    _text(reporter, "companyTemplate", r.reporter.company_template, "reporter.company_template")
    _text(reporter, "termsOfService", r.reporter.terms_of_service, "reporter.terms_of_service")
    _text(reporter, "legalURL", r.reporter.legal_url, "reporter.legal_url")
    u = r.reported
    reported = ET.SubElement(root, "personOrUserReported")
    if u.person is not None:
        p = ET.SubElement(reported, "personOrUserReportedPerson")
        _text(p, "firstName", u.person.first_name, "reported.person.first_name")
        _text(p, "lastName", u.person.last_name, "reported.person.last_name")
        _text(p, "phone", u.person.phone, "reported.person.phone")
        _text(p, "email", _email(u.person.email, "reported.person.email"), "reported.person.email")
    _text(reported, "espIdentifier", u.esp_identifier, "reported.esp_identifier")
    _text(reported, "espService", u.esp_service, "reported.esp_service")
    _text(reported, "screenName", u.screen_name, "reported.screen_name")
    _text(reported, "displayName", u.display_name, "reported.display_name")
    _text(reported, "profileUrl", u.profile_url, "reported.profile_url")
    for i, e in enumerate(u.ip_events):
        _ip_event(reported, e, f"reported.ip_events[{i}]")
    for n in u.prior_reports:
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise InvalidInput("reported.prior_reports: want positive report numbers")
        _text(reported, "priorCTReports", n, "reported.prior_reports")
    _text(reported, "groupIdentifier", u.group_identifier, "reported.group_identifier")
    _text(reported, "additionalInfo", u.additional_info, "reported.additional_info")
    _text(root, "additionalInfo", r.additional_info, "additional_info")
    keys = [f.key for f in r.files]
    if len(set(keys)) != len(keys):
        raise InvalidInput("files: two files with the same key")
    return _document(root)


def check_report(r: CyberTipReport) -> bytes:
    """Build every document of ``r`` once (file details with placeholder ids), so that invalid
    content fails before anything is sent; return the <report> document."""
    body = report_xml(r)
    for f in r.files:
        file_details_xml("0", "0", f)
    return body


def file_details_xml(report_id: str, file_id: str, f: ReportFile) -> bytes:
    """The ``<fileDetails>`` document for ``POST /fileinfo`` of one uploaded file."""
    root = ET.Element("fileDetails")
    _text(root, "reportId", report_id, "report_id")
    _text(root, "fileId", file_id, "file_id")
    _text(root, "originalFileName", f.file_name, f"files[{f.key}].file_name")
    _text(root, "uploadedToEspTimestamp", f.uploaded_at, f"files[{f.key}].uploaded_at")
    _text(root, "locationOfFile", f.location, f"files[{f.key}].location")
    _text(root, "fileViewedByEsp", bool(f.viewed_by_esp), f"files[{f.key}].viewed_by_esp")
    _text(root, "exifViewedByEsp", f.exif_viewed_by_esp, f"files[{f.key}].exif_viewed_by_esp")
    _text(root, "publiclyAvailable", bool(f.publicly_available), f"files[{f.key}].publicly_available")
    _text(root, "fileRelevance", FileRelevance(f.relevance).value, f"files[{f.key}].relevance")
    if f.industry_classification is not None and f.industry_classification not in INDUSTRY_CLASSIFICATIONS:
        raise InvalidInput(f"files[{f.key}].industry_classification: want one of {', '.join(INDUSTRY_CLASSIFICATIONS)}")
    _text(root, "industryClassification", f.industry_classification, f"files[{f.key}].industry_classification")
    for kind, value in f.original_hashes:
        if HASH_TYPES.get(kind) != len(value) or not re.fullmatch(r"[0-9a-f]+", value):
            raise InvalidInput(f"files[{f.key}].original_hashes: {kind} wants {HASH_TYPES.get(kind, '?')} lowercase hex digits")
        ET.SubElement(root, "originalFileHash", hashType=kind).text = value
    if f.ip_event is not None:
        _ip_event(root, f.ip_event, f"files[{f.key}].ip_event")
    _text(root, "additionalInfo", f.additional_info, f"files[{f.key}].additional_info")
    return _document(root)
