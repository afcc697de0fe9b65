"""Where an API node sends a scan: the stream (scale-out mode) or its own threads (embedded).

``StreamScans`` (``REMPART_NATS_URL`` set): every scan, synchronous or not, is a queued request
row plus an event on the stream; a synchronous caller waits for the worker's done notice and
reads the answer from the database. Back-pressure: past ``max_pending`` events waiting or in
progress, a new scan is refused (``Overloaded``: 503 with ``Retry-After``), and so is one the
stream itself refuses as full.

``LocalScans`` (the embedded default): synchronous scans stay in the request, as always; an
asynchronous one is a queued request row and its media spooled under ``$REMPART_HOME/spool``
(so an acknowledged upload survives a restart: ``recover`` takes up what was left), scanned by
this process's own threads through the same ``process`` as a worker.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rempart.errors import Overloaded, RempartError
from rempart.scanning.service import answer_json
from rempart.workers.bus import RETRY_AFTER, Bus
from rempart.workers.events import ScanEvent, encode_event, decode_event, new_scan_id
from rempart.workers.service import (
    ScanFailed, fail, get_request, problem_of, process, queued_ids, submit_request,
)

log = logging.getLogger("rempart.workers")


def _event(mode: str, source: str, context: dict, signals, request_id: str | None) -> ScanEvent:
    return ScanEvent(new_scan_id(), mode, source, dict(context),
                     tuple((t, v) for t, v in signals), None, request_id, time.time())


class StreamScans:
    def __init__(self, rt, bus: Bus, *, max_pending: int, sync_timeout: float) -> None:
        self.rt, self.bus = rt, bus
        self.max_pending, self.sync_timeout = max_pending, sync_timeout

    def _check_backlog(self) -> None:
        if self.bus.backlog() >= self.max_pending:
            raise Overloaded("the scan workers are behind: retry later", retry_after=RETRY_AFTER)

    def _publish(self, event: ScanEvent, media: bytes) -> None:
        with self.rt.db.session() as s:
            submit_request(s, event)
        try:
            self.bus.publish_scan(event, media)
        except RempartError as exc:  # not on the stream: the request will never be done
            fail(self.rt, event, problem_of(exc))
            raise

    def submit(self, source: str, context: dict, *, media: bytes = b"", signals=(),
               request_id: str | None = None) -> str:
        """Queue an asynchronous scan; returns its scan id."""
        self._check_backlog()
        event = _event("async", source, context, signals, request_id)
        self._publish(event, media)
        return event.scan_id

    def scan(self, source: str, context: dict, *, media: bytes = b"", signals=(),
             request_id: str | None = None) -> dict:
        """A synchronous scan through the stream: the answer, or the scan's problem raised."""
        self._check_backlog()
        event = _event("sync", source, context, signals, request_id)
        wait = self.bus.wait_done(event.scan_id, self.sync_timeout)
        self._publish(event, media)
        wait()
        with self.rt.db.session() as s:
            request = get_request(s, event.scan_id)
            status, result = request.status, request.result
        if status == "done":
            return result
        if status == "failed":
            raise ScanFailed(result)
        raise Overloaded(f"scan {event.scan_id} is still queued: it will complete; its "
                         f"answer is at GET /v1/scans/{event.scan_id}", retry_after=RETRY_AFTER)


class LocalScans:
    def __init__(self, rt, *, threads: int = 2) -> None:
        self.rt = rt
        self.spool = Path(rt.settings.home) / "spool"
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="rempart-async-scan")

    def submit(self, source: str, context: dict, *, media: bytes = b"", signals=(),
               request_id: str | None = None) -> str:
        event = _event("async", source, context, signals, request_id)
        self.spool.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.spool, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            header = encode_event(event).encode()
            f.write(len(header).to_bytes(4, "big") + header + media)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.spool / event.scan_id)
        with self.rt.db.session() as s:
            submit_request(s, event)
        self.pool.submit(self._run, event.scan_id)
        return event.scan_id

    def _run(self, scan_id: str) -> None:
        path = self.spool / scan_id
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        size = int.from_bytes(raw[:4], "big")
        event = decode_event(raw[4:4 + size])
        try:
            process(self.rt, event, raw[4 + size:], answer=answer_json)
        except Overloaded:
            time.sleep(1.0)
            self.pool.submit(self._run, scan_id)
            return
        except Exception:
            log.exception("asynchronous scan %s failed; it stays queued until a restart", scan_id)
            return
        path.unlink(missing_ok=True)

    def recover(self) -> int:
        """Queue again the spooled scans left by a previous run."""
        with self.rt.db.session() as s:
            ids = [i for i in queued_ids(s) if (self.spool / i).exists()]
        for scan_id in ids:
            self.pool.submit(self._run, scan_id)
        return len(ids)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)
