"""Only ``rempart migrate``, ``serve`` and ``demo`` change the schema; every other command refuses
an empty, older or newer one with what to do, and changes nothing."""

from __future__ import annotations

import json

import pytest
from alembic.migration import MigrationContext
from sqlalchemy import text
from typer.testing import CliRunner

from rempart.cli import app
from rempart.config import ENVIRONMENT
from rempart.errors import SchemaNotCurrent
from rempart.store.db import Database
from rempart.store.migrate import require_current, upgrade


@pytest.fixture
def fresh(settings, monkeypatch):
    """The environment of a command over a database nobody has migrated yet."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REMPART_HOME", str(settings.home))
    monkeypatch.setenv("REMPART_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _revisions(url: str) -> set[str]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        db.dispose()


COMMANDS = [("bank", "list"), ("token", "list"), ("user", "list"), ("case", "list"),
            ("transparency", "checkpoint"), ("scan", __file__)]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_commands_refuse_an_empty_database_and_create_nothing(fresh, settings, args):
    r = fresh(*args)
    assert r.exit_code == 1
    assert "run `rempart migrate`" in " ".join(r.stderr.split())
    if settings.database_url.startswith("sqlite"):
        assert not settings.home.exists()  # not even the SQLite file
    else:
        assert _revisions(settings.database_url) == set()


def test_migrate_then_commands_work(fresh, settings):
    r = fresh("migrate")
    assert r.exit_code == 0 and "latest schema" in r.stderr
    assert fresh("bank", "list").exit_code == 0
    assert fresh("migrate").exit_code == 0  # idempotent


def test_commands_refuse_an_older_schema_and_leave_it_alone(fresh, settings):
    db = Database(settings.database_url)
    settings.ensure_home()
    try:
        upgrade(db, "0001")
    finally:
        db.dispose()
    r = fresh("bank", "list")
    assert r.exit_code == 1
    assert "older than this rempart" in r.stderr and "rempart migrate" in r.stderr
    assert _revisions(settings.database_url) == {"0001"}
    assert fresh("migrate").exit_code == 0
    assert fresh("bank", "list").exit_code == 0


def test_a_newer_schema_is_refused_with_its_own_instruction(cli_env):
    db = Database(cli_env.database_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999')"))
        with pytest.raises(SchemaNotCurrent, match="newer than this rempart: upgrade rempart"):
            require_current(db)
    finally:
        db.dispose()


def test_serve_migrates(fresh, settings, monkeypatch):
    import uvicorn

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    r = fresh("serve", "--port", "8123")
    assert r.exit_code == 0 and served == [{"host": "127.0.0.1", "port": 8123, "log_level": "info",
                                                     "log_config": None}]  # JSON logs (rempart.observe.logs)
    assert fresh("bank", "list").exit_code == 0


def test_demo_on_a_fresh_home_migrates(fresh):
    r = fresh("demo", "--uploads", "20", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.splitlines()[-1])["uploads"] >= 20
