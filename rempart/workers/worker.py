"""``rempart worker``: takes upload events from the stream, scans them, acknowledges them.

``concurrency`` events are worked on at once (threads: decoding and PDQ release the GIL). An
event is acknowledged only after its transaction committed; a worker killed before that leaves
it unacknowledged, and the stream delivers it again to a live worker after ``ack_wait``: its
effects are idempotent (``rempart.workers.service.process``). An event that cannot be decoded is
acknowledged (it can never succeed) and logged; an event whose scan hit a temporary limit (the
decode budget) or a database error is handed back (``nak``) to be tried again.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rempart.errors import Overloaded
from rempart.observe import metrics
from rempart.scanning.service import answer_json
from rempart.workers.bus import Bus, Delivery
from rempart.workers.service import fail, process

log = logging.getLogger("rempart.workers")


class Worker:
    def __init__(self, rt, bus: Bus, *, concurrency: int = 1) -> None:
        self.rt, self.bus, self.concurrency = rt, bus, max(1, concurrency)
        self._stop = threading.Event()
        self._slots = threading.Semaphore(self.concurrency)
        self.processed = 0

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        self.bus.consumer()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="rempart-worker") as pool:
            while not self._stop.is_set():
                free = 0
                while free < self.concurrency and self._slots.acquire(timeout=0 if free else 0.5):
                    free += 1
                if not free:
                    continue
                try:
                    deliveries = self.bus.fetch(free, timeout=1.0)
                except Exception:
                    log.exception("fetching events failed")
                    deliveries = []
                    time.sleep(0.5)
                for _ in range(free - len(deliveries)):
                    self._slots.release()
                for delivery in deliveries:
                    pool.submit(self._handle, delivery)

    def _handle(self, delivery: Delivery) -> None:
        try:
            self.handle(delivery)
        finally:
            self._slots.release()

    def handle(self, delivery: Delivery) -> None:
        if delivery.delivered > 1:
            metrics.REDELIVERED.inc()
        if delivery.event is None:
            log.error("dropping an event that cannot be read: %s", delivery.error)
            self.bus.ack(delivery)
            return
        event = delivery.event
        metrics.STAGE.labels("queue").observe(max(0.0, time.time() - event.at))
        if delivery.error is not None:
            log.error("scan %s cannot be done: %s", event.scan_id, delivery.error,
                      extra={"request_id": event.request_id, "scan_id": event.scan_id})
            fail(self.rt, event, {"type": "media-lost", "title": delivery.error, "status": 503})
            self.bus.ack(delivery)
            return
        try:
            done = process(self.rt, event, delivery.media, answer=answer_json)
        except Overloaded:
            self.bus.nak(delivery, delay=1.0)
            return
        except Exception:
            log.exception("scan %s failed; it will be delivered again", event.scan_id,
                          extra={"request_id": event.request_id, "scan_id": event.scan_id})
            self.bus.nak(delivery, delay=2.0)
            return
        self.bus.ack(delivery)
        self.processed += 1
        log.info("scan %s %s", event.scan_id, done.status,
                 extra={"request_id": event.request_id, "scan_id": event.scan_id,
                        "verdict": done.verdict, "delivered": delivery.delivered})
