"""Meta ThreatExchange Graph API (pure): ``threat_updates`` of a privacy group, and reactions.

Request (``access_token`` added by the transport)::

    GET {base}/{privacy_group}/threat_updates/?start_time=..&stop_time=..&limit=..&fields=..
        [&after=<cursor>]

Answer: ``{"data": [update...], "paging": {"cursors": {"after": "..."}, "next": "..."}}``; one
update is an indicator with its descriptors::

    {"id": "1234", "indicator": "<hash>", "type": "HASH_PDQ", "last_updated": 1700000000,
     "should_delete": false, "descriptors": {"data": [{"id": "5678", "tags": ["csam"], ...}]}}

``should_delete`` (or no ``descriptors``, as the API sometimes answers) withdraws the indicator.
Types HASH_PDQ, HASH_MD5, HASH_SHA1 and HASH_SHA256 are banked; any other is refused with its
reason. Labels are the descriptors' tags. The checkpoint keeps the window (``start``, ``stop``)
and the ``after`` cursor (never the ``next`` URL: it carries the access token) until the window's
last page, then moves ``start`` to ``stop``.

Options: ``privacy_group`` (required), ``page_size`` (default 500).

Feedback: ``POST {base}/{descriptor_id}/`` with ``reactions=SAW_THIS_TOO`` (confirmed) or
``reactions=DISAGREE_WITH_TAGS`` (false positive), on each descriptor of the indicator.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from rempart.errors import InvalidInput
from rempart.exchanges.errors import BadPage
from rempart.exchanges.protocols import (
    BadRecord, Page, Request, Upstream, as_int, clean_id, clean_labels,
)
from rempart.exchanges.protocols._json import load_object, record_label, split_records

TYPES = {"HASH_PDQ": "pdq", "HASH_MD5": "md5", "HASH_SHA1": "sha1", "HASH_SHA256": "sha256"}
FIELDS = "id,indicator,type,last_updated,should_delete,descriptors{id,tags,status}"
REACTIONS = {"confirmed": "SAW_THIS_TOO", "false_positive": "DISAGREE_WITH_TAGS"}


class ThreatExchangeWire:
    kind = "threatexchange"

    def __init__(self, options: Mapping) -> None:
        group = str(options.get("privacy_group", ""))
        if not group.isdigit():
            raise InvalidInput("a threatexchange source needs --privacy-group (its numeric id)")
        self.group = group
        self.page_size = int(options.get("page_size", 500))

    def request(self, checkpoint: Mapping, now: int) -> tuple[Request, dict]:
        start = int(checkpoint.get("start", 0))
        stop = int(checkpoint["stop"]) if checkpoint.get("after") else max(now, start)
        params = {"start_time": str(start), "stop_time": str(stop), "limit": str(self.page_size),
                  "fields": FIELDS}
        if checkpoint.get("after"):
            params["after"] = str(checkpoint["after"])
        return Request("GET", f"/{self.group}/threat_updates/", params), {"start": start, "stop": stop}

    def parse(self, body: bytes, headers: Mapping[str, str], window: Mapping) -> Page:
        doc = load_object(body)
        records, rejected = split_records(doc, "data", _update,
                                          lambda raw: record_label(raw, "id", keep_falsy=True))
        paging = doc.get("paging") or {}
        if not isinstance(paging, dict):
            raise BadPage("paging is not an object")
        after = (paging.get("cursors") or {}).get("after") if isinstance(paging.get("cursors"), dict) else None
        if paging.get("next") and after:
            return Page(tuple(records), tuple(rejected),
                        {"start": window["start"], "stop": window["stop"], "after": str(after)}, False)
        return Page(tuple(records), tuple(rejected), {"start": window["stop"]}, True)

    def feedback(self, upstream_id: str, extra: Mapping, opinion: str, signal_type: str,
                 reason: str | None = None) -> Request | None:
        descriptors = [str(d) for d in extra.get("descriptors", ()) if str(d).isdigit()]
        if not descriptors:
            return None
        # one reaction per request: the first descriptor (the transport sends one request)
        return Request("POST", f"/{quote(descriptors[0], safe='')}/",
                       body=urlencode({"reactions": REACTIONS[opinion]}).encode(),
                       content_type="application/x-www-form-urlencoded")


def _update(raw) -> Upstream:
    if not isinstance(raw, dict):
        raise BadRecord("an update is not an object")
    upstream_id = clean_id(raw.get("id"))
    as_int(raw.get("last_updated", 0), "last_updated")
    descriptors = raw.get("descriptors")
    if raw.get("should_delete") is True or descriptors is None:
        return Upstream(upstream_id, "delete")
    stype = TYPES.get(str(raw.get("type")))
    if stype is None:
        raise BadRecord(f"indicator type {str(raw.get('type'))[:40]} is not banked here")
    indicator = raw.get("indicator")
    if not isinstance(indicator, str) or not indicator.strip():
        raise BadRecord("no indicator")
    items = descriptors.get("data", []) if isinstance(descriptors, dict) else None
    if not isinstance(items, list):
        raise BadRecord("descriptors is not a list")
    tags, ids = [], []
    for d in items:
        if not isinstance(d, dict):
            raise BadRecord("a descriptor is not an object")
        ids.append(str(d.get("id", "")))
        for t in d.get("tags") or ():
            tags.append(t.get("text", "") if isinstance(t, dict) else t)
    labels = clean_labels(f"tag:{t}" for t in tags if isinstance(t, str))
    return Upstream(upstream_id, "add", ((stype, indicator.strip()),), labels,
                    {"descriptors": [i for i in ids if i.isdigit()][:20]})
