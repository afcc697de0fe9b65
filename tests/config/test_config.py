"""Configuration in one place: the environment and the TOML file, read by ``Settings`` only, with
every bad value refused at start-up by name."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.config import ENVIRONMENT, Settings
from rempart.errors import InvalidConfig
from rempart.moderation import CaseSource, ModerationConfig
from rempart.signals import DEFAULT_LIMITS
from rempart.transparency import DEFAULT_ORIGIN
from tests.factories import image_bytes

PACKAGE = Path(__file__).resolve().parents[2] / "rempart"

TUNED = """
[log]
origin = "example.org/rempart"
region = "DE"

[limits]
max_image_bytes = 1000000
decode_seconds = 5

[moderation]
daily_reveal_limit = 12
claim_ttl_minutes = 45
platform_bank = "our-confirmed"
list_ranks = { ncmec = 0, iwf = 1 }

[moderation.queues.urgent]
sla_hours = 2
warn_fraction = 0.5

[moderation.queues.hotline]
sla_hours = 4.5
child_safety = true
description = "Notices from INHOPE hotlines"

[[moderation.routes]]
queue = "hotline"
source = "trusted_flagger"

[[moderation.routes]]
queue = "reports"

[moderation.policies.spam]
legal_ground = "Terms, section 9"

[moderation.policies.scam]
title = "Scams"
dsa_category = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
illegal = false
legal_ground = "Terms, section 7"

[witnesses]
timeout_seconds = 3
retry_seconds = 20
"""


def test_defaults_are_the_documented_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({})
    assert s.home == tmp_path / ".rempart"
    assert s.database_url == f"sqlite:///{tmp_path / '.rempart' / 'rempart.db'}"
    assert (s.log_origin, s.log_region) == (DEFAULT_ORIGIN, "EU") == (
        ENVIRONMENT["REMPART_LOG_ORIGIN"], ENVIRONMENT["REMPART_LOG_REGION"])
    assert s.limits == DEFAULT_LIMITS and s.moderation == ModerationConfig()
    assert (s.witness_timeout, s.witness_retry) == (10.0, 60.0)
    assert s.config_file is None


def test_environment_sets_the_deployment(tmp_path):
    s = Settings.from_env({"REMPART_HOME": str(tmp_path / "h"),
                           "REMPART_DATABASE_URL": "postgresql+psycopg://u@db/rempart",
                           "REMPART_LOG_ORIGIN": "example.org/log", "REMPART_LOG_REGION": "FR"})
    assert s.home == tmp_path / "h" and s.database_url == "postgresql+psycopg://u@db/rempart"
    assert (s.log_origin, s.log_region) == ("example.org/log", "FR")


def test_the_file_in_home_tunes_queues_slas_taxonomy_budget_and_limits(tmp_path):
    (tmp_path / "rempart.toml").write_text(TUNED)
    s = Settings.from_env({"REMPART_HOME": str(tmp_path)})
    assert s.config_file == tmp_path / "rempart.toml"
    assert (s.log_origin, s.log_region) == ("example.org/rempart", "DE")
    assert s.limits.max_image_bytes == 1_000_000 and s.limits.decode_seconds == 5.0
    assert s.limits.max_pixels == DEFAULT_LIMITS.max_pixels
    m = s.moderation
    assert m.daily_reveal_limit == 12 and m.claim_ttl == dt.timedelta(minutes=45)
    assert m.platform_bank == "our-confirmed" and dict(m.list_ranks) == {"ncmec": 0, "iwf": 1}
    urgent = m.queue("urgent")
    assert urgent.sla.target == dt.timedelta(hours=2) and urgent.sla.warn_fraction == 0.5
    assert urgent.child_safety and urgent.description  # untouched fields keep their defaults
    assert m.queue("hotline").sla.target == dt.timedelta(hours=4, minutes=30)
    assert m.queue("appeals") == ModerationConfig().queue("appeals")
    assert m.route(CaseSource.TRUSTED_FLAGGER).name == "hotline"
    assert m.route(CaseSource.EMERGENCY).name == "reports"  # routes replaced as a whole
    assert m.taxonomy.get("spam").legal_ground == "Terms, section 9"
    assert m.taxonomy.get("spam").title == "Spam"
    assert m.taxonomy.get("scam").dsa_category == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    assert m.taxonomy.get("csam") == ModerationConfig().taxonomy.get("csam")
    assert (s.witness_timeout, s.witness_retry) == (3.0, 20.0)


def test_environment_wins_over_the_file_and_rempart_config_names_it(tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text(TUNED)
    s = Settings.from_env({"REMPART_HOME": str(tmp_path / "h"), "REMPART_CONFIG": str(other),
                           "REMPART_LOG_REGION": "GLOBAL"})
    assert s.config_file == other and s.log_region == "GLOBAL"
    assert s.log_origin == "example.org/rempart" and s.moderation.daily_reveal_limit == 12


def test_the_runtime_runs_on_the_settings(settings):
    from dataclasses import replace

    from rempart.runtime import Runtime

    tuned = replace(settings, log_region="DE", limits=replace(DEFAULT_LIMITS, max_frames=3),
                    moderation=replace(ModerationConfig(), daily_reveal_limit=7))
    rt = Runtime(tuned)
    try:
        assert rt.transparency.region == "DE" and rt.limits.max_frames == 3
        assert rt.moderation.daily_reveal_limit == 7 and rt.moderation.on_decision
    finally:
        rt.close()


BAD_FILES = [
    ("[limits]\nmax_pixels = -1\n", "limits.max_pixels", "must not be negative"),
    ("[limits]\nmax_pixels = 'many'\n", "limits.max_pixels", "must be an integer"),
    ("[limits]\nmax_pixel = 5\n", "limits.max_pixel", "unknown setting"),
    ("[moderation]\ndaily_reveal_limit = -2\n", "moderation.daily_reveal_limit", "negative"),
    ("[moderation]\ndaily_reveal_limit = true\n", "moderation.daily_reveal_limit", "integer"),
    ("[moderation]\nclaim_ttl_minutes = 0\n", "moderation.claim_ttl_minutes", "positive"),
    ("[moderation.list_ranks]\nncmec = 100\n", "moderation.list_ranks.ncmec", "between 0 and 99"),
    ("[moderation.queues.urgent]\nsla_hours = 0\n", "moderation.queues.urgent.sla_hours",
     "must be positive"),
    ("[moderation.queues.urgent]\nwarn_fraction = 1.5\n",
     "moderation.queues.urgent.warn_fraction", "between 0 and 1"),
    ("[moderation.queues.urgent]\nsla = 3\n", "moderation.queues.urgent.sla", "unknown setting"),
    ("[moderation.queues.new]\nchild_safety = true\n", "moderation.queues.new.sla_hours",
     "needs its SLA target"),
    ("[[moderation.routes]]\nqueue = 'nowhere'\n", "moderation.routes", "unknown queue"),
    ("[[moderation.routes]]\nsource = 'hash_review'\n", "moderation.routes[0].queue", "needs"),
    ("[[moderation.routes]]\nqueue = 'urgent'\nsource = 'pigeon'\n",
     "moderation.routes[0].source", "'pigeon' is not one of"),
    ("[moderation.policies.x]\ntitle = 'X'\ndsa_category = 'STATEMENT_CATEGORY_NOPE'\n",
     "moderation.policies", "'STATEMENT_CATEGORY_NOPE' is not allowed"),
    ("[moderation.policies.x]\ntitle = 'X'\ndsa_category = 'STATEMENT_CATEGORY_VIOLENCE'\n",
     "moderation.policies", "illegal_content_legal_ground: required"),
    ("[moderation.policies.x]\ntitle = 'X'\n", "moderation.policies.x.dsa_category", "needs"),
    ("[moderation.policies.spam]\nkeywords = 'KEYWORD_X'\n",
     "moderation.policies.spam.keywords", "list of strings"),
    ("[log]\nregion = 'Atlantis'\n", "log.region", "not EU, GLOBAL"),
    ("[log]\norigin = 'has space'\n", "log.origin", "cannot be a key name"),
    ("[log]\norigin = 7\n", "log.origin", "must be a string"),
    ("[queues]\n", "queues", "unknown setting"),
    ("[witnesses]\ntimeout_seconds = 0\n", "witnesses.timeout_seconds", "must be positive"),
    ("[witnesses]\nretry_seconds = 'often'\n", "witnesses.retry_seconds", "must be a number"),
    ("[witnesses]\nquorum = 2\n", "witnesses.quorum", "unknown setting"),  # the quorum is in the database
    ("[moderation\n", "", "not valid TOML"),
]


@pytest.mark.parametrize("text,key,reason", BAD_FILES, ids=[b[1] or "toml" for b in BAD_FILES])
def test_a_bad_file_value_is_refused_by_key(tmp_path, text, key, reason):
    (tmp_path / "rempart.toml").write_text(text)
    with pytest.raises(InvalidConfig) as excinfo:
        Settings.from_env({"REMPART_HOME": str(tmp_path)})
    assert excinfo.value.key == key
    message = str(excinfo.value)
    assert reason in message and str(tmp_path / "rempart.toml") in message and key in message


@pytest.mark.parametrize("name,value,reason", [
    ("REMPART_LOG_REGION", "XX", "not EU, GLOBAL"),
    ("REMPART_LOG_ORIGIN", "a+b", "cannot be a key name"),
    ("REMPART_DATABASE_URL", "not a url", "not a database URL"),
    ("REMPART_DATABASE_URL", "mysql://u@h/db", "not supported"),
    ("REMPART_CONFIG", "/nonexistent/rempart.toml", "no such file"),
])
def test_a_bad_environment_value_is_refused_by_name(tmp_path, name, value, reason):
    with pytest.raises(InvalidConfig) as excinfo:
        Settings.from_env({"REMPART_HOME": str(tmp_path), name: value})
    assert excinfo.value.key == name and str(excinfo.value).startswith(f"{name}: ")
    assert reason in str(excinfo.value)


def test_commands_exit_non_zero_naming_the_bad_key(cli_env, monkeypatch):
    runner = CliRunner()
    (cli_env.home / "rempart.toml").write_text("[moderation.queues.urgent]\nsla_hours = -1\n")
    for args in (["bank", "list"], ["serve"], ["migrate"], ["hash", __file__]):
        r = runner.invoke(app, args, catch_exceptions=False)
        assert r.exit_code == 1, args
        assert "moderation.queues.urgent.sla_hours: must be positive" in " ".join(r.stderr.split())
    (cli_env.home / "rempart.toml").unlink()
    monkeypatch.setenv("REMPART_LOG_REGION", "Mars")
    r = runner.invoke(app, ["bank", "list"], catch_exceptions=False)
    assert r.exit_code == 1 and "REMPART_LOG_REGION: 'Mars'" in r.stderr


def test_hash_and_scan_apply_the_configured_limits(cli_env, tmp_path):
    picture = tmp_path / "p.jpg"
    picture.write_bytes(image_bytes(3))
    (cli_env.home / "rempart.toml").write_text(f"[limits]\nmax_image_bytes = {len(picture.read_bytes()) - 1}\n")
    runner = CliRunner()
    for command in ("hash", "scan"):
        r = runner.invoke(app, [command, "--json", str(picture)], catch_exceptions=False)
        assert r.exit_code == 1
        assert "exceeds the limit" in r.stdout, command


def test_nothing_but_settings_reads_the_environment():
    readers = re.compile(r"os\.environ|getenv|environ\.get|environ\[")
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.name != "config.py" and readers.search(p.read_text())]
    assert offenders == []
    source = (PACKAGE / "config.py").read_text()
    assert set(re.findall(r"REMPART_[A-Z_]+", source)) == set(ENVIRONMENT)
