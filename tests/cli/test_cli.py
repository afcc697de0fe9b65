"""The command-line contract that scripts rely on: JSON lines, exit codes, REMPART_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from tests.factories import image_bytes


@pytest.fixture
def cli(cli_env):
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def pictures(tmp_path):
    folder = tmp_path / "uploads"
    (folder / "nested").mkdir(parents=True)
    (folder / "known.jpg").write_bytes(image_bytes(40))
    (folder / "nested" / "copy.png").write_bytes(image_bytes(40, "greyscale"))
    (folder / "other.jpg").write_bytes(image_bytes(10_040))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    return folder


def test_hash_json_contract(cli, testdata):
    f = testdata / "images/pdq/bridge-mods/aaa-orig.jpg"
    r = cli("hash", "--json", f)
    assert r.exit_code == 0
    (obj,) = lines(r.stdout)
    assert set(obj) == {"file", "sha256", "md5", "sha1", "pdq", "pdq_quality"}
    assert obj["pdq"] == "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    assert obj["pdq_quality"] == 100


def test_hash_reports_unreadable_files_and_exits_non_zero(cli, pictures):
    r = cli("hash", "--json", pictures / "broken.jpg", pictures / "known.jpg", pictures / "missing.jpg")
    assert r.exit_code == 1
    objs = lines(r.stdout)
    assert [("error" in o) for o in objs] == [True, False, True]


@pytest.fixture
def uploads_by_id(tmp_path):
    """A folder as platforms keep uploads: files named by id, no suffix; plus a text file, a
    link back up the tree (a loop), a broken link and a named pipe."""
    folder = tmp_path / "by-id"
    (folder / "2024").mkdir(parents=True)
    (folder / "7f3a01").write_bytes(image_bytes(40))
    (folder / "2024" / "9c11e0").write_bytes(image_bytes(40, "greyscale"))
    (folder / "2024" / "a0b1.tmp").write_bytes(image_bytes(10_040))
    (folder / "2024" / "up").symlink_to(folder)
    (folder / "gone").symlink_to(folder / "missing")
    (folder / "notes.txt").write_text("not a picture")
    os.mkfifo(folder / "pipe")
    return folder


WALKED = ["2024/9c11e0", "2024/a0b1.tmp", "7f3a01", "gone", "notes.txt"]


def test_hash_walks_every_file_whatever_its_name(cli, uploads_by_id):
    r = cli("hash", "--json", uploads_by_id)
    assert r.exit_code == 1  # the text file and the broken link
    objs = lines(r.stdout)
    assert [Path(o["file"]).relative_to(uploads_by_id).as_posix() for o in objs] == WALKED
    by_name = {Path(o["file"]).name: o for o in objs}
    assert by_name["7f3a01"]["pdq"] and by_name["9c11e0"]["pdq"] and by_name["a0b1.tmp"]["pdq"]
    assert by_name["notes.txt"]["error"].startswith("unrecognised media type")
    assert set(by_name["gone"]) == {"file", "error"} and "no file" in by_name["gone"]["error"]


def test_scan_walks_every_file_and_reports_the_unreadable_ones(cli, uploads_by_id, pictures):
    cli("bank", "create", "known")
    assert cli("bank", "add", "known", pictures / "known.jpg").exit_code == 0
    r = cli("scan", "--json", uploads_by_id)
    assert r.exit_code == 1
    objs = lines(r.stdout)
    assert [Path(o["file"]).relative_to(uploads_by_id).as_posix() for o in objs] == WALKED
    verdicts = {Path(o["file"]).name: o.get("verdict", "error") for o in objs}
    assert verdicts == {"7f3a01": "block", "9c11e0": "block", "a0b1.tmp": "allow",
                        "gone": "error", "notes.txt": "error"}
    assert "2 unreadable" in r.stderr


def test_bank_scan_import_export_round(cli, pictures, tmp_path):
    assert cli("bank", "create", "known", "--threshold", "31").exit_code == 0
    assert cli("bank", "create", "known").exit_code == 1  # exists: clear error
    r = cli("bank", "add", "known", pictures / "known.jpg", "--json")
    assert r.exit_code == 0 and lines(r.stdout)[0]["added"] == 5  # + orb
    r = cli("scan", "--json", pictures)
    assert r.exit_code == 1  # the broken file
    by_file = {o["file"].split("/")[-1]: o for o in lines(r.stdout)}
    assert by_file["known.jpg"]["verdict"] == "block"
    assert by_file["copy.png"]["verdict"] == "block"
    assert by_file["copy.png"]["matches"][0].keys() == {"bank", "entry", "signal", "distance"}
    assert by_file["other.jpg"]["verdict"] == "allow"
    assert "error" in by_file["broken.jpg"]

    export = cli("bank", "export", "known", "--format", "csv").stdout
    assert export.startswith("type,value,external_id")
    listfile = tmp_path / "list.csv"
    listfile.write_text(export)
    assert cli("bank", "create", "copy").exit_code == 0
    r = cli("bank", "import", "copy", listfile, "--json")
    assert r.exit_code == 0 and lines(r.stdout)[0]["added"] == 4
    r = cli("bank", "list", "--json")
    # the orb entry (local features) is rempart's own: not in an exchange format
    assert {o["name"]: o["active_entries"] for o in lines(r.stdout)} == {"known": 5, "copy": 4}


def test_import_errors_are_line_numbered_and_nothing_is_imported(cli, tmp_path):
    cli("bank", "create", "b")
    bad = tmp_path / "bad.txt"
    bad.write_text("pdq " + "a" * 64 + "\npdq nothex\n")
    r = cli("bank", "import", "b", bad, "--format", "te")
    assert r.exit_code == 1 and "line 2" in r.stderr
    assert lines(cli("bank", "list", "--json").stdout)[0]["active_entries"] == 0
    assert cli("bank", "import", "nope", bad).exit_code == 1


def test_tokens(cli):
    r = cli("token", "create", "uploader", "--scope", "platform", "--json")
    token = lines(r.stdout)[0]["token"]
    assert token.startswith("rp_")
    assert token not in cli("token", "list", "--json").stdout
    assert cli("token", "create", "x", "--scope", "god").exit_code == 1


def test_every_command_has_help():
    for args in ([], ["bank"], ["token"], ["hash"], ["scan"], ["serve"], ["demo"],
                 ["bank", "import"], ["bank", "add"], ["bank", "export"]):
        r = subprocess.run([sys.executable, "-m", "rempart", *args, "--help"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "Usage" in r.stdout, args


def test_demo_runs_and_reports_a_summary(cli):
    r = cli("demo", "--uploads", "60", "--json")
    assert r.exit_code == 0
    summary = lines(r.stdout)[0]
    assert summary["uploads"] >= 60 and summary["correct"] == summary["uploads"]
    assert summary["verdicts"].get("block", 0) > 0 and summary["retro_matches"] >= 1
    big = summary["big_bank"]  # a big list streamed in, a snapshot written and started from
    assert big["imported"] == 20_000 and big["retro_job"] is not None
    assert big["started_from"] == "snapshot" and big["same_entries"]
    assert big["snapshot_entries"] >= 20_000
    stages = summary["stages"]  # what PDQ misses: caught, explained, stage 2 alone to review
    assert stages["captioned"]["verdict"] == "block"
    assert any(m.startswith("pdq-peeled") for m in stages["captioned"]["matched"])
    assert stages["cropped-turned"]["verdict"] == "review"
    assert stages["cropped-turned"]["matched"][0].startswith("orb: ")
    photo = summary["photo_hashing"]  # a 12 MP photo: scan path and banking path agree
    assert photo["matched"] and 0 <= photo["bits_apart"] <= 16
