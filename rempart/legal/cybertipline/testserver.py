"""A local CyberTipline Reporting API for tests and the demo, with failure injection.

It implements the documented sequence under ``/ispws`` (``/status``, ``/submit``, ``/upload``,
``/fileinfo``, ``/finish``, ``/retract``; not ``/xsd``, NCMEC's schema is NCMEC's to publish),
with HTTP basic authentication and the documented response documents and codes: it checks each
document (root, required elements, the schema order of the elements rempart writes) and the
report's state (5001 unknown report, 5002 unknown file, 5101 retracted, 5102 finished).

Failures are injected per endpoint for the next ``times`` calls (``inject``)::

    server_error   HTTP 200, responseCode 1000            (nothing done)
    http_500       HTTP 500, responseCode 1000            (nothing done)
    http_503       HTTP 503, an HTML page                 (nothing done, the client cannot know)
    malformed      HTTP 200, a truncated XML body         (nothing done, the client cannot know)
    auth           HTTP 401, responseCode 2000
    validation     HTTP 200, responseCode 4100
    timeout        no answer for ``stall`` seconds, then the connection closes (nothing done)
    lost_ack       the call is done, then no answer for ``stall`` seconds (the client times out)

Run it on its own: ``python -m rempart.legal.cybertipline.testserver --port 8099``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import socket
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qs
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler

from rempart.legal.cybertipline.protocol import ResponseCode as C, response_xml
from rempart.localserver import LocalServer
from rempart.legal.cybertipline.report import IncidentType

FAILURES = ("server_error", "http_500", "http_503", "malformed", "auth", "validation", "timeout", "lost_ack")
ENDPOINTS = ("status", "submit", "upload", "fileinfo", "finish", "retract")
MAX_BODY = 64 << 20
#: the schema order of the elements rempart writes, checked on every document
ORDER = {
    "report": ["incidentSummary", "internetDetails", "lawEnforcement", "reporter", "personOrUserReported",
               "intendedRecipient", "victim", "additionalInfo"],
    "incidentSummary": ["incidentType", "platform", "escalateToHighPriority", "reportAnnotations",
                        "incidentDateTime", "incidentDateTimeDescription"],
    "reporter": ["reportingPerson", "contactPerson", "companyTemplate", "termsOfService", "legalURL"],
    "personOrUserReported": ["personOrUserReportedPerson", "vehicleDescription", "espIdentifier", "espService",
                             "compromisedAccount", "screenName", "displayName", "profileUrl", "profileBio",
                             "ipCaptureEvent", "deviceId", "thirdPartyUserReported", "priorCTReports",
                             "groupIdentifier", "accountTemporarilyDisabled", "accountPermanentlyDisabled",
                             "estimatedLocation", "allEmailsReported", "associatedAccount", "additionalInfo"],
    "fileDetails": ["reportId", "fileId", "fileName", "originalFileName", "uploadedToEspTimestamp",
                    "locationOfFile", "fileViewedByEsp", "exifViewedByEsp", "publiclyAvailable", "fileRelevance",
                    "fileAnnotations", "industryClassification", "originalFileHash", "ipCaptureEvent",
                    "deviceId", "details", "additionalInfo"],
    "ipCaptureEvent": ["ipAddress", "eventName", "dateTime", "possibleProxy", "port"],
    "reportingPerson": ["firstName", "lastName", "phone", "email", "address", "age", "dateOfBirth"],
}


@dataclass
class ServerFile:
    file_id: str
    name: str
    md5: str
    size: int
    details: bytes | None = None


@dataclass
class ServerReport:
    report_id: str
    xml: bytes
    status: str = "open"  # open | finished | retracted
    files: dict[str, ServerFile] = field(default_factory=dict)


class _Invalid(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def _check_order(node: ET.Element) -> None:
    for parent in node.iter():
        expected = ORDER.get(parent.tag)
        if expected is None:
            continue
        positions = [expected.index(c.tag) if c.tag in expected else -1 for c in parent]
        if -1 in positions:
            raise _Invalid(C.VALIDATION_FAILED, f"unknown element in <{parent.tag}>")
        if positions != sorted(positions):
            raise _Invalid(C.VALIDATION_FAILED, f"elements of <{parent.tag}> out of schema order")


def _document(body: bytes, root_tag: str) -> ET.Element:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise _Invalid(C.MALFORMED_XML, "DOCTYPE refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise _Invalid(C.MALFORMED_XML, "Malformed XML submittal") from None
    if root.tag != root_tag:
        raise _Invalid(C.VALIDATION_FAILED, f"root must be <{root_tag}>")
    _check_order(root)
    return root


class CyberTiplineTestServer(LocalServer):
    path = "/ispws"

    def __init__(self, username: str = "usr123", password: str = "pswd123", *, host: str = "127.0.0.1",
                 port: int = 0, stall: float = 2.0, first_report_id: int = 4564654) -> None:
        self.username, self.password, self.stall = username, password, stall
        self.reports: dict[str, ServerReport] = {}
        self.calls: list[str] = []  # every request's endpoint, in order
        self._failures: dict[str, list[str]] = {}
        self._next_id, self._lock = first_report_id, threading.Lock()
        super().__init__(type("Handler", (_Handler,), {"app": self}), host, port, poll_seconds=0.05)

    def inject(self, endpoint: str, failure: str, times: int = 1) -> None:
        if endpoint not in ENDPOINTS or failure not in FAILURES:
            raise ValueError(f"endpoint in {ENDPOINTS}, failure in {FAILURES}")
        with self._lock:
            self._failures.setdefault(endpoint, []).extend([failure] * times)

    def finished_reports(self) -> list[ServerReport]:
        with self._lock:
            return [r for r in self.reports.values() if r.status == "finished"]

    def _take_failure(self, endpoint: str) -> str | None:
        with self._lock:
            queue = self._failures.get(endpoint)
            return queue.pop(0) if queue else None

    def authorised(self, header: str | None) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header is not None and hmac.compare_digest(header.encode(), expected.encode())

    # --- the protocol (called with the lock held) ---

    def _report(self, report_id: str | None, *, open_only: bool = True) -> ServerReport:
        report = self.reports.get(report_id or "")
        if report is None:
            raise _Invalid(C.REPORT_DOES_NOT_EXIST, "Report does not exist")
        if open_only and report.status != "open":
            raise _Invalid(C.REPORT_ALREADY_FINISHED if report.status == "finished" else C.REPORT_ALREADY_RETRACTED,
                           f"Report already {report.status}")
        return report

    def handle(self, endpoint: str, form: dict[str, bytes], files: dict[str, tuple[str, bytes]], body: bytes) -> bytes:
        if endpoint == "status":
            return response_xml(0, f"Remote User : {self.username}")
        if endpoint == "submit":
            root = _document(body, "report")
            incident = root.findtext("incidentSummary/incidentType")
            if incident not in {t.value for t in IncidentType} or not root.findtext("incidentSummary/incidentDateTime"):
                raise _Invalid(C.VALIDATION_FAILED, "incidentType and incidentDateTime are required")
            if not root.findtext("reporter/reportingPerson/email"):
                raise _Invalid(C.VALIDATION_FAILED, "reporter email is required")
            report_id = str(self._next_id)
            self._next_id += 1
            self.reports[report_id] = ServerReport(report_id, body)
            return response_xml(0, "Success", report_id=report_id)
        if endpoint == "upload":
            report = self._report(form.get("id", b"").decode(errors="replace"))
            if "file" not in files:
                raise _Invalid(C.MALFORMED_FILE, "Malformed file submittal")
            name, data = files["file"]
            file_id = hashlib.md5(f"{report.report_id}/{len(report.files)}".encode()).hexdigest()
            report.files[file_id] = ServerFile(file_id, name, hashlib.md5(data).hexdigest(), len(data))
            return response_xml(0, "Success", report_id=report.report_id, file_id=file_id,
                                hash=report.files[file_id].md5)
        if endpoint == "fileinfo":
            root = _document(body, "fileDetails")
            report = self._report(root.findtext("reportId"))
            f = report.files.get(root.findtext("fileId") or "")
            if f is None:
                raise _Invalid(C.FILE_DOES_NOT_EXIST, "File does not exist")
            f.details = body
            return response_xml(0, "Success", report_id=report.report_id)
        report = self._report(form.get("id", b"").decode(errors="replace"))
        report.status = "finished" if endpoint == "finish" else "retracted"
        if endpoint == "finish":
            return response_xml(0, "", report_id=report.report_id, file_ids=tuple(report.files))
        return response_xml(0, "Success", report_id=report.report_id)


class _Handler(BaseHTTPRequestHandler):
    app: CyberTiplineTestServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet in tests
        pass

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        app = self.app
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self._send(413, b"too large", "text/plain")
        body = self.rfile.read(length)
        endpoint = self.path.removeprefix("/ispws/").split("?")[0]
        if endpoint not in ENDPOINTS or (endpoint == "status") != (self.command == "GET"):
            return self._send(404, b"not found", "text/plain")
        with app._lock:
            app.calls.append(endpoint)
        if not app.authorised(self.headers.get("Authorization")):
            return self._send(401, response_xml(C.AUTHENTICATION_REQUIRED, "Authentication required"))
        failure = app._take_failure(endpoint)
        if failure == "timeout":
            time.sleep(app.stall)
            self.close_connection = True
            return
        if failure in ("server_error", "http_500", "http_503", "malformed", "auth", "validation"):
            return self._send(*{
                "server_error": (200, response_xml(C.SERVER_ERROR, "Server error")),
                "http_500": (500, response_xml(C.SERVER_ERROR, "Server error")),
                "http_503": (503, b"<html><body>503 Service Unavailable</body></html>"),
                "malformed": (200, b"<reportResponse><responseCode>0</respo"),
                "auth": (401, response_xml(C.AUTHENTICATION_REQUIRED, "Authentication required")),
                "validation": (200, response_xml(C.VALIDATION_FAILED, "Validation failed")),
            }[failure])
        form, files = self._form(body)
        with app._lock:
            try:
                answer = app.handle(endpoint, form, files, body)
            except _Invalid as exc:
                answer = response_xml(exc.code, exc.description)
        if failure == "lost_ack":
            time.sleep(app.stall)
            self.close_connection = True
            return
        self._send(200, answer)

    def _form(self, body: bytes) -> tuple[dict[str, bytes], dict[str, tuple[str, bytes]]]:
        ctype = self.headers.get("Content-Type", "")
        form, files = {}, {}
        if ctype.startswith("application/x-www-form-urlencoded"):
            form = {k: v[0].encode() for k, v in parse_qs(body.decode(errors="replace")).items()}
        elif ctype.startswith("multipart/form-data"):
            msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None:
                    files[name] = (filename, data)
                elif name:
                    form[name] = data
        return form, files


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="A local CyberTipline Reporting API (tests and demo).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8099)
    p.add_argument("--username", default="usr123")
    p.add_argument("--password", default="pswd123")
    args = p.parse_args(argv)
    server = CyberTiplineTestServer(args.username, args.password, host=args.host, port=args.port)
    print(f"CyberTipline test server on {server.url} (user {args.username})", flush=True)
    server.serve_until_interrupted()


if __name__ == "__main__":
    main()
