"""The README's claims about the command line and the configuration, checked against the code:
every command it shows exists with the options it shows, every command exists in it, and the
variables, defaults and config file it documents are the ones ``Settings`` reads."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rempart.cli import app
from rempart.config import DEFAULT_WITNESS_RETRY, DEFAULT_WITNESS_TIMEOUT, ENVIRONMENT, Settings
from rempart.moderation import ModerationConfig
from rempart.moderation.config import DEFAULT_QUEUES
from rempart.signals import DEFAULT_LIMITS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


OPTION = re.compile(r"(?<![\w-])(--?[a-z][\w-]*)")
WORD = re.compile(r"[a-z][a-z-]*")


def _readme_commands() -> dict[tuple[str, ...], set[str]]:
    """command words -> the options the README shows for it, from every ``rempart`` line of the
    README's sh blocks (``a ARG | b ARG``: b is a sibling of a; indented lines continue)."""
    out: dict[tuple[str, ...], set[str]] = {}
    words: tuple[str, ...] = ()
    for line in "\n".join(_blocks("sh")).splitlines():
        line = line.split("  #")[0]
        if line.startswith(" ") and words:
            out[words] |= set(OPTION.findall(line))
            continue
        for part in line.split("&&"):
            m = re.search(r"(?:^|/)rempart (.*)", part.strip())
            words = ()
            for alternative in m.group(1).split(" | ") if m else ():
                names = tuple(itertools.takewhile(WORD.fullmatch, alternative.split()))
                words = words[:-1] + names if words and len(names) == 1 else names
                out.setdefault(words, set()).update(OPTION.findall(alternative))
    return out


COMMANDS = _readme_commands()


def _cli_commands(group=None, prefix=()) -> set[tuple[str, ...]]:
    group = group or typer.main.get_command(app)
    out = set()
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            out |= _cli_commands(cmd, prefix + (name,))
        else:
            out.add(prefix + (name,))
    return out


def test_the_readme_shows_the_commands_a_newcomer_needs():
    assert {("demo",), ("serve",), ("migrate",), ("scan",), ("hash",), ("bank", "create"),
            ("bank", "disable"), ("bank", "enable"), ("bank", "remove"), ("verify", "report"),
            ("transparency", "publish"), ("user", "add")} <= set(COMMANDS)


@pytest.mark.parametrize("words", sorted(COMMANDS), ids=" ".join)
def test_every_readme_command_exists_with_its_options(words):
    r = CliRunner().invoke(app, [*words, "--help"], catch_exceptions=False)
    assert r.exit_code == 0 and "Usage" in r.output, r.output
    shown = set(OPTION.findall(r.output))
    assert COMMANDS[words] <= shown, COMMANDS[words] - shown


def test_every_command_is_in_the_readme():
    assert _cli_commands() <= set(COMMANDS), _cli_commands() - set(COMMANDS)


def _variables() -> dict[str, str]:
    rows = re.findall(r"^\| `(REMPART_[A-Z_]+)` \| `([^`]*)` \|", README, re.M)
    return dict(rows)


def test_the_documented_variables_and_defaults_are_the_ones_read(tmp_path, monkeypatch):
    assert _variables() == ENVIRONMENT
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({})
    home = Path(_variables()["REMPART_HOME"]).resolve()
    assert s.home == home
    assert s.database_url == _variables()["REMPART_DATABASE_URL"].replace("$REMPART_HOME", str(home))
    assert s.log_origin == _variables()["REMPART_LOG_ORIGIN"]
    assert s.log_region == _variables()["REMPART_LOG_REGION"]


def test_the_documented_config_file_loads_and_shows_the_defaults(tmp_path):
    (text,) = _blocks("toml")
    (tmp_path / "rempart.toml").write_text(text)
    s = Settings.from_env({"REMPART_HOME": str(tmp_path)})
    doc = tomllib.loads(text)
    assert s.limits == DEFAULT_LIMITS
    assert {k: getattr(DEFAULT_LIMITS, k) for k in doc["limits"]} == doc["limits"]
    defaults = ModerationConfig()
    assert s.moderation.daily_reveal_limit == defaults.daily_reveal_limit == doc["moderation"]["daily_reveal_limit"]
    assert s.moderation.claim_ttl == defaults.claim_ttl
    assert s.moderation.platform_bank == defaults.platform_bank
    assert s.moderation.queues == defaults.queues  # the urgent queue as shown is the default
    assert s.moderation.taxonomy.get("scams").title == "Scams and fraud"
    assert (s.log_origin, s.log_region) == ("example.org/rempart", "DE")
    assert (s.witness_timeout, s.witness_retry) == (DEFAULT_WITNESS_TIMEOUT, DEFAULT_WITNESS_RETRY) == (
        doc["witnesses"]["timeout_seconds"], doc["witnesses"]["retry_seconds"])


def test_the_documented_queues_and_their_slas_are_the_defaults():
    documented = re.findall(r"`([a-z-]+)` \((\d+) (h|days)\)", README)
    assert [(name, dt.timedelta(hours=int(n) * (24 if unit == "days" else 1)))
            for name, n, unit in documented] == [(q.name, q.sla.target) for q in DEFAULT_QUEUES]
