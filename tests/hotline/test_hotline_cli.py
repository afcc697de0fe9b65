"""``rempart org``: organisations, keys shown once, analysts, suspension, webhook endpoints."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rempart.api.tokens import authenticate
from rempart.cli import app
from rempart.errors import AuthError
from rempart.runtime import Runtime


@pytest.fixture
def cli(cli_env):
    runner = CliRunner()
    Runtime(cli_env).close()  # the schema, as `rempart migrate` makes it

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def test_org_commands(cli, cli_env):
    r = cli("org", "add", "Hotline FR", "--kind", "hotline", "--country", "fr", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"org", "key"} and out["org"]["country"] == "FR"
    rt = Runtime(cli_env, migrate=False)
    with rt.db.session() as s:
        assert authenticate(s, out["key"]).org_id == out["org"]["id"]
    assert cli("org", "add", "Hotline FR", "--kind", "hotline").exit_code == 1  # exists
    assert cli("org", "add", "X Org", "--kind", "police").exit_code == 1  # not a kind
    key2 = json.loads(cli("org", "key", "Hotline FR", "--json").stdout)["key"]
    analyst = json.loads(cli("org", "analyst", "add", "Hotline FR", "ana", "--json").stdout)
    assert analyst["role"] == "analyst" and analyst["one_time_password"]
    assert cli("user", "add", "bob", "--role", "analyst").exit_code == 1  # needs an organisation
    hook = json.loads(cli("org", "webhook", "Hotline FR", "https://hotline.example/h",
                          "--json").stdout)
    assert hook["secret"] and hook["url"] == "https://hotline.example/h"
    assert "suspended" in cli("org", "suspend", "Hotline FR", "--reason", "test").stdout
    row = json.loads(cli("org", "list", "--json").stdout.splitlines()[0])
    assert row["suspended"] and row["notices"] == 0
    assert "reinstated" in cli("org", "reinstate", "Hotline FR").stdout
    assert "2 key(s) revoked" in cli("org", "revoke-keys", "Hotline FR").stdout
    with rt.db.session() as s, pytest.raises(AuthError):
        authenticate(s, key2)
    assert cli("token", "create", "x", "--scope", "reporter").exit_code == 1  # an org's only
    rt.close()
