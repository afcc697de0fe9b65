"""The issue's "How we will check it", end to end through the API and the command line:

an emergency order from an officer answered with a signed package inside its clock (simulated
time); `rempart verify package` passes on it and fails on any flipped byte; a hold blocks a
user's deletion and a retention job; an officer of another agency sees nothing; a gagged
request sends no user notification (tests/legal/test_legal_api.py shows the webhook); forged
officer credentials, malformed orders and oversized attachments get clear errors and create
nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from rempart.api.app import create_app
from rempart.authz import Actor, Role
from rempart.cli import app as cli
from rempart.legal.db.models import LegalOrder
from rempart.moderation import HoldActive
from rempart.moderation.holds import delete_account_data, retention_sweep
from rempart.moderation.models import Gag, Hold
from rempart.store.db import utcnow
from tests.legal.desk_helpers import agency_with_officer, epoc, epoc_pr, items_of
from tests.openapi_check import checked_client
from tests.web.web_helpers import make_users

ADMIN = Actor(None, "retention-job", Role.ADMIN)


@pytest.fixture
def client(runtime):
    with checked_client(create_app(runtime, outbox_worker=False, witness_worker=False),
                        raise_server_exceptions=False) as c:
        yield c


def counts(runtime) -> tuple[int, int, int]:
    with runtime.db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (LegalOrder, Hold, Gag))


def test_how_we_will_check_it(runtime, client, cli_env, tmp_path):
    _, _, key, _ = agency_with_officer(runtime)
    _, _, other_key, _ = agency_with_officer(runtime, "Polizei Berlin", "DE", "police", "officer-2")
    items_of(runtime, "u-123")
    ana = make_users(runtime, {"ana": Role.LEGAL})["ana"].actor
    auth = {"Authorization": f"Bearer {key}"}
    now = utcnow()

    # bad requests: clear errors, nothing created
    assert client.post("/v1/legal/orders", json={"order": epoc(now, emergency=True)},
                       headers={"Authorization": "Bearer rl_" + "x" * 43}).status_code == 401
    bad = client.post("/v1/legal/orders", json={"order": epoc(now, emergency=True) | {"issued_at": "yesterday"}},
                      headers=auth)
    assert bad.status_code == 422 and bad.json()["errors"][0][0] == "issued_at"
    huge = base64.b64encode(b"%PDF" + b"0" * runtime.legal.config.max_attachment_bytes).decode()
    big = client.post("/v1/legal/orders", headers=auth, json={
        "order": epoc(now, emergency=True), "attachments": [{"name": "form1.pdf", "content_base64": huge}]})
    assert big.status_code == 413 and "larger than" in big.json()["title"]
    assert counts(runtime) == (0, 0, 0)

    # an emergency production order, answered inside its 8 hours (simulated time)
    r = client.post("/v1/legal/orders", json={"order": epoc(now, emergency=True)}, headers=auth)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["clock"] == "emergency_production"
    received = dt.datetime.fromisoformat(order["received_at"])
    assert dt.datetime.fromisoformat(order["deadline"]) - received == dt.timedelta(hours=8)
    with runtime.db.session() as s:
        row = s.get(LegalOrder, order["id"])
        runtime.legal.produce(s, ana, row, tmp_path / "answer.zip", now=received + dt.timedelta(hours=3))
    status = client.get(f"/v1/legal/orders/{order['id']}", headers=auth).json()
    assert status["status"] == "answered" and status["sla"] == "met" and len(status["deliveries"]) == 1

    # the officer of another agency sees nothing
    assert client.get(f"/v1/legal/orders/{order['id']}", headers={"Authorization": f"Bearer {other_key}"}).status_code == 404

    # rempart verify package: passes, and fails on any flipped byte
    runner = CliRunner()
    vkey = runtime.legal.vkey()
    ok = runner.invoke(cli, ["verify", "package", str(tmp_path / "answer.zip"), "--vkey", vkey, "--json"])
    assert ok.exit_code == 0, ok.output
    data = (tmp_path / "answer.zip").read_bytes()
    for at in range(0, len(data), max(1, len(data) // 40)):
        flipped = bytearray(data)
        flipped[at] ^= 0x01
        (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
        res = runner.invoke(cli, ["verify", "package", str(tmp_path / "flipped.zip"), "--vkey", vkey, "--json"])
        assert res.exit_code == 1, at
        assert json.loads(res.stdout.splitlines()[0])["ok"] is False

    # a preservation order: its hold blocks the user's deletion and the retention job
    r = client.post("/v1/legal/orders", json={"order": epoc_pr(now, reference="PAR-PR-9")}, headers=auth)
    assert r.status_code == 201
    with runtime.db.session() as s:
        with pytest.raises(HoldActive):
            delete_account_data(s, ADMIN, "u-123", runtime.evidence)
    with runtime.db.session() as s:
        assert retention_sweep(s, ADMIN, utcnow() + dt.timedelta(days=1), runtime.evidence)["deleted"] == 0

    # the CLI lists both orders with their packages
    listed = runner.invoke(cli, ["legal", "list", "--json"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {(x["type"], len(x["packages"])) for x in rows} == {("epoc", 1), ("epoc_pr", 0)}
