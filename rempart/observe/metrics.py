"""What every node exposes at ``GET /metrics`` (Prometheus text format, ``prometheus-client``).

Labels are closed vocabularies only (a stage, a verdict, a mode, a queue's configured name, a
witness's name): never a user id, a hash, a bank entry or a message. Counters and histograms
are updated where the work happens; gauges that read the database or the stream are computed at
scrape time by ``StateCollector`` from the probes a node registers (at most every
``PROBE_SECONDS``, so that a scraper cannot turn into a database load; the index's gauges are
read afresh at every scrape).

    rempart_scans_total{mode,source}            scans recorded (mode: inline | sync | async)
    rempart_verdicts_total{verdict}             their verdicts
    rempart_scan_failures_total{reason}         scans refused (reason: the problem type)
    rempart_stage_seconds{stage}                decode, hash, match, write, queue (histograms)
    rempart_events_redelivered_total            stream events delivered more than once
    rempart_events_duplicate_total              redelivered events that were already done
    rempart_index_entries                       entries in this node's in-memory index
    rempart_index_seq                           the last bank change applied
    rempart_index_change_age_seconds            since this node's index last applied a change
    rempart_index_lag_changes                   bank changes committed but not yet applied here
    rempart_stream_lag / rempart_stream_in_progress   events waiting for / held by a worker
    rempart_scan_requests{status}               scan requests by status (queued is the backlog)
    rempart_outbox_backlog{status}              webhooks pending or failed
    rempart_queue_backlog{queue}                open cases per moderation queue
    rempart_sla_breaches{queue}                 open cases past their queue's service level
    rempart_witness_cosignatures_missing        active witnesses without a cosignature of the
                                                latest checkpoint
    rempart_witness_failures{witness}           consecutive failed requests to a witness
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

PROBE_SECONDS = 2.0
STAGES = ("decode", "hash", "match", "write", "queue")
#: 1 ms .. 60 s
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST

#: one registry per process (``rempart serve`` and ``rempart worker`` each expose theirs)
REGISTRY = CollectorRegistry(auto_describe=True)
SCANS = Counter("rempart_scans", "Scans recorded", ["mode", "source"], registry=REGISTRY)
VERDICTS = Counter("rempart_verdicts", "Verdicts of recorded scans", ["verdict"], registry=REGISTRY)
FAILURES = Counter("rempart_scan_failures", "Scans refused", ["reason"], registry=REGISTRY)
STAGE = Histogram("rempart_stage_seconds", "Time per scan stage", ["stage"], buckets=BUCKETS,
                  registry=REGISTRY)
REDELIVERED = Counter("rempart_events_redelivered", "Stream events delivered more than once",
                      registry=REGISTRY)
DUPLICATES = Counter("rempart_events_duplicate", "Events that were already done when delivered",
                     registry=REGISTRY)

#: a probe yields (name, help, labels, samples) where samples is [(label values, value)]
Probe = Callable[[], Iterable[tuple[str, str, tuple[str, ...], list[tuple[tuple[str, ...], float]]]]]


def observe_stages(timings: dict[str, float]) -> None:
    for stage, seconds in timings.items():
        if stage in STAGES:
            STAGE.labels(stage).observe(seconds)


def count_scan(mode: str, source: str, verdict: str) -> None:
    SCANS.labels(mode, source).inc()
    VERDICTS.labels(verdict).inc()


@contextmanager
def timed(timings: dict[str, float], stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


class StateCollector:
    """Gauges read from the node's state at scrape time, each probe's answer kept for
    ``PROBE_SECONDS``; a probe that fails is left out of that scrape (its error is not shown)."""

    def __init__(self) -> None:
        self._probes: dict[str, Probe] = {}
        self._cache: dict[str, tuple[float, list]] = {}
        self._ttl: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, probe: Probe, ttl: float = PROBE_SECONDS) -> None:
        """Register ``probe`` under ``name`` (replacing one of that name); its answer is kept
        for ``ttl`` seconds."""
        self._probes[name] = probe
        self._ttl[name] = ttl

    def describe(self):
        return []

    def collect(self):
        now = time.monotonic()
        with self._lock:
            for name, probe in list(self._probes.items()):
                at, families = self._cache.get(name, (0.0, []))
                if now - at >= self._ttl.get(name, PROBE_SECONDS):
                    try:
                        families = list(probe())
                    except Exception:  # a scrape never fails because one source is down
                        families = []
                    self._cache[name] = (now, families)
                for metric, help_, labels, samples in families:
                    family = GaugeMetricFamily(metric, help_, labels=list(labels))
                    for values, value in samples:
                        family.add_metric(list(values), value)
                    yield family


STATE = StateCollector()
REGISTRY.register(STATE)


def exposition() -> bytes:
    return generate_latest(REGISTRY)


def serve_metrics(host: str, port: int) -> int:
    """Serve ``/metrics`` on its own port (``rempart worker``, which has no HTTP API); returns
    the port (a free one when ``port`` is 0)."""
    server, _thread = start_http_server(port, host, registry=REGISTRY)
    return server.server_address[1]
