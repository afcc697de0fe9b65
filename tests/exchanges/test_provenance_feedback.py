"""Provenance of matches on an exchange's entries (scan answer, case page, transparency leaf),
and reviewers' opinions sent back to the exchange by the worker."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.api.app import create_app
from rempart.api.permissions import Scope
from rempart.api.tokens import issue_token
from rempart.authz import Role
from rempart.banks import service as banks
from rempart.exchanges.feedback import queue_feedback
from rempart.exchanges.models import ExchangeFeedback
from rempart.moderation import ActionKind, ActionRequest, claim, decide
from rempart.moderation.models import Case
from rempart.scanning.service import ScanContext
from rempart.transparency import parse_decision_leaf
from rempart.transparency.db import log_store
from tests.exchanges.conftest import add_source, sync
from tests.factories import image_bytes
from tests.web.web_helpers import login, make_users


def _picture_pdq(rt, seed: int) -> str:
    return rt.fingerprint(image_bytes(seed)).pdq().pdq


def test_a_block_on_an_exchange_entry_carries_its_provenance_to_the_answer_and_the_leaf(runtime, upstream):
    server = upstream("ncmec")
    server.put("ncmec-77", [("pdq", _picture_pdq(runtime, 401))], ["classification:A1"])
    server.settle()
    add_source(runtime, server, "ncmec-industry", "ncmec-list")
    sync(runtime, "ncmec-industry")
    outcome = runtime.scan_media(image_bytes(401), ScanContext(account="acct-1"))
    assert outcome.verdict == "block"
    assert outcome.match_json()[0]["exchange"] == {
        "exchange": "ncmec-industry", "kind": "ncmec", "upstream_ids": ["ncmec-77"],
        "labels": ["classification:A1", "media:image", "member:42"]}
    with runtime.db.session() as s:
        leaves = [parse_decision_leaf(e) for e in log_store.read_entries(s, 0, log_store.tree_size(s))
                  if e.startswith(b"rempart/decision/")]
    assert [(d.kind, d.source_type) for d in leaves] == [("hash_match_block", "shared_list_ncmec")]
    # a local bank's block keeps the own-initiative source
    with runtime.db.session() as s:
        banks.create_bank(s, "local")
    runtime.bank_media("local", runtime.fingerprint(image_bytes(402)))
    runtime.scan_media(image_bytes(402))
    with runtime.db.session() as s:
        last = parse_decision_leaf(log_store.read_entries(s, 0, log_store.tree_size(s))[-1])
    assert last.source_type == "own_initiative_hash_match"

    # the API's scan answer, typed (ScanResult validates the provenance)
    with runtime.db.session() as s:
        _, secret = issue_token(s, "platform", frozenset({Scope.PLATFORM}))
    client = TestClient(create_app(runtime, outbox_worker=False, witness_worker=False, exchange_worker=False))
    r = client.post("/v1/scan", headers={"Authorization": f"Bearer {secret}"},
                    json={"signals": [{"type": "pdq", "value": _picture_pdq(runtime, 401)}]})
    assert r.status_code == 200, r.text
    assert r.json()["matches"][0]["exchange"]["upstream_ids"] == ["ncmec-77"]


def test_a_reviewer_opinion_is_queued_once_and_delivered_as_a_reaction(runtime, upstream):
    server = upstream("threatexchange")
    server.put("1501", [("pdq", _picture_pdq(runtime, 411))], ["csam"])
    server.put("1502", [("pdq", _picture_pdq(runtime, 412))], ["csam"])
    server.settle()
    with runtime.db.session() as s:
        banks.create_bank(s, "te-review", action="review")
    add_source(runtime, server, "te", "te-review")
    sync(runtime, "te")
    users = make_users(runtime, {"cs": Role.CHILD_SAFETY_MODERATOR})
    cfg = runtime.moderation
    for seed, account in ((411, "acct-a"), (412, "acct-b")):
        runtime.scan_media(image_bytes(seed), ScanContext(account=account))
    with runtime.db.session() as s:
        cases = {c.account: c.id for c in s.scalars(select(Case))}
    actor = users["cs"].actor
    # the case page shows where the matched entry came from
    app = create_app(runtime, outbox_worker=False, witness_worker=False, exchange_worker=False)
    with runtime.db.session() as s:
        claim(s, actor, cases["acct-a"], cfg)
    page = login(TestClient(app), users["cs"]).get(f"/console/cases/{cases['acct-a']}")
    assert page.status_code == 200
    assert "te (threatexchange): 1501 · tag:csam" in page.text
    with runtime.db.session() as s:  # a confirmation, and a false positive
        decide(s, actor, cases["acct-a"], actions=[_remove()], policy="csam", facts="confirmed", config=cfg)
        claim(s, actor, cases["acct-b"], cfg)
        decide(s, actor, cases["acct-b"], actions=[_dismiss()], policy=None, facts="benign look-alike", config=cfg)
    with runtime.db.session() as s:
        queued = {(f.upstream_id, f.opinion, f.state) for f in s.scalars(select(ExchangeFeedback))}
        leaves = [parse_decision_leaf(e) for e in log_store.read_entries(s, 0, log_store.tree_size(s))
                  if e.startswith(b"rempart/decision/")]
    # the reviewers' leaves name the exchange's list as the source, as blocks do
    assert {(d.decision, d.source_type) for d in leaves if d.kind == "moderation_decision"} >= {
        ("content_removed", "shared_list_threatexchange")}
    assert all(d.source_type == "shared_list_threatexchange" for d in leaves)
    assert queued == {("1501", "confirmed", "queued"), ("1502", "false_positive", "queued")}
    server.inject("500")  # the first delivery meets a 5xx and is retried
    runtime.exchange_round()
    got = sorted((r.path, parse_qs(r.body.decode())["reactions"][0]) for r in server.feedback)
    assert got == [("/91501/", "SAW_THIS_TOO"), ("/91502/", "DISAGREE_WITH_TAGS")]
    assert all(r.headers.get("access_token") is None for r in server.feedback)
    with runtime.db.session() as s:
        assert {f.state for f in s.scalars(select(ExchangeFeedback))} == {"sent"}
    runtime.exchange_round()  # sent once
    assert len(server.feedback) == 2


def _remove():
    return ActionRequest(ActionKind.REMOVE_ITEM)


def _dismiss():
    return ActionRequest(ActionKind.DISMISS)


def test_ncmec_feedback_is_an_xml_put_on_the_entry(runtime, upstream):
    server = upstream("ncmec")
    server.put("img-9", [("pdq", _picture_pdq(runtime, 421))])
    server.settle()
    add_source(runtime, server, "ncmec", "ncmec-list")
    sync(runtime, "ncmec")
    with runtime.db.session() as s:
        entry_id = banks.get_bank(s, "ncmec-list").entries[0].id
        assert queue_feedback(s, None, [entry_id], "false_positive") == 1
        assert queue_feedback(s, None, [entry_id], "false_positive") == 0  # once
    delivered = runtime.deliver_exchange_feedback()
    assert delivered.sent == 1
    (got,) = server.feedback
    assert got.path == "/v2/entries/42/img-9/PDQ/feedback"
    assert b"<negative><reasonIds><guid>0c5e1d4e-0000-4000-8000-000000000001</guid>" in got.body
    assert got.headers["Authorization"].startswith("Basic ")
    json.dumps(got.headers)  # plain strings
