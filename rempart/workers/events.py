"""An upload event on the stream: what an API node hands to a scan worker.

Wire format (one NATS message per upload): the payload is the media's bytes (empty when the
media is in the object store, or for precomputed signals); the header ``Rempart-Event`` holds
the event as compact JSON, at most ``MAX_EVENT_BYTES``::

    {"v":1,"scan_id":"0b5e...32 hex","mode":"async","source":"upload",
     "context":{"account":"a1","space":null,"message":"m9","uploaded_at":"2024-05-01T12:00:00"},
     "signals":[["sha256","9f86..."]],"object":null,"request_id":"c0ffee...","at":1714564800.25}

- ``scan_id``: 32 lowercase hex characters, chosen by the API node; it is the event's identity:
  the stream's de-duplication id (``Nats-Msg-Id``), the ledger's idempotency key and the id the
  platform polls (``GET /v1/scans/{scan_id}``).
- ``mode``: ``sync`` (an API node waits for the answer) or ``async`` (the verdict goes to the
  platform's webhook); ``source``: ``upload`` (media) or ``signals`` (precomputed signals).
- ``object``: the object-store name of media too large to travel inline, or null.
- ``at``: when the API node accepted it (seconds since the epoch), for the queue-wait metric.

``decode_event`` rejects anything else (unknown version or keys, wrong types, a malformed id).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field

from rempart.errors import InvalidInput

VERSION = 1
MAX_EVENT_BYTES = 64 * 1024
HEADER = "Rempart-Event"
MODES = ("sync", "async")
SOURCES = ("upload", "signals")
CONTEXT_KEYS = ("account", "space", "message", "uploaded_at")
_SCAN_ID = re.compile(r"[0-9a-f]{32}")


def new_scan_id() -> str:
    return uuid.uuid4().hex


def is_scan_id(value: object) -> bool:
    return isinstance(value, str) and _SCAN_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class ScanEvent:
    scan_id: str
    mode: str
    source: str
    context: dict[str, str | None] = field(default_factory=dict)
    signals: tuple[tuple[str, str], ...] = ()
    object: str | None = None
    request_id: str | None = None
    at: float = 0.0

    def __post_init__(self) -> None:
        if not is_scan_id(self.scan_id):
            raise InvalidInput("scan_id must be 32 lowercase hex characters")
        if self.mode not in MODES or self.source not in SOURCES:
            raise InvalidInput("mode must be sync or async, source upload or signals")


def encode_event(event: ScanEvent) -> str:
    doc = {"v": VERSION, "scan_id": event.scan_id, "mode": event.mode, "source": event.source,
           "context": {k: event.context.get(k) for k in CONTEXT_KEYS},
           "signals": [list(s) for s in event.signals], "object": event.object,
           "request_id": event.request_id, "at": event.at}
    text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
    if len(text.encode()) > MAX_EVENT_BYTES:
        raise InvalidInput(f"a scan event is at most {MAX_EVENT_BYTES} bytes")
    return text


def decode_event(text: str | bytes) -> ScanEvent:
    if len(text) > MAX_EVENT_BYTES:
        raise InvalidInput(f"a scan event is at most {MAX_EVENT_BYTES} bytes")
    try:
        doc = json.loads(text)
    except ValueError:
        raise InvalidInput("a scan event is JSON") from None
    keys = {"v", "scan_id", "mode", "source", "context", "signals", "object", "request_id", "at"}
    if not isinstance(doc, dict) or set(doc) != keys or doc["v"] != VERSION:
        raise InvalidInput(f"a scan event is version {VERSION} with exactly the keys {sorted(keys)}")
    context = doc["context"]
    if not isinstance(context, dict) or set(context) != set(CONTEXT_KEYS) or not all(
            v is None or isinstance(v, str) for v in context.values()):
        raise InvalidInput("a scan event's context has account, space, message, uploaded_at")
    signals = doc["signals"]
    if not isinstance(signals, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(x, str) for x in s)
            for s in signals):
        raise InvalidInput("a scan event's signals are [type, value] pairs")
    for key in ("object", "request_id"):
        if doc[key] is not None and not isinstance(doc[key], str):
            raise InvalidInput(f"a scan event's {key} is a string or null")
    if not isinstance(doc["at"], (int, float)) or isinstance(doc["at"], bool):
        raise InvalidInput("a scan event's at is a number")
    return ScanEvent(doc["scan_id"], doc["mode"], doc["source"], context,
                     tuple((t, v) for t, v in signals), doc["object"], doc["request_id"],
                     float(doc["at"]))


def context_fields(context) -> dict[str, str | None]:
    """A ``ScanContext``'s fields as an event carries them (``uploaded_at`` in ISO 8601)."""
    at = context.uploaded_at
    return {"account": context.account, "space": context.space, "message": context.message,
            "uploaded_at": at.isoformat() if at is not None else None}


def parse_uploaded_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("uploaded_at is an ISO 8601 time") from None
