"""``rempart agency``, ``officer``, ``legal`` and ``verify package|opening`` from the shell."""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from rempart.authz import Role
from rempart.cli import app
from rempart.legal.db.agencies import authenticate_officer
from rempart.legal.db.models import LegalOrder
from rempart.runtime import Runtime
from rempart.store.db import utcnow
from tests.legal.desk_helpers import epoc, items_of


@pytest.fixture
def cli(cli_env):
    runner = CliRunner()
    Runtime(cli_env).close()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def test_the_desk_from_the_shell(cli, cli_env, tmp_path):
    r = cli("agency", "add", "Parquet de Paris", "--country", "fr", "--kind", "prosecutor",
            "--phone", "+33100000000", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["country"] == "FR"
    assert cli("agency", "add", "No contact", "--country", "FR", "--kind", "police").exit_code == 1
    assert cli("agency", "add", "Bad kind", "--country", "FR", "--kind", "army", "--phone", "+33100000001").exit_code == 1
    assert "Parquet de Paris" in cli("agency", "list").stdout
    officer = json.loads(cli("officer", "add", "off-1", "--agency", "Parquet de Paris", "--json").stdout)
    assert officer["role"] == "officer" and officer["one_time_password"] and officer["totp_secret"]
    assert cli("officer", "add", "off-2", "--agency", "Nobody").exit_code == 1
    assert cli("user", "add", "off-3", "--role", "officer").exit_code == 1  # needs an agency
    rt = Runtime(cli_env, migrate=False)
    with rt.db.session() as s:
        actor = authenticate_officer(s, officer["api_key"])
        assert actor.role is Role.OFFICER
    items_of(rt, "u-123", 2)
    with rt.db.session() as s:
        order_id = rt.legal.receive(s, actor, epoc(utcnow(), confidential=False), []).id
    rows = [json.loads(x) for x in cli("legal", "list", "--json").stdout.splitlines()]
    assert [(x["id"], x["type"], x["agency"], x["status"]) for x in rows] == [(order_id, "epoc", "Parquet de Paris", "open")]
    assert rows[0]["deadline"] and rows[0]["packages"] == []
    first = json.loads(cli("legal", "package", order_id, "-o", tmp_path / "d1.zip", "--json").stdout)
    second = json.loads(cli("legal", "package", order_id, "-o", tmp_path / "d2", "--json").stdout)
    assert (first["delivery"], second["delivery"], second["previous"]) == (1, 2, first["manifest"])
    assert cli("legal", "package", order_id, "-o", tmp_path / "d1.zip").exit_code == 1  # exists
    assert cli("legal", "package", 999, "-o", tmp_path / "x.zip").exit_code == 1
    vkey = cli("legal", "vkey").stdout.strip()
    assert cli("verify", "package", tmp_path / "d1.zip", "--vkey", vkey).exit_code == 0
    assert cli("verify", "package", tmp_path / "d1.zip").exit_code == 0  # this installation's key
    assert cli("verify", "package", tmp_path / "d2", "--previous", first["manifest"]).exit_code == 0
    (tmp_path / "d2" / "media" / "extra.jpg").write_bytes(b"added")
    bad = cli("verify", "package", tmp_path / "d2", "--json")
    assert bad.exit_code == 1 and json.loads(bad.stdout.splitlines()[0])["details"]["problem"] == "added-file"
    # a non-confidential order, answered: its opening is published and checks against its leaf
    assert cli("transparency", "publish", tmp_path / "log").exit_code == 0
    with rt.db.session() as s:
        index = s.get(LegalOrder, order_id).leaf_index
    (tmp_path / "d1").mkdir()
    zipfile.ZipFile(tmp_path / "d1.zip").extract("order.json", tmp_path / "d1")
    ok = cli("verify", "opening", index, "--log", tmp_path / "log", "--vkey", rt.transparency.vkey(),
             "--content", tmp_path / "d1" / "order.json")
    assert ok.exit_code == 0, ok.output
    rt.close()
