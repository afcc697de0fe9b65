"""POST /v1/notices and GET /v1/notices/{id}: receipts, idempotency, isolation, bad input, and
the outcome reaching the organisation (status, log leaf, signed webhook)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from rempart.api.app import create_app
from rempart.hotline.models import Batch, Notice, NoticeHash
from rempart.hotline.orgs import set_endpoint
from rempart.authz import Actor, Role
from rempart.moderation import deliver_pending
from rempart.moderation.models import Case
from rempart.moderation.vocab import ActionKind
from rempart.transparency import verify_receipt
from rempart.transparency.db import log_store
from tests.hotline.hotline_helpers import (
    auth, decide_notice, notice, org, posted, reviewer, tune,
)
from tests.openapi_check import checked_client
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture
def client(runtime):
    with checked_client(create_app(runtime, outbox_worker=False)) as c:
        yield c


@pytest.fixture
def ledger(runtime):
    for i, (acct, msg) in enumerate([("acct-1", "m-1"), ("acct-1", "m-2"), ("acct-2", "m-3")]):
        posted(runtime, 40 + i, acct, msg)


def count(runtime, model) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_batch_is_received_with_receipts_proved_in_the_log(runtime, client, ledger):
    _, key = org(runtime)
    r = client.post("/v1/notices", headers=auth(key, "k1"),
                    json={"notices": [notice(), notice("acct-2", "m-3", reference="T-2")]})
    assert r.status_code == 201, r.text
    got = r.json()["notices"]
    assert [n["status"] for n in got] == ["received", "received"]
    for n in got:
        verdict = verify_receipt(json.dumps(n["receipt"]).encode())
        assert verdict.ok, verdict.to_json()
        assert n["receipt"]["private_opening"]["content_sha256"] == n["receipt"]["digest"]
    with runtime.db.session() as s:
        rows = s.scalars(select(Notice).order_by(Notice.id)).all()
        assert [n.source_kind for n in rows] == ["hotline", "hotline"]
        cases = {s.get(Case, n.case_id).account: s.get(Case, n.case_id) for n in rows}
        assert set(cases) == {"acct-1", "acct-2"}
        assert all(c.queue.name == "urgent" for c in cases.values())  # a hotline: trusted
        assert all(log_store.leaf(s, n.leaf_index).kind == "notice" for n in rows)


def test_a_notice_joins_the_live_case_of_the_same_account(runtime, client, ledger):
    _, key = org(runtime)
    for i in range(2):
        assert client.post("/v1/notices", headers=auth(key),
                           json={"notices": [notice(message=f"m-{i + 1}")]}).status_code == 201
    with runtime.db.session() as s:
        case_ids = set(s.scalars(select(Notice.case_id)))
        assert len(case_ids) == 1
        assert len(s.get(Case, case_ids.pop()).items) == 2


def test_the_same_key_and_body_give_the_same_answer_and_nothing_new(runtime, client, ledger):
    _, key = org(runtime)
    body = {"notices": [notice()]}
    first = client.post("/v1/notices", headers=auth(key, "same"), json=body)
    again = client.post("/v1/notices", headers=auth(key, "same"),
                        content=json.dumps(body, indent=2))  # same body, other spacing
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert count(runtime, Notice) == 1 and count(runtime, Batch) == 1
    other = client.post("/v1/notices", headers=auth(key, "same"),
                        json={"notices": [notice(reference="other")]})
    assert other.status_code == 409
    assert count(runtime, Notice) == 1


def test_an_organisation_never_sees_another_ones_notices(runtime, client, ledger):
    _, key_a = org(runtime, "Org A")
    _, key_b = org(runtime, "Org B", "ngo")
    nid = client.post("/v1/notices", headers=auth(key_a), json={"notices": [notice()]}
                      ).json()["notices"][0]["id"]
    assert client.get(f"/v1/notices/{nid}", headers=auth(key_a)).json()["status"] == "received"
    theirs = client.get(f"/v1/notices/{nid}", headers=auth(key_b))
    missing = client.get("/v1/notices/999999", headers=auth(key_b))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["title"].replace(str(nid), "N") == missing.json()["title"].replace("999999", "N")
    # the same idempotency key is each organisation's own
    assert client.post("/v1/notices", headers=auth(key_b, "k"), json={"notices": [notice()]}
                       ).status_code == 201
    assert client.post("/v1/notices", headers=auth(key_a, "k"),
                       json={"notices": [notice(reference="x")]}).status_code == 201


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b["notices"][1].update(category="nope"), "notices[1].category"),
    (lambda b: b["notices"][0].update(hashes=[{"type": "pdq", "value": "zz"}]),
     "notices[0].hashes[0].value"),
    (lambda b: b["notices"][0].update(hashes=[{"type": "md5", "value": "0" * 31}]),
     "notices[0].hashes[0].value"),
    (lambda b: b["notices"][0].update(hashes=[{"type": "sha1", "value": "0" * 40}]),
     "notices[0].hashes[0].type"),
    (lambda b: b["notices"][1]["locations"][0].update(message="no-such-message"),
     "notices[1].locations[0]"),
    (lambda b: b["notices"][0]["locations"][0].update(account="ghost", message=None),
     "notices[0].locations[0]"),
    (lambda b: b["notices"][0].update(good_faith=False), "notices[0].good_faith"),
    (lambda b: b["notices"][0].update(explanation="x" * 5001), "notices[0].explanation"),
    (lambda b: b["notices"][0].update(locations=[], hashes=[]), "notices[0].locations"),
    (lambda b: b["notices"][0].update(surprise=1), "notices[0].surprise"),
    (lambda b: b.update(notices=[notice()] * 101), "notices"),
])
def test_bad_input_names_the_field_and_creates_nothing(runtime, client, ledger, mutate, field):
    _, key = org(runtime)
    ok = client.post("/v1/notices", headers=auth(key), json={"notices": [notice()]})
    assert ok.status_code == 201
    before = (count(runtime, Notice), count(runtime, Case), log_size(runtime))
    body = {"notices": [notice(), notice("acct-2", "m-3")]}
    mutate(body)
    r = client.post("/v1/notices", headers=auth(key, "bad"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "invalid-notice" and r.json()["field"] == field
    assert (count(runtime, Notice), count(runtime, Case), log_size(runtime)) == before
    assert count(runtime, Batch) == 0  # the key is free for the corrected request
    nid = ok.json()["notices"][0]["id"]
    assert client.get(f"/v1/notices/{nid}", headers=auth(key)).status_code == 200


def log_size(runtime) -> int:
    with runtime.db.session() as s:
        return log_store.tree_size(s)


def test_unknown_revoked_and_suspended_keys_are_refused(runtime, client, ledger):
    org_id, key = org(runtime)
    assert client.post("/v1/notices", headers=auth("rp_" + "x" * 43),
                       json={"notices": [notice()]}).status_code == 401
    from rempart.authz import shell_operator_as_lead
    from rempart.hotline.orgs import get_org, reinstate, revoke_keys, suspend
    with runtime.db.session() as s:
        suspend(s, shell_operator_as_lead(), get_org(s, org_id), "many unfounded notices")
    r = client.post("/v1/notices", headers=auth(key), json={"notices": [notice()]})
    assert r.status_code == 403 and "suspended" in r.json()["title"]
    with runtime.db.session() as s:
        reinstate(s, shell_operator_as_lead(), get_org(s, org_id))
        revoke_keys(s, get_org(s, org_id))
    assert client.post("/v1/notices", headers=auth(key), json={"notices": [notice()]}
                       ).status_code == 401
    assert count(runtime, Notice) == 0
    # a platform token cannot send notices (it has no organisation)
    from rempart.api.permissions import Scope
    from rempart.api.tokens import issue_token
    with runtime.db.session() as s:
        admin = issue_token(s, "admin", frozenset({Scope.ADMIN}))[1]
    assert client.post("/v1/notices", headers=auth(admin), json={"notices": [notice()]}
                       ).status_code == 403


def test_a_flood_from_one_organisation_is_refused_and_loses_nothing(runtime, client, ledger):
    tune(runtime, org_notices_per_hour=3)
    _, key = org(runtime)
    assert client.post("/v1/notices", headers=auth(key), json={"notices": [notice()] * 2}
                       ).status_code == 201
    r = client.post("/v1/notices", headers=auth(key), json={"notices": [notice()] * 2})
    assert r.status_code == 429 and r.json()["type"] == "rate-limited" and r.headers["Retry-After"]
    assert count(runtime, Notice) == 2
    assert client.post("/v1/notices", headers=auth(key), json={"notices": [notice()]}
                       ).status_code == 201


def test_the_outcome_reaches_the_organisation(runtime, client, ledger):
    org_id, key = org(runtime)
    with runtime.db.session() as s:
        from rempart.hotline.orgs import get_org
        _, secret = set_endpoint(s, Actor(None, "test", Role.ADMIN), get_org(s, org_id),
                                 "http://127.0.0.1:1/unused")
    with WebhookReceiver(secret) as hook:
        with runtime.db.session() as s:
            from rempart.moderation.models import WebhookEndpoint
            s.scalars(select(WebhookEndpoint)).one().url = hook.url
        nid = client.post("/v1/notices", headers=auth(key), json={"notices": [notice()]}
                          ).json()["notices"][0]["id"]
        decide_notice(runtime, nid, reviewer(runtime).actor, [ActionKind.REMOVE_ITEM])
        deliver_pending(runtime.db)
        status = client.get(f"/v1/notices/{nid}", headers=auth(key)).json()
        assert status["status"] == "actioned" and status["removed_at"] and not status["banked"]
        assert [b["type"] for b in hook.received] == ["rempart.notice.outcome"]
        data = hook.received[0]["data"]
        assert data["notice"] == nid and data["status"] == "actioned" and data["reference"] == "T-1"
    with runtime.db.session() as s:
        n = s.get(Notice, nid)
        assert log_store.leaf(s, n.outcome_leaf).data.startswith(b"rempart/notice/v1\nevent outcome")


def test_fingerprints_are_pending_until_confirmed_then_banked(runtime, client, ledger):
    from rempart.signals import fingerprint
    from tests.factories import image_bytes
    _, key = org(runtime)
    fp = fingerprint(image_bytes(40))  # the picture behind acct-1 / m-1
    body = {"notices": [{"category": "csam", "explanation": "hash only", "good_faith": True,
                         "hashes": [{"type": "pdq", "value": fp.pdq().pdq},
                                    {"type": "md5", "value": fp.md5}]}]}
    nid = client.post("/v1/notices", headers=auth(key), json=body).json()["notices"][0]["id"]
    assert len(runtime.matcher) == 0  # pending: nothing can match them yet
    with runtime.db.session() as s:
        hashes = s.scalars(select(NoticeHash)).all()
        assert {h.status for h in hashes} == {"pending"}
        case = s.get(Case, s.get(Notice, nid).case_id)
        assert {i.item_id for i in case.items if i.item_id} == set(hashes[0].matched_items) != set()
    decide_notice(runtime, nid, reviewer(runtime).actor, [ActionKind.REMOVE_ITEM])
    assert runtime.follow_up() == 2
    runtime.sync()
    assert len(runtime.matcher) == 2
    again = posted(runtime, 40, "acct-9", "m-9")
    assert again.verdict == "block"
