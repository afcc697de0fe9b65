"""The rempart-to-rempart feed (pure): ``GET /v1/exchange/feed``, signed per partner.

Request (the partner's key as a bearer token)::

    GET {base}/v1/exchange/feed?after=<seq>&after_entry=<entry id>&limit=<n>
    Authorization: Bearer rpx_<key>

Answer: a JSON object, its exact bytes signed with the partner's key (HMAC-SHA256)::

    Rempart-Signature: v1=<hex of HMAC-SHA256(key, body)>

    {"partner": "peer-b", "after": 0, "next": 42, "settled": 42, "more": false,
     "items": [{"id": "platform-confirmed/17", "bank": "platform-confirmed", "op": "add",
                "signal_type": "pdq", "value": "<hash>", "labels": ["bank:platform-confirmed"]}]}

``after`` echoes the request (a page replayed for another request is refused), ``next`` is
where to go on reading, ``more`` says whether to ask at once, and ``settled`` (<= ``next``) is
where a later sync must start again: on PostgreSQL a change of the last moments may still be
joined by one with a lower sequence number (see ``rempart.exchanges.feed``), so the changes
after ``settled`` are served again then (applying them twice changes nothing). ``op`` is
``add`` for an entry that matches on the sharing side and ``delete`` for one disabled or
removed there. Items come from the change feed of the banks shared with this partner (``seq``
order); ``limit`` counts items, and a bulk import (one change naming a range of entries)
is listed a page at a time: a page that stops inside it says ``"next_entry": <entry id>``
(``next`` is then just before that change), sent back as ``after_entry`` (echoed too) to
go on after that entry; a request without ``after_entry`` (older consumers) gets a range whole.
The consumer's checkpoint is ``{"after": <restart point>, "cursor": <next>, "cursor_entry": <next_entry>}`` while it
pages, committed with each page's effects, and ``{"after": <restart point>}`` once caught up:
no change is missed, whatever crashes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence

from rempart.exchanges.errors import BadPage
from rempart.exchanges.protocols import (
    BadRecord, Page, Request, Upstream, as_int, clean_id, clean_labels,
)
from rempart.exchanges.protocols._json import load_object, record_label, split_records

SIGNATURE_HEADER = "Rempart-Signature"
KEY_PREFIX = "rpx_"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000


def signature(key: str, body: bytes) -> str:
    return "v1=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def feed_body(partner: str, after: int, next_seq: int, more: bool, items: Sequence[Mapping],
              settled: int | None = None, after_entry: int = 0, next_entry: int = 0) -> bytes:
    """The exact bytes of one feed page (what is signed); ``settled`` defaults to ``next_seq``;
    ``after_entry`` and ``next_entry`` are written only when set (a position inside a range)."""
    doc = {"partner": partner, "after": after, "next": next_seq, "more": more,
           "settled": next_seq if settled is None else settled, "items": list(items)}
    if after_entry:
        doc["after_entry"] = after_entry
    if next_entry:
        doc["next_entry"] = next_entry
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


class RempartWire:
    kind = "rempart"

    def __init__(self, options: Mapping, key: str) -> None:
        self.key = key
        self.limit = int(options.get("page_size", DEFAULT_LIMIT))

    def request(self, checkpoint: Mapping, now: int) -> tuple[Request, dict]:
        restart = int(checkpoint.get("after", 0))
        after = int(checkpoint.get("cursor", restart))
        inside = int(checkpoint.get("cursor_entry", 0)) if "cursor" in checkpoint else 0
        return (Request("GET", "/v1/exchange/feed", {"after": str(after), "after_entry": str(inside),
                                                     "limit": str(self.limit)}),
                {"after": after, "after_entry": inside, "restart": restart})

    def parse(self, body: bytes, headers: Mapping[str, str], window: Mapping) -> Page:
        got = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        if not hmac.compare_digest(got.encode(), signature(self.key, body).encode()):
            raise BadPage("the page's signature does not verify with this partner key")
        doc = load_object(body)
        if as_int(doc.get("after"), "after") != window["after"]:
            raise BadPage("the page answers another request (after differs)")
        if as_int(doc.get("after_entry", 0), "after_entry") != window.get("after_entry", 0):
            raise BadPage("the page answers another request (after_entry differs)")
        nxt = as_int(doc.get("next"), "next")
        inside = as_int(doc.get("next_entry", 0), "next_entry")
        settled = as_int(doc.get("settled", nxt), "settled")
        if not window["after"] <= settled <= nxt:
            raise BadPage("next or settled goes backwards")
        records, rejected = split_records(doc, "items", _item,
                                          lambda raw: record_label(raw, "id"))
        more = doc.get("more")
        if not isinstance(more, bool):
            raise BadPage("more is not true or false")
        # the restart point moves only while every page before was settled to its end
        restart = settled if window["restart"] == window["after"] else window["restart"]
        checkpoint = {"after": restart, "cursor": nxt} if more else {"after": restart}
        if more and inside:
            checkpoint["cursor_entry"] = inside
        return Page(tuple(records), tuple(rejected), checkpoint, not more)

    def feedback(self, upstream_id: str, extra: Mapping, opinion: str, signal_type: str,
                 reason: str | None = None) -> Request | None:
        return None


def _item(raw) -> Upstream:
    if not isinstance(raw, dict):
        raise BadRecord("an item is not an object")
    upstream_id = clean_id(raw.get("id"))
    op = raw.get("op")
    if op == "delete":
        return Upstream(upstream_id, "delete")
    if op not in ("add", "update"):
        raise BadRecord("op is not add, update or delete")
    stype, value = raw.get("signal_type"), raw.get("value")
    if not isinstance(stype, str) or not isinstance(value, str):
        raise BadRecord("no signal_type or value")
    labels = raw.get("labels", [])
    return Upstream(upstream_id, op, ((stype, value),),
                    clean_labels(labels if isinstance(labels, list) else []))
