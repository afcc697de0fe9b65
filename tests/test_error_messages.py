"""Error messages quote what the caller sent, never a Python representation of an object: in API
problems, console pages and command-line errors alike (``rempart.errors.shown``)."""

from __future__ import annotations

import enum
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rempart.api.app import create_app
from rempart.api.permissions import Scope
from rempart.api.tokens import issue_token
from rempart.cli import app as cli_app
from rempart.errors import NotFound

ROOT = Path(__file__).resolve().parent.parent
REPRS = re.compile(r"PosixPath\(|<\w+\.\w+: |b'|\['|\('")


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize("key, shown", [
    (Path("/data/x.png"), "'/data/x.png'"),
    (Colour.RED, "'red'"),
    (42, "42"),
    ("line\nbreak", "'line\\x0abreak'"),
])
def test_not_found_shows_the_key_not_its_repr(key, shown):
    assert str(NotFound("thing", key)) == f"no thing {shown}"


def test_api_problems_show_no_reprs(runtime):
    with runtime.db.session() as s:
        admin = issue_token(s, "admin", frozenset({Scope.ADMIN}))[1]
    with TestClient(create_app(runtime, outbox_worker=False)) as client:
        r = client.post("/v1/tokens", json={"name": "x", "scopes": ["platform", "nope"]},
                        headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 400
    assert "'platform', 'nope'" in r.json()["title"] and not REPRS.search(r.json()["title"])


def test_a_damaged_index_file_is_named_without_reprs(tmp_path):
    from rempart.errors import InvalidInput
    from rempart.matching.persist import read_pdq

    path = tmp_path / "index.rmpdq"
    path.write_bytes(b"NOTANIDX" + b"\0" * 64)
    with pytest.raises(InvalidInput) as excinfo:
        read_pdq(path)
    assert "4e4f54414e494458" in str(excinfo.value) and not REPRS.search(str(excinfo.value))


def test_cli_errors_quoting_markup_like_input_are_printed_as_text(runtime, settings, monkeypatch):
    monkeypatch.setenv("REMPART_HOME", str(settings.home))
    monkeypatch.setenv("REMPART_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli_app, ["bank", "disable", "1", "--until", "[/bold]x"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
    assert "--until: not an ISO date or date-time: '[/bold]x'" in result.output


def test_no_message_in_the_code_is_built_from_a_repr():
    """The rule, for every module: ``{value!r}`` only in log lines (never shown to users)."""
    found = []
    for path in sorted((ROOT / "rempart").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bf[\"'].*!r}", line) and not re.search(r"\blog(ger)?\.\w+\(", line):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == ["rempart/demo/pictures.py:122"]  # a ValueError for a programming error
