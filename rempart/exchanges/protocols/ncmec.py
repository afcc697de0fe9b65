"""NCMEC hash-sharing API v2 (pure): the ``entries`` feed with its paging, and feedback.

Request (HTTP basic authentication, added by the transport)::

    GET {base}/v2/entries?from=2026-11-30T00:00:00Z&to=2026-12-01T00:00:00Z
    GET {base}{paging/next}          e.g. /v2/entries?from=...&to=...&start=1000&size=1000&max=4999

The answer is the ``queryResult`` document (``rempart.banks.ncmec_xml`` draws it): ``images``
and ``videos`` holding ``image`` / ``video`` records (an upsert of the record's fingerprints) and
``deletedImage`` / ``deletedVideo`` records (withdrawn: only ``id`` matters), then
``paging/next`` while more pages of the same window remain. NCMEC does not return a window's
entries in time order, so the checkpoint keeps the whole window (``from``, ``to``) and the
``next`` path until the last page, and only then moves ``from`` to ``to``: a crash in the middle
resumes at the same page of the same window. The window is [from, to).

Options: ``member_ids`` (keep records of these members only), ``categories`` (keep these
classifications only). A record filtered out is applied as a delete (a record that moved out of
the filter leaves the bank; one never seen is nothing to delete).

Feedback, on one fingerprint of an entry (the submitting member's id is kept in ``extra``)::

    PUT {base}/v2/entries/{member id}/{entry id}/{MD5|SHA1|PDQ}/feedback
    <feedbackSubmission xmlns="..."><affirmative/></feedbackSubmission>           confirmed
    <feedbackSubmission xmlns="..."><negative><reasonIds><guid>...</guid></reasonIds></negative>
    </feedbackSubmission>                                                       false_positive

A negative opinion names a reason: the source's ``negative_reason`` option, else the first of
``GET {base}/v2/feedback/{MD5|SHA1|PDQ}/reasons`` (``availableFeedbackReasons/reason@guid``).
NCMEC takes no feedback on SHA-256 fingerprints.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote
from xml.sax.saxutils import escape
from collections.abc import Mapping

from rempart.banks.ncmec_xml import FINGERPRINT_TYPES, NAMESPACE
from rempart.exchanges.errors import BadPage
from rempart.exchanges.protocols import (
    MAX_RECORDS, BadRecord, Page, Rejected, Request, Upstream, check_size, clean_id, clean_labels,
)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_NEXT = re.compile(r"^/v2/entries\?[A-Za-z0-9=&:%._+-]{1,1000}$")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype")
#: rempart's signal types NCMEC takes feedback on, by NCMEC's fingerprint type names
FEEDBACK_TYPES = {"md5": "MD5", "sha1": "SHA1", "pdq": "PDQ"}


def iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime(TIME_FORMAT)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class NcmecWire:
    kind = "ncmec"

    def __init__(self, options: Mapping) -> None:
        self.members = {str(m) for m in options.get("member_ids", ())}
        self.categories = {str(c) for c in options.get("categories", ())}
        self.negative_reason = str(options.get("negative_reason", "")) or None

    def request(self, checkpoint: Mapping, now: int) -> tuple[Request, dict]:
        start = int(checkpoint.get("from", 0))
        nxt = checkpoint.get("next")
        if nxt:
            window = {"from": start, "to": int(checkpoint["to"])}
            return Request("GET", str(nxt)), window
        window = {"from": start, "to": max(now, start)}
        return Request("GET", "/v2/entries", {"from": iso(window["from"]), "to": iso(window["to"])}), window

    def parse(self, body: bytes, headers: Mapping[str, str], window: Mapping) -> Page:
        check_size(body)
        if any(f in body for f in _FORBIDDEN):
            raise BadPage("a DOCTYPE or entity declaration is refused")
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise BadPage(f"not a complete XML document ({exc})") from None
        if _local(root.tag) != "queryResult":
            raise BadPage(f"root element is {_local(root.tag)}, not queryResult")
        records: list[Upstream] = []
        rejected: list[Rejected] = []
        nxt = None
        for section in root:
            name = _local(section.tag)
            if name == "paging":
                for child in section:
                    if _local(child.tag) == "next" and (child.text or "").strip():
                        nxt = (child.text or "").strip()
                continue
            if name not in ("images", "videos"):
                continue
            for rec in section:
                if len(records) + len(rejected) >= MAX_RECORDS:
                    raise BadPage(f"more than {MAX_RECORDS} records in one page")
                try:
                    records.append(self._record(rec))
                except BadRecord as exc:
                    rejected.append(Rejected(_text(rec, "id") or "", str(exc)))
        if nxt is not None and not _NEXT.match(nxt):
            raise BadPage("paging/next is not a /v2/entries path")
        if nxt:
            return Page(tuple(records), tuple(rejected),
                        {"from": window["from"], "to": window["to"], "next": nxt}, False)
        return Page(tuple(records), tuple(rejected), {"from": window["to"]}, True)

    def _record(self, rec: ET.Element) -> Upstream:
        tag = _local(rec.tag)
        media = {"image": "image", "video": "video", "deletedImage": "image",
                 "deletedVideo": "video"}.get(tag)
        if media is None:
            raise BadRecord(f"unknown record <{tag}>")
        upstream_id = clean_id(_text(rec, "id"))
        if tag.startswith("deleted"):
            return Upstream(upstream_id, "delete", extra={"media": media})
        member = next((c for c in rec if _local(c.tag) == "member"), None)
        member_id = member.get("id", "") if member is not None else ""
        classification = _text(rec, "classification")
        if (self.members and member_id not in self.members) or (
                self.categories and classification not in self.categories):
            return Upstream(upstream_id, "delete", extra={"media": media, "filtered": True})
        hashes = []
        for fps in (c for c in rec if _local(c.tag) == "fingerprints"):
            for fp in fps:
                stype = FINGERPRINT_TYPES.get(_local(fp.tag))
                if stype and (fp.text or "").strip():
                    hashes.append((stype, (fp.text or "").strip()))
        if not hashes:
            raise BadRecord("no usable fingerprint (md5, sha1, sha256 or pdq)")
        labels = [f"media:{media}"]
        if member_id:
            labels.append(f"member:{member_id}")
        if classification:
            labels.append(f"classification:{classification}")
        return Upstream(upstream_id, "add", tuple(hashes), clean_labels(labels),
                        {"media": media, "member": member_id})

    def feedback(self, upstream_id: str, extra: Mapping, opinion: str, signal_type: str,
                 reason: str | None = None) -> Request | None:
        fingerprint = FEEDBACK_TYPES.get(signal_type)
        member = str(extra.get("member", ""))
        if fingerprint is None or not member.isdigit():
            return None
        if opinion == "confirmed":
            verdict = "<affirmative/>"
        else:
            reason = reason or self.negative_reason
            if not reason:
                return None
            verdict = f"<negative><reasonIds><guid>{escape(reason)}</guid></reasonIds></negative>"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<feedbackSubmission xmlns="{NAMESPACE}">'
                f"{verdict}</feedbackSubmission>\n").encode()
        return Request("PUT", f"/v2/entries/{member}/{quote(upstream_id, safe='')}/{fingerprint}/feedback",
                       body=body, content_type="application/xml; charset=utf-8")

    def reasons(self, signal_type: str) -> Request | None:
        """The request for the negative feedback reasons of a fingerprint type."""
        fingerprint = FEEDBACK_TYPES.get(signal_type)
        return Request("GET", f"/v2/feedback/{fingerprint}/reasons") if fingerprint else None

    def parse_reasons(self, body: bytes, headers: Mapping[str, str]) -> list[str]:
        if any(f in body for f in _FORBIDDEN):
            raise BadPage("a DOCTYPE or entity declaration is refused")
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise BadPage(f"not a complete XML document ({exc})") from None
        return [r.get("guid", "") for r in root.iter() if _local(r.tag) == "reason" and r.get("guid")]


def _text(rec: ET.Element, name: str) -> str | None:
    for c in rec:
        if _local(c.tag) == name:
            return (c.text or "").strip()
    return None
