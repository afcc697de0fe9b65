"""Commands that do not match never load the matcher; big imports stream; snapshots are used."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rempart.banks.replica import Replica
from rempart.cli import app
from tests.factories import image_bytes


@pytest.fixture
def cli(cli_env):
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


def test_commands_that_do_not_match_never_load_the_matcher(cli, tmp_path, monkeypatch):
    data = "".join(f"pdq {i:064x}\n" for i in range(1, 3001))
    (tmp_path / "list.te").write_text(data)
    assert cli("bank", "create", "big").exit_code == 0
    r = cli("bank", "import", "big", tmp_path / "list.te", "--json")
    assert r.exit_code == 0 and json.loads(r.output.splitlines()[-1])["added"] == 3000

    def refuse(*_a, **_k):
        raise AssertionError("the matcher was loaded")

    monkeypatch.setattr(Replica, "load", classmethod(refuse))
    monkeypatch.setattr("rempart.banks.snapshots.SnapshotStore.load", refuse)
    r = cli("bank", "list", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["active_entries"] == 3000
    for args in (("bank", "create", "other"), ("bank", "disable", "1"), ("bank", "remove", "2"),
                 ("token", "list"), ("bank", "export", "big", "-o", tmp_path / "out.te")):
        assert cli(*args).exit_code == 0, args
    assert (tmp_path / "out.te").read_text().count("\n") == 2998  # one disabled, one removed
    # A command that matches does load it (and fails here, as the refusal says).
    (tmp_path / "a.png").write_bytes(image_bytes(3))
    with pytest.raises(AssertionError, match="matcher was loaded"):
        cli("scan", tmp_path / "a.png")


def test_scan_starts_from_the_snapshot_and_applies_later_changes(cli, tmp_path, monkeypatch):
    (tmp_path / "a.png").write_bytes(image_bytes(3))
    hashed = json.loads(cli("hash", tmp_path / "a.png", "--json").output)
    assert cli("bank", "create", "known").exit_code == 0
    r = cli("bank", "snapshot", "--json")
    assert r.exit_code == 0
    snap = json.loads(r.output)
    assert snap["entries"] == 0 and snap["loaded_from"].startswith("database (no snapshot")
    (tmp_path / "list.te").write_text(f"md5 {hashed['md5']}\n")  # banked after the snapshot
    assert cli("bank", "import", "known", tmp_path / "list.te").exit_code == 0
    monkeypatch.setattr(Replica, "load", classmethod(lambda *_a: (_ for _ in ()).throw(
        AssertionError("loaded from the database"))))
    r = cli("scan", tmp_path / "a.png", "--json")
    assert json.loads(r.output.splitlines()[0])["verdict"] == "block"
    again = json.loads(cli("bank", "snapshot", "--json").output)
    assert again["loaded_from"].startswith("snapshot replica-") and again["entries"] == 1


def test_import_from_standard_input_detects_the_format(cli):
    assert cli("bank", "create", "piped").exit_code == 0
    data = "type,value\n" + "".join(f"md5,{i:032x}\n" for i in range(1, 101))
    r = cli("bank", "import", "piped", "-", "--json", input=data)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.splitlines()[-1])
    assert out["format"] == "csv" and out["added"] == 100
