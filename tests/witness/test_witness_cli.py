"""``rempart witness init`` and ``serve``'s refusals: clear messages, exit 1, nothing changed."""

from __future__ import annotations

from typer.testing import CliRunner

from rempart.cli import app
from rempart.transparency import CosignatureVerifier

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long messages


def test_init_prints_the_verifier_key_and_refuses_a_second_key(tmp_path):
    r = runner.invoke(app, ["witness", "init", str(tmp_path / "w"), "--name", "witness.example/w1"])
    assert r.exit_code == 0, r.output
    vkey = r.stdout.strip()
    assert CosignatureVerifier.from_vkey(vkey).name == "witness.example/w1"
    assert (tmp_path / "w" / "witness.vkey").read_text().strip() == vkey
    again = runner.invoke(app, ["witness", "init", str(tmp_path / "w"), "--name", "witness.example/w2"])
    assert again.exit_code == 1 and "already holds a witness key" in _flat(again.output)
    assert (tmp_path / "w" / "witness.vkey").read_text().strip() == vkey
    bad = runner.invoke(app, ["witness", "init", str(tmp_path / "x"), "--name", "has space"])
    assert bad.exit_code == 1 and "name" in _flat(bad.output)


def test_serve_refuses_what_it_cannot_run(tmp_path):
    r = runner.invoke(app, ["witness", "serve", str(tmp_path / "none"), "--log", "example.org/log+00000000+AA=="])
    assert r.exit_code == 1 and "no witness key" in _flat(r.output)
    runner.invoke(app, ["witness", "init", str(tmp_path / "w"), "--name", "witness.example/w1"])
    r = runner.invoke(app, ["witness", "serve", str(tmp_path / "w"), "--log", "not-a-key"])
    assert r.exit_code == 1 and "--log" in _flat(r.output)
