"""The upload event's wire format: what encode writes, decode reads back, and nothing else."""

from __future__ import annotations

import json

import pytest

from rempart.errors import InvalidInput
from rempart.workers.events import (
    MAX_EVENT_BYTES, ScanEvent, decode_event, encode_event, new_scan_id,
)

CONTEXT = {"account": "a1", "space": None, "message": "m9", "uploaded_at": "2024-05-01T12:00:00"}


def test_an_event_round_trips():
    event = ScanEvent(new_scan_id(), "async", "signals", CONTEXT, (("sha256", "ab" * 32),),
                      None, "rid", 1714564800.25)
    assert decode_event(encode_event(event)) == event
    assert decode_event(encode_event(event).encode()) == event


@pytest.mark.parametrize("change", [
    {"v": 2}, {"scan_id": "X" * 32}, {"scan_id": "ab"}, {"mode": "later"}, {"source": "url"},
    {"context": {"account": 1, "space": None, "message": None, "uploaded_at": None}},
    {"context": {"account": None}}, {"signals": [["sha256"]]}, {"signals": "x"},
    {"object": 3}, {"at": "now"}, {"at": True}, {"extra": 1},
])
def test_anything_else_is_refused(change):
    doc = json.loads(encode_event(ScanEvent(new_scan_id(), "sync", "upload", CONTEXT)))
    doc.update(change)
    with pytest.raises(InvalidInput):
        decode_event(json.dumps(doc))


def test_not_json_and_oversized_events_are_refused():
    for text in ("", "[", "null", "x" * (MAX_EVENT_BYTES + 1)):
        with pytest.raises(InvalidInput):
            decode_event(text)
    with pytest.raises(InvalidInput):
        encode_event(ScanEvent(new_scan_id(), "sync", "signals", CONTEXT,
                               (("sha256", "a" * 64),) * 2000))
