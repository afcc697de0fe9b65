"""A job run every ``interval`` seconds in a daemon thread: the in-process workers of
``rempart serve`` (the moderation outbox, the log's witnesses) are each one of these."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Periodic:
    """Runs ``job()`` now and then every ``interval`` seconds until ``stop``; a failed round is
    logged (as ``failure`` on ``logger``) and the next one runs as planned."""

    def __init__(self, name: str, interval: float, job: Callable[[], None], logger: str,
                 failure: str) -> None:
        self.name, self.interval, self.job = name, interval, job
        self._log, self._failure = logging.getLogger(logger), failure
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.job()
            except Exception:  # keep going; the details go to the log
                self._log.exception(self._failure)
            self._stop.wait(self.interval)
