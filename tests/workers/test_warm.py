"""A worker compiles the scan path's kernels before it takes its first event."""

from __future__ import annotations

import threading

from rempart.scanning import warm as warm_module
from rempart.workers.worker import Worker


class _FirstFetchStops:
    """The bus surface Worker.run uses; records whether the kernels were warm when the worker
    first asked for events, then stops it."""

    def __init__(self) -> None:
        self.warm_at_consumer = self.warm_at_fetch = None
        self.worker = None

    def consumer(self):
        self.warm_at_consumer = warm_module.is_warm()

    def fetch(self, n, timeout):
        self.warm_at_fetch = warm_module.is_warm()
        self.worker.stop()
        return []


def test_a_worker_is_warm_before_its_first_event(monkeypatch):
    monkeypatch.setattr(warm_module, "_DONE", threading.Event())  # this process: not warm yet
    bus = _FirstFetchStops()
    bus.worker = Worker(rt=None, bus=bus)
    bus.worker.run()
    assert bus.warm_at_consumer is True and bus.warm_at_fetch is True
