"""The transparency and verify commands end to end: demo -> close-day -> publish -> verify."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.transparency import parse_checkpoint, parse_note, verify_consistency
from tests.factories import image_bytes


@pytest.fixture
def cli(cli_env):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def _checkpoint(signed: bytes):
    return parse_checkpoint(parse_note(signed)[0])


def test_demo_close_day_publish_verify(cli, tmp_path):
    today = dt.datetime.now(dt.timezone.utc).date()
    r = cli("demo", "--uploads", "30", "--json")
    assert r.exit_code == 0
    summary = json.loads(r.stdout.splitlines()[-1])
    log = summary["transparency_log"]
    blocks = summary["verdicts"]["block"]
    # every automatic block, plus the demo reviewers' enforcement decisions, then the report
    assert blocks > 0 and log["decisions"] > blocks and log["size"] == log["decisions"] + log["notices"] + 1
    # the demo closed its day already: a second close is refused, and so is a future day
    r = cli("transparency", "close-day", log["day"])
    assert r.exit_code == 1 and "already closed" in r.output
    assert cli("transparency", "close-day", (today + dt.timedelta(days=1)).isoformat()).exit_code == 1
    assert cli("transparency", "close-day", "29-11-2026").exit_code == 1

    vkey = cli("transparency", "vkey").stdout.strip()
    assert vkey.startswith("rempart.local/log+")
    pub = tmp_path / "pub"
    r = cli("transparency", "publish", pub, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["size"] == log["size"]
    assert (pub / "vkey").read_text().strip() == vkey

    for path in pub.rglob("*"):  # the demo's simulated accounts and groups never leave the database
        assert not path.is_file() or (b"acct-" not in path.read_bytes() and b"group-" not in path.read_bytes())
    r = cli("verify", "report", log["day"], "--log", pub, "--vkey", vkey, "--json")
    assert r.exit_code == 0, r.output
    verdict = json.loads(r.stdout)
    assert verdict["ok"] and verdict["details"]["decisions"] == log["decisions"]
    assert verdict["details"]["notices"] == log["notices"] > 0  # the demo NGO's, recounted
    r = cli("verify", "report", log["day"], "--log", pub, "--vkey", pub / "vkey")
    assert r.exit_code == 0 and "VERIFIED" in r.stdout
    # a witness policy the checkpoint does not meet fails; a malformed witness key is refused
    from rempart.transparency.cosignature import CosignatureSigner

    witness = CosignatureSigner.generate("witness.example").verifier().vkey()
    r = cli("verify", "report", log["day"], "--log", pub, "--vkey", vkey, "--witness", witness)
    assert r.exit_code == 1 and "witness cosignatures" in r.output
    r = cli("verify", "report", log["day"], "--log", pub, "--vkey", vkey, "--witness", "nope")
    assert r.exit_code == 1 and "witness policy" in r.output

    # receipts: the demo's first block, with and without the private opening
    receipt = tmp_path / "receipt.json"
    assert cli("transparency", "receipt", 0, "-o", receipt).exit_code == 0
    assert receipt.stat().st_mode & 0o777 == 0o600
    r = cli("verify", "receipt", receipt, "--vkey", vkey, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["details"]["key_pinned"] is True
    other = tmp_path / "other.bin"
    other.write_bytes(b"not the content")
    r = cli("verify", "receipt", receipt, "--content", other, "--vkey", vkey)
    assert r.exit_code == 1 and "not the content the decision is about" in r.output
    r = cli("transparency", "receipt", log["report_leaf"])
    assert r.exit_code == 1 and "receipts are for decisions" in r.output
    assert "private_opening" not in cli("transparency", "receipt", 0, "--no-opening").stdout

    # consistency: a new block grows the log; the new checkpoint extends the published one
    old = tmp_path / "old-checkpoint"
    old.write_bytes((pub / "checkpoint").read_bytes())
    upload = tmp_path / "uploads" / "known.jpg"
    upload.parent.mkdir()
    upload.write_bytes(image_bytes(0))  # banked by the demo
    assert "block" in cli("scan", upload).stdout
    new = tmp_path / "new-checkpoint"
    new.write_text(cli("transparency", "checkpoint").stdout)
    assert cli("transparency", "publish", pub).exit_code == 0
    r = cli("verify", "consistency", old, new, "--log", pub, "--vkey", vkey)
    assert r.exit_code == 0, r.output
    r = cli("verify", "consistency", new, old, "--log", pub, "--vkey", vkey)
    assert r.exit_code == 1
    a, b = _checkpoint(old.read_bytes()), _checkpoint(new.read_bytes())
    assert b.size == a.size + 1
    lines = cli("transparency", "prove-consistency", a.size, b.size).stdout.split()
    verify_consistency(a.size, b.size, [base64.b64decode(x) for x in lines], a.root, b.root)
    assert cli("transparency", "prove-consistency", b.size + 1, b.size + 2).exit_code == 1

    # tampering: the verifier exits non-zero with a clear reason
    for bundle in (pub / "tile" / "entries").rglob("*.p/*"):
        bundle.write_bytes(bundle.read_bytes().replace(b"day ", b"dax ", 1))
    r = cli("verify", "report", log["day"], "--log", pub, "--vkey", vkey)
    assert r.exit_code == 1 and "NOT VERIFIED" in r.output and "does not match" in r.output
