"""``rempart user add|list`` and ``rempart case list``."""

from __future__ import annotations

import json

import pyotp
import pytest
from typer.testing import CliRunner

from rempart.cli import app
from tests.factories import image_bytes


@pytest.fixture
def cli(cli_env):
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _lines(out):
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def test_user_add_prints_credentials_once_and_list_never(cli, runtime):
    r = cli("user", "add", "Dana", "--role", "child-safety-moderator")
    assert r.exit_code == 0, r.output
    assert "one-time password" in r.output and "otpauth://totp/rempart:dana" in r.output
    r = cli("user", "add", "erin", "--role", "lead", "--json")
    (made,) = _lines(r.output)
    assert made["role"] == "lead" and pyotp.TOTP(made["totp_secret"]).now()
    listed = _lines(cli("user", "list", "--json").output)
    assert [u["username"] for u in listed] == ["dana", "erin"]
    assert all("one_time_password" not in u and "totp_secret" not in u for u in listed)
    bad = cli("user", "add", "frank", "--role", "system")
    assert bad.exit_code == 1
    dup = cli("user", "add", "erin", "--role", "lead")
    assert dup.exit_code == 1


def test_case_list_shows_the_queues(cli, tmp_path, runtime):
    known = tmp_path / "known.jpg"
    known.write_bytes(image_bytes(101))
    assert cli("bank", "create", "rl", "--action", "review").exit_code == 0
    assert cli("bank", "add", "rl", known).exit_code == 0
    assert cli("scan", known, "--account", "acct-a", "--space", "g").exit_code == 0
    rows = _lines(cli("case", "list", "--json").output)
    assert [(r["queue"], r["source"], r["account"], r["items"], r["sla"]) for r in rows] == [
        ("hash-review", "hash_review", "acct-a", 1, "ok")]
    assert _lines(cli("case", "list", "--queue", "urgent", "--json").output) == []
    assert cli("case", "list", "--queue", "nope").exit_code == 1
    assert "hash-review" in cli("case", "list").output
