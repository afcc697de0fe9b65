"""Structured logs: one JSON object per line, with the request id of the work it belongs to.

``request_id`` is a context variable set by the API's request middleware (and by a worker for
the event it scans, from the event); every record logged meanwhile carries it. ``configure``
installs the JSON formatter on the root logger (``rempart serve`` and ``rempart worker``).
Fields: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, ``request_id`` when known, the
record's ``extra`` fields that are plain values, and ``exc`` (the traceback) on errors.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("rempart_request_id",
                                                                        default=None)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
               .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
               "level": record.levelname.lower(), "logger": record.name,
               "msg": record.getMessage()}
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            doc["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in doc and isinstance(value, (str, int, float, bool)):
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, separators=(",", ":"), default=str)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
