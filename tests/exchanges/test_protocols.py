"""The exchanges' wire protocols, pure: requests from checkpoints, pages from bytes, a bad record
refused alone, a bad page refused whole, the feed's signature."""

from __future__ import annotations

import json

import pytest

from rempart.errors import InvalidInput
from rempart.exchanges.errors import BadPage
from rempart.exchanges.protocols.feed import RempartWire, feed_body, signature
from rempart.exchanges.protocols.ncmec import NcmecWire, iso
from rempart.exchanges.protocols.stopncii import StopNciiWire
from rempart.exchanges.protocols.threatexchange import ThreatExchangeWire

PDQ = "f" * 63 + "0"
NS = "https://hashsharing.ncmec.org/hashsharing/v2"


def _ncmec(records: str, paging: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><queryResult xmlns="{NS}">'
            f'<images count="1" maxTimestamp="2026-11-30T00:00:00Z">{records}</images>{paging}'
            "</queryResult>").encode()


IMAGE = ('<image><member id="42">M</member><id>img-1</id><classification>A1</classification>'
         f"<fingerprints><md5>{'a' * 32}</md5><pdq>{PDQ}</pdq><pdna>x</pdna></fingerprints></image>")


def test_ncmec_window_paging_and_checkpoint():
    wire = NcmecWire({})
    req, window = wire.request({}, now=1_000)
    assert (req.path, dict(req.params)) == ("/v2/entries", {"from": iso(0), "to": iso(1_000)})
    nxt = f"/v2/entries?from={iso(0)}&amp;to={iso(1_000)}&amp;start=1&amp;size=1&amp;max=2"
    page = wire.parse(_ncmec(IMAGE, f"<paging><next>{nxt}</next></paging>"), {}, window)
    assert not page.done and page.checkpoint["next"].endswith("start=1&size=1&max=2")
    assert page.records[0].hashes == (("md5", "a" * 32), ("pdq", PDQ))
    assert set(page.records[0].labels) == {"media:image", "member:42", "classification:A1"}
    # a crash here resumes at the same page of the same window, whatever the clock says
    again, window2 = wire.request(page.checkpoint, now=5_000)
    assert again.path == page.checkpoint["next"] and window2 == {"from": 0, "to": 1_000}
    last = wire.parse(_ncmec("<deletedImage><id>img-0</id></deletedImage>"), {}, window2)
    assert last.done and last.checkpoint == {"from": 1_000}
    assert last.records[0].op == "delete"


def test_ncmec_bad_record_refused_alone_and_bad_page_whole():
    wire = NcmecWire({})
    _, window = wire.request({}, now=10)
    page = wire.parse(_ncmec(IMAGE + "<image><id>img-2</id><fingerprints><pdna>x</pdna></fingerprints></image>"),
                      {}, window)
    assert [r.upstream_id for r in page.records] == ["img-1"]
    assert page.rejected[0].upstream_id == "img-2" and "no usable fingerprint" in page.rejected[0].reason
    body = _ncmec(IMAGE)
    for bad in (body[: len(body) // 2], b"<!DOCTYPE x [<!ENTITY a 'b'>]>" + body, b"<other/>"):
        with pytest.raises(BadPage):
            wire.parse(bad, {}, window)
    with pytest.raises(BadPage):  # a next that is not a path of the same API
        wire.parse(_ncmec(IMAGE, "<paging><next>http://elsewhere/x</next></paging>"), {}, window)


def test_ncmec_filters_turn_other_members_into_deletes():
    wire = NcmecWire({"member_ids": ["7"]})
    _, window = wire.request({}, now=10)
    page = wire.parse(_ncmec(IMAGE), {}, window)
    assert page.records[0].op == "delete"


def _te(data, after=None) -> bytes:
    paging = {"cursors": {"after": after}, "next": "https://x/next"} if after else {}
    return json.dumps({"data": data, "paging": paging}).encode()


def test_threatexchange_cursor_types_and_tombstones():
    with pytest.raises(InvalidInput):
        ThreatExchangeWire({})
    wire = ThreatExchangeWire({"privacy_group": "1001", "page_size": 2})
    req, window = wire.request({}, now=500)
    assert req.path == "/1001/threat_updates/" and req.params["stop_time"] == "500"
    data = [{"id": "1", "indicator": PDQ, "type": "HASH_PDQ", "last_updated": 3, "should_delete": False,
             "descriptors": {"data": [{"id": "77", "tags": ["csam", {"text": "known"}]}]}},
            {"id": "2", "type": "HASH_PDQ", "last_updated": 4, "should_delete": True},
            {"id": "3", "indicator": "x", "type": "URI", "last_updated": 4, "descriptors": {"data": []}}]
    page = wire.parse(_te(data, after="QQ"), {}, window)
    assert [(r.upstream_id, r.op) for r in page.records] == [("1", "add"), ("2", "delete")]
    assert page.records[0].labels == ("tag:csam", "tag:known") and page.records[0].extra == {"descriptors": ["77"]}
    assert page.rejected[0].upstream_id == "3" and "URI" in page.rejected[0].reason
    assert page.checkpoint == {"start": 0, "stop": 500, "after": "QQ"} and not page.done
    req2, window2 = wire.request(page.checkpoint, now=900)
    assert req2.params["after"] == "QQ" and window2["stop"] == 500
    assert wire.parse(_te([]), {}, window2).checkpoint == {"start": 500}
    assert wire.feedback("1", {"descriptors": ["77"]}, "false_positive", "pdq").body == b"reactions=DISAGREE_WITH_TAGS"
    with pytest.raises(BadPage):
        wire.parse(b'{"data": [', {}, window)


def test_stopncii_tokens_and_withdrawals():
    wire = StopNciiWire({})
    _, window = wire.request({"start": 5}, now=0)
    doc = {"count": 2, "hasMoreRecords": True, "nextPageToken": "tok", "nextSetTimestamp": 99,
           "hashRecords": [{"signalType": "ImagePDQ", "hashValue": PDQ, "hashStatus": "Active", "lastModtimestamp": 6},
                           {"signalType": "ImagePDQ", "hashValue": "b" * 64, "hashStatus": "Withdrawn"},
                           {"signalType": "VideoTMK", "hashValue": "c", "hashStatus": "Active"}]}
    page = wire.parse(json.dumps(doc).encode(), {}, window)
    assert [r.op for r in page.records] == ["add", "delete"]
    assert page.records[0].upstream_id == f"ImagePDQ:{PDQ}"
    assert len(page.rejected) == 1 and page.checkpoint == {"start": 5, "token": "tok"}
    doc.update(hasMoreRecords=False, nextPageToken="")
    assert wire.parse(json.dumps(doc).encode(), {}, window).checkpoint == {"start": 99}
    with pytest.raises(BadPage):
        wire.parse(json.dumps({"hashRecords": []}).encode(), {}, window)  # hasMoreRecords missing


def test_the_feed_verifies_its_signature_and_its_request():
    wire = RempartWire({}, "rpx_key")
    _, window = wire.request({"after": 7}, now=0)
    body = feed_body("peer", 7, 9, False, [{"id": "b/1", "bank": "b", "op": "add", "signal_type": "pdq",
                                             "value": PDQ, "labels": ["bank:b"]}])
    page = wire.parse(body, {"Rempart-Signature": signature("rpx_key", body)}, window)
    assert page.done and page.checkpoint == {"after": 9} and page.records[0].hashes == (("pdq", PDQ),)
    # paging past recent (unsettled) changes: go on reading, restart from the settled point
    held = feed_body("peer", 7, 9, True, [], settled=8)
    mid = wire.parse(held, {"Rempart-Signature": signature("rpx_key", held)}, window)
    assert mid.checkpoint == {"after": 8, "cursor": 9} and not mid.done
    _, window2 = wire.request(mid.checkpoint, now=0)
    last = feed_body("peer", 9, 12, False, [])
    assert wire.parse(last, {"Rempart-Signature": signature("rpx_key", last)}, window2).checkpoint == {"after": 8}
    with pytest.raises(BadPage):  # signed with another partner's key
        wire.parse(body, {"Rempart-Signature": signature("rpx_other", body)}, window)
    with pytest.raises(BadPage):  # a page for another request, correctly signed
        other = feed_body("peer", 3, 9, False, [])
        wire.parse(other, {"Rempart-Signature": signature("rpx_key", other)}, window)
    # a page that stops inside a range: the cursor names the entry, sent back as after_entry
    inside = feed_body("peer", 7, 7, True, [], settled=7, next_entry=41)
    part = wire.parse(inside, {"Rempart-Signature": signature("rpx_key", inside)}, window)
    assert part.checkpoint == {"after": 7, "cursor": 7, "cursor_entry": 41}
    request, window3 = wire.request(part.checkpoint, now=0)
    assert (request.params["after"], request.params["after_entry"]) == ("7", "41")
    end = feed_body("peer", 7, 12, False, [], after_entry=41)
    assert wire.parse(end, {"Rempart-Signature": signature("rpx_key", end)}, window3).checkpoint == {"after": 12}
    with pytest.raises(BadPage):  # the same cursor without the entry: another request
        wire.parse(end, {"Rempart-Signature": signature("rpx_key", end)}, window)


def test_ncmec_feedback_names_the_member_the_entry_and_the_fingerprint():
    wire = NcmecWire({"negative_reason": "guid-1"})
    up = wire.request({}, now=10)[1]
    record = wire.parse(_ncmec(IMAGE), {}, up).records[0]
    yes = wire.feedback(record.upstream_id, record.extra, "confirmed", "pdq")
    assert (yes.method, yes.path) == ("PUT", "/v2/entries/42/img-1/PDQ/feedback") and b"<affirmative/>" in yes.body
    no = wire.feedback(record.upstream_id, record.extra, "false_positive", "md5")
    assert no.path.endswith("/MD5/feedback") and b"<guid>guid-1</guid>" in no.body
    assert wire.feedback(record.upstream_id, record.extra, "confirmed", "sha256") is None  # not taken
    assert NcmecWire({}).feedback(record.upstream_id, record.extra, "false_positive", "pdq") is None  # no reason yet
