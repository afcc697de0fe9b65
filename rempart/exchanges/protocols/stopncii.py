"""StopNCII.org hash API (pure): ``FetchHashes`` with its page tokens, and ``SubmitFeedback``.

Request (the ``Ocp-Apim-Subscription-Key`` and ``x-functions-key`` headers are added by the
transport)::

    GET {base}/v1/FetchHashes?startTimestamp=..&pageSize=..[&nextPageToken=..]

Answer::

    {"count": 2, "nextPageToken": "...", "nextSetTimestamp": 1700000000, "hasMoreRecords": true,
     "hashRecords": [{"lastModtimestamp": 1699999999, "signalType": "ImagePDQ",
                      "hashValue": "<hash>", "hashStatus": "Active", "caseNumbers": {...}}]}

A record is the current state of one hash (its id here: ``<signalType>:<hashValue>``); status
Withdrawn or Deleted withdraws it. ImagePDQ (pdq) and VideoMD5 (md5) are banked; other signal
types are refused with their reason. The checkpoint keeps ``start`` and the ``token`` until the
last page (``hasMoreRecords`` false), then moves ``start`` to ``nextSetTimestamp``.

Feedback: ``POST {base}/v1/SubmitFeedback`` with ``{"count": 1, "hashFeedbacks": [{"hashValue":
..., "feedbackValue": "Blocked" | "NotBlocked", "tags": []}]}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from rempart.exchanges.errors import BadPage
from rempart.exchanges.protocols import (
    BadRecord, Page, Request, Upstream, as_int, clean_id, clean_labels,
)
from rempart.exchanges.protocols._json import load_object, record_label, split_records

TYPES = {"ImagePDQ": "pdq", "VideoMD5": "md5"}
WITHDRAWN = ("Withdrawn", "Deleted")
FEEDBACK = {"confirmed": "Blocked", "false_positive": "NotBlocked"}


class StopNciiWire:
    kind = "stopncii"

    def __init__(self, options: Mapping) -> None:
        self.page_size = int(options.get("page_size", 800))

    def request(self, checkpoint: Mapping, now: int) -> tuple[Request, dict]:
        start = int(checkpoint.get("start", 0))
        params = {"startTimestamp": str(start), "pageSize": str(self.page_size)}
        if checkpoint.get("token"):
            params["nextPageToken"] = str(checkpoint["token"])
        return Request("GET", "/v1/FetchHashes", params), {"start": start}

    def parse(self, body: bytes, headers: Mapping[str, str], window: Mapping) -> Page:
        doc = load_object(body)
        records, rejected = split_records(doc, "hashRecords", _record,
                                          lambda raw: record_label(raw, "hashValue"))
        more = doc.get("hasMoreRecords")
        if not isinstance(more, bool):
            raise BadPage("hasMoreRecords is not true or false")
        if more:
            token = doc.get("nextPageToken")
            if not isinstance(token, str) or not token:
                raise BadPage("more records but no nextPageToken")
            return Page(tuple(records), tuple(rejected), {"start": window["start"], "token": token}, False)
        nxt = as_int(doc.get("nextSetTimestamp", window["start"]), "nextSetTimestamp")
        return Page(tuple(records), tuple(rejected), {"start": max(nxt, window["start"])}, True)

    def feedback(self, upstream_id: str, extra: Mapping, opinion: str, signal_type: str,
                 reason: str | None = None) -> Request | None:
        value = upstream_id.partition(":")[2]
        body = {"count": 1, "hashFeedbacks": [{"hashValue": value, "feedbackValue": FEEDBACK[opinion],
                                               "tags": []}]}
        return Request("POST", "/v1/SubmitFeedback", body=json.dumps(body).encode(),
                       content_type="application/json")


def _record(raw) -> Upstream:
    if not isinstance(raw, dict):
        raise BadRecord("a hash record is not an object")
    signal, value = raw.get("signalType"), raw.get("hashValue")
    if not isinstance(signal, str) or not isinstance(value, str) or not value.strip():
        raise BadRecord("no signalType or hashValue")
    upstream_id = clean_id(f"{signal}:{value.strip()}")
    status = raw.get("hashStatus")
    if status in WITHDRAWN:
        return Upstream(upstream_id, "delete")
    stype = TYPES.get(signal)
    if stype is None:
        raise BadRecord(f"signal type {signal[:40]} is not banked here")
    return Upstream(upstream_id, "add", ((stype, value.strip()),),
                    clean_labels([f"status:{status}"] if isinstance(status, str) else []),
                    {"signal": signal})
