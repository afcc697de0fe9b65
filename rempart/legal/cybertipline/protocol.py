"""The CyberTipline Reporting API's wire protocol: endpoints, response documents, codes (pure).

Endpoints, relative to the base URI (``https://report.cybertip.org/ispws``, testing
``https://exttest.cybertip.org/ispws``), HTTP basic authentication on every call::

    GET  /status     check connectivity and credentials
    POST /submit     body: a <report> document (text/xml; charset=utf-8)   -> reportId
    POST /upload     multipart/form-data: "id" (reportId), "file" (the bytes) -> fileId, MD5 hash
    POST /fileinfo   body: a <fileDetails> document for one uploaded file
    POST /finish     form field "id": closes the report                     -> <reportDoneResponse>
    POST /retract    form field "id": cancels a report that is not finished

Every answer is one XML document::

    <reportResponse><responseCode>0</responseCode><responseDescription>Success</responseDescription>
      <reportId>4564654</reportId>[<fileId>b0754af7...</fileId><hash>fafa5efe...</hash>]</reportResponse>
    <reportDoneResponse><responseCode>0</responseCode><reportId>4564654</reportId>
      <files><fileId>b0754af7...</fileId>...</files></reportDoneResponse>

``responseCode`` 0 is success; NCMEC's list of other codes is explicitly not exhaustive, so a
code is classified by its thousands (``family``): 1xxx the server failed (retry), 2xxx/3xxx
authentication or authorisation, 4xxx the request is invalid, 5xxx the report's state
(does not exist, already retracted, already finished).

``parse_response`` refuses anything but those two documents: bodies over ``MAX_RESPONSE_BYTES``,
any DOCTYPE or entity declaration, other roots, a missing or non-numeric code.
"""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from dataclasses import dataclass

PRODUCTION_URL = "https://report.cybertip.org/ispws"
TESTING_URL = "https://exttest.cybertip.org/ispws"
MAX_RESPONSE_BYTES = 64 * 1024


class ResponseCode(enum.IntEnum):
    SUCCESS = 0
    SERVER_ERROR = 1000
    SAVE_FAILED = 1100
    UPLOAD_FAILED = 1110
    FILE_UPLOAD_FAILED = 1111
    RESOURCE_NOT_FOUND = 1210
    UPDATE_FAILED = 1300
    AUTHENTICATION_REQUIRED = 2000
    NOT_AUTHORIZED = 3000
    NO_SUBMISSION_AUTHORIZATION = 3100
    NO_UPDATE_AUTHORIZATION = 3300
    INVALID_REQUEST = 4000
    VALIDATION_FAILED = 4100
    MALFORMED_XML = 4110
    MALFORMED_FILE = 4200
    REPORT_DOES_NOT_EXIST = 5001
    FILE_DOES_NOT_EXIST = 5002
    REPORT_ALREADY_RETRACTED = 5101
    REPORT_ALREADY_FINISHED = 5102


class Family(str, enum.Enum):
    SUCCESS = "success"
    SERVER = "server"  # retry later
    AUTH = "auth"  # fix the credentials or the account's authorisation
    REQUEST = "request"  # our document or file is wrong: retrying cannot help
    STATE = "state"  # the report's state: interpreted by the caller
    UNKNOWN = "unknown"  # treated as SERVER: a wrong "terminal" would abandon a report


def family(code: int) -> Family:
    if code == 0:
        return Family.SUCCESS
    return {1: Family.SERVER, 2: Family.AUTH, 3: Family.AUTH, 4: Family.REQUEST,
            5: Family.STATE}.get(code // 1000, Family.UNKNOWN)


class MalformedResponse(ValueError):
    """The body is not a CyberTipline response document."""


@dataclass(frozen=True)
class Response:
    root: str  # reportResponse | reportDoneResponse
    code: int
    description: str = ""
    report_id: str | None = None
    file_id: str | None = None
    hash: str | None = None
    file_ids: tuple[str, ...] = ()

    @property
    def family(self) -> Family:
        return family(self.code)


def parse_response(body: bytes) -> Response:
    if len(body) > MAX_RESPONSE_BYTES:
        raise MalformedResponse(f"response larger than {MAX_RESPONSE_BYTES} bytes")
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise MalformedResponse("response carries a DOCTYPE or an entity declaration")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedResponse(f"response is not well-formed XML: {exc}") from None
    if root.tag not in ("reportResponse", "reportDoneResponse"):
        raise MalformedResponse(f"unexpected response document <{root.tag[:40]}>")

    def text(tag: str) -> str | None:
        node = root.find(tag)
        return None if node is None or node.text is None else node.text.strip()

    code = text("responseCode")
    if code is None or not code.isascii() or not code.isdigit() or len(code) > 6:
        raise MalformedResponse("response has no numeric responseCode")
    files = root.find("files")
    file_ids = () if files is None else tuple((f.text or "").strip() for f in files.findall("fileId"))
    return Response(root.tag, int(code), text("responseDescription") or "", text("reportId"),
                    text("fileId"), text("hash"), file_ids)


def response_xml(code: int, description: str, *, report_id: str | None = None,
                 file_id: str | None = None, hash: str | None = None,
                 file_ids: tuple[str, ...] | None = None) -> bytes:
    """A response document (what the local test server answers). ``file_ids`` makes it a
    <reportDoneResponse> (the answer to /finish)."""
    root = ET.Element("reportDoneResponse" if file_ids is not None else "reportResponse")
    ET.SubElement(root, "responseCode").text = str(code)
    if file_ids is None:
        ET.SubElement(root, "responseDescription").text = description
    for tag, value in (("reportId", report_id), ("fileId", file_id), ("hash", hash)):
        if value is not None:
            ET.SubElement(root, tag).text = value
    if file_ids is not None:
        files = ET.SubElement(root, "files")
        for f in file_ids:
            ET.SubElement(files, "fileId").text = f
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
