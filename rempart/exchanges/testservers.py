"""Local NCMEC, ThreatExchange and StopNCII servers for tests, the demo and the benchmark.

Each is a real HTTP server on 127.0.0.1 speaking the documented protocol (the shapes are drawn
in ``rempart.exchanges.protocols.*``), with its authentication, paging and feedback endpoints,
over an append-only log of record versions stamped with the server's clock in whole seconds. A
window [from, to) (NCMEC, ThreatExchange) or a page token (StopNCII) reads a stable snapshot,
as the services promise: a record changed while a client pages moves to a later window.

Failures are injected for the next ``times`` page requests (``inject``)::

    429        Too Many Requests with Retry-After: ``retry_after`` seconds
    500        an internal server error
    truncate   Content-Length of the whole page, half of it sent, connection closed
    garbage    200 with the page cut in half (no Content-Length): not a complete document
    stall      the page after ``stall`` seconds

Malformed records are put with ``put_raw`` (a record the protocol cannot bank); the page
around them stays good. Run one on its own: ``python -m rempart.exchanges.testservers ncmec``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from rempart.banks.ncmec_xml import NAMESPACE
from rempart.exchanges.protocols.ncmec import TIME_FORMAT, iso
from rempart.localserver import LocalServer

FAILURES = ("429", "500", "truncate", "garbage", "stall")
CREDENTIALS = {"ncmec": "tester:s3cret", "threatexchange": "1234|app-secret",
               "stopncii": "subscription:function"}
_TE_TYPES = {"pdq": "HASH_PDQ", "md5": "HASH_MD5", "sha1": "HASH_SHA1", "sha256": "HASH_SHA256"}


@dataclass(slots=True)
class Version:
    ts: int
    upstream_id: str
    deleted: bool
    hashes: tuple[tuple[str, str], ...] = ()
    labels: tuple[str, ...] = ()
    member: str = "42"
    raw: object = None  # a malformed record, served as is


@dataclass
class _Injected:
    failure: str
    times: int


@dataclass
class Received:
    path: str
    body: bytes
    headers: dict = field(default_factory=dict)


class UpstreamServer(LocalServer):
    """One exchange's server (``kind``: ncmec, threatexchange or stopncii)."""

    def __init__(self, kind: str, *, page_size: int = 50, privacy_group: str = "1001",
                 retry_after: float = 1, stall: float = 2.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.kind, self.page_size, self.privacy_group = kind, page_size, privacy_group
        self.retry_after, self.stall = retry_after, stall
        self.credential = CREDENTIALS[kind]
        self.log: list[Version] = []
        self.feedback: list[Received] = []
        self.requests = 0
        self.delay = 0.0  # seconds before every page (the crash test uses it)
        self._faults: list[_Injected] = []
        self._window_key: tuple | None = None
        self._window: list[Version] = []
        self._lock = threading.Lock()
        super().__init__(_Handler, host, port)
        self._server.upstream = self  # type: ignore[attr-defined]

    # -- control ---------------------------------------------------------------------------------

    def inject(self, failure: str, times: int = 1) -> None:
        if failure not in FAILURES:
            raise ValueError(f"unknown failure {failure}")
        with self._lock:
            self._faults.append(_Injected(failure, times))

    def put(self, upstream_id: str, hashes, labels=(), member: str = "42") -> None:
        self._append(Version(int(time.time()), upstream_id, False, tuple(hashes), tuple(labels), member))

    def put_many(self, records) -> None:
        """Put (upstream id, hashes, labels) records at once (a benchmark's million)."""
        now = int(time.time())
        with self._lock:
            self.log.extend(Version(now, uid, False, tuple(h), tuple(lb)) for uid, h, lb in records)

    def withdraw(self, upstream_id: str) -> None:
        self._append(Version(int(time.time()), upstream_id, True))

    def put_raw(self, upstream_id: str, raw: object) -> None:
        self._append(Version(int(time.time()), upstream_id, False, raw=raw))

    def settle(self) -> None:
        """Wait until the clock has left the second of the last change (a window ending now
        then includes it)."""
        last = max((v.ts for v in self.log), default=0)
        while int(time.time()) <= last:
            time.sleep(0.05)

    def live(self) -> dict[str, Version]:
        latest: dict[str, Version] = {}
        for v in self.log:
            latest[v.upstream_id] = v
        return {k: v for k, v in latest.items() if not v.deleted and v.raw is None}

    def _append(self, v: Version) -> None:
        with self._lock:
            self.log.append(v)

    def take_fault(self) -> str | None:
        with self._lock:
            if not self._faults:
                return None
            f = self._faults[0]
            f.times -= 1
            if f.times <= 0:
                self._faults.pop(0)
            return f.failure

    def window(self, start: int, stop: int) -> list[Version]:
        """The latest version of each record changed in [start, stop), in (time, id) order
        (kept while the log does not grow: a client paging a big window reads it once)."""
        with self._lock:
            key = (start, stop, len(self.log))
            if self._window_key != key:
                latest: dict[str, Version] = {}
                for v in self.log:
                    if start <= v.ts < stop:
                        latest[v.upstream_id] = v
                self._window = sorted(latest.values(), key=lambda v: (v.ts, v.upstream_id))
                self._window_key = key
            return self._window

    # -- pages -----------------------------------------------------------------------------------

    def authorised(self, headers, query: dict) -> bool:
        if self.kind == "ncmec":
            got = headers.get("Authorization", "")
            return got == "Basic " + base64.b64encode(self.credential.encode()).decode()
        if self.kind == "threatexchange":
            return query.get("access_token") == self.credential
        sub, _, fn = self.credential.partition(":")
        return headers.get("Ocp-Apim-Subscription-Key") == sub and headers.get("x-functions-key") == fn

    def page(self, path: str, query: dict) -> tuple[int, bytes, str]:
        if self.kind == "ncmec" and path == "/v2/entries":
            return self._ncmec(query)
        if self.kind == "ncmec" and path.startswith("/v2/feedback/") and path.endswith("/reasons"):
            return 200, (f'<?xml version="1.0" encoding="UTF-8"?><feedbackReasons xmlns="{NAMESPACE}">'
                         '<availableFeedbackReasons><reason guid="0c5e1d4e-0000-4000-8000-000000000001" '
                         'name="Not CSAM"/></availableFeedbackReasons></feedbackReasons>').encode(), "application/xml"
        if self.kind == "threatexchange" and path == f"/{self.privacy_group}/threat_updates/":
            return self._te(query)
        if self.kind == "stopncii" and path == "/v1/FetchHashes":
            return self._stopncii(query)
        return 404, b"not found", "text/plain"

    def _ncmec(self, q: dict) -> tuple[int, bytes, str]:
        def ts(text: str) -> int:
            return int(dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.timezone.utc).timestamp())

        start, stop = ts(q["from"]), ts(q["to"])
        versions = self.window(start, stop)
        first = int(q.get("start", 0))
        size = int(q.get("size", self.page_size))
        chunk = versions[first:first + size]
        parts = {"image": [], "video": []}
        for v in chunk:
            parts["image"].append(_ncmec_record(v))
        body = [f'<?xml version="1.0" encoding="UTF-8"?>\n<queryResult xmlns="{NAMESPACE}">']
        if chunk:
            body.append(f'<images count="{len(chunk)}" maxTimestamp="{iso(max(v.ts for v in chunk))}">')
            body += parts["image"]
            body.append("</images>")
        if first + size < len(versions):
            nxt = (f"/v2/entries?from={q['from']}&amp;to={q['to']}&amp;start={first + size}"
                   f"&amp;size={size}&amp;max={len(versions) - 1}")
            body.append(f"<paging><next>{nxt}</next></paging>")
        body.append("</queryResult>\n")
        return 200, "\n".join(body).encode(), "application/xml"

    def _te(self, q: dict) -> tuple[int, bytes, str]:
        versions = self.window(int(q["start_time"]), int(q["stop_time"]))
        first = int(base64.b64decode(q["after"]).decode()) if q.get("after") else 0
        size = int(q.get("limit", self.page_size))
        chunk = versions[first:first + size]
        data = []
        for v in chunk:
            if v.raw is not None:
                data.append(v.raw)
            elif v.deleted:
                data.append({"id": v.upstream_id, "should_delete": True, "last_updated": v.ts})
            else:
                stype, value = v.hashes[0]
                data.append({"id": v.upstream_id, "indicator": value, "type": _TE_TYPES.get(stype, stype),
                             "last_updated": v.ts, "should_delete": False,
                             "descriptors": {"data": [{"id": f"9{v.upstream_id}", "tags": list(v.labels),
                                                       "status": "MALICIOUS"}]}})
        doc: dict = {"data": data, "paging": {}}
        if first + size < len(versions):
            after = base64.b64encode(str(first + size).encode()).decode()
            doc["paging"] = {"cursors": {"after": after}, "next": f"{self.url}/...&after={after}"}
        return 200, json.dumps(doc).encode(), "application/json"

    def _stopncii(self, q: dict) -> tuple[int, bytes, str]:
        start = int(q.get("startTimestamp", 0))
        if q.get("nextPageToken"):
            state = json.loads(base64.b64decode(q["nextPageToken"]))
            cutoff, first = state["cutoff"], state["offset"]
        else:
            cutoff, first = int(time.time()), 0
        versions = self.window(start, cutoff)
        size = int(q.get("pageSize", self.page_size))
        chunk = versions[first:first + size]
        records = []
        for v in chunk:
            if v.raw is not None:
                records.append(v.raw)
                continue
            stype, value = v.hashes[0] if v.hashes else ("pdq", v.upstream_id.partition(":")[2])
            records.append({"lastModtimestamp": v.ts, "signalType": "ImagePDQ" if stype == "pdq" else "VideoMD5",
                            "hashValue": value, "hashStatus": "Withdrawn" if v.deleted else "Active",
                            "caseNumbers": {}, "CSPFeedbacks": []})
        more = first + size < len(versions)
        doc = {"count": len(records), "hasMoreRecords": more, "nextSetTimestamp": cutoff,
               "nextPageToken": base64.b64encode(json.dumps({"cutoff": cutoff, "offset": first + size})
                                                 .encode()).decode() if more else "",
               "hashRecords": records}
        return 200, json.dumps(doc).encode(), "application/json"


def _ncmec_record(v: Version) -> str:
    if v.raw is not None:
        return str(v.raw)
    if v.deleted:
        return f"<deletedImage><id>{escape(v.upstream_id)}</id></deletedImage>"
    fps = "".join(f"<{t}>{escape(h)}</{t}>" for t, h in v.hashes)
    classification = next((lb.partition(":")[2] for lb in v.labels if lb.startswith("classification:")), "A1")
    return (f'<image><member id="{escape(v.member)}">Example Member</member>'
            f"<timestamp>{iso(v.ts)}</timestamp><id>{escape(v.upstream_id)}</id>"
            f"<classification>{escape(classification)}</classification>"
            f"<fingerprints>{fps}</fingerprints></image>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet in tests
        pass

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without this, a kept-alive connection waits
        # for the client's delayed ACK (40 ms) between them
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def upstream(self) -> UpstreamServer:
        return self.server.upstream  # type: ignore[attr-defined]

    def _send(self, status: int, body: bytes, content_type: str = "text/plain", extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        up = self.upstream
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not up.authorised(self.headers, query):
            self._send(401, b"unauthorised")
            return
        up.requests += 1
        if up.delay:
            time.sleep(up.delay)
        fault = up.take_fault()
        if fault == "429":
            self._send(429, b"slow down", extra={"Retry-After": str(up.retry_after)})
            return
        if fault == "500":
            self._send(500, b"internal error")
            return
        if fault == "stall":
            time.sleep(up.stall)
        try:
            status, body, ctype = up.page(parts.path, query)
        except (KeyError, ValueError):
            self._send(400, b"bad request")
            return
        if fault == "truncate":
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "garbage":
            self._send(status, body[: len(body) // 2], ctype)
            return
        self._send(status, body, ctype)

    def _feedback(self) -> None:
        up = self.upstream
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not up.authorised(self.headers, query):
            self._send(401, b"unauthorised")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        up.feedback.append(Received(parts.path, body, dict(self.headers)))
        if up.kind == "ncmec":
            self._send(200, b"<feedbackResult/>", "application/xml")
        else:
            self._send(200, b'{"success": true}', "application/json")

    do_POST = _feedback
    do_PUT = _feedback


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a local exchange test server")
    parser.add_argument("kind", choices=sorted(CREDENTIALS))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = UpstreamServer(args.kind, port=args.port)
    print(f"{args.kind} test server on {server.url} (credential {server.credential})", flush=True)
    server.serve_until_interrupted()


if __name__ == "__main__":
    main()
