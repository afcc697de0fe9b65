"""Shared fixtures: the benign test data (tests/data), and a fresh database per test.

The database is SQLite unless REMPART_TEST_DATABASE_URL names a PostgreSQL server (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test): then each test gets a database of its own
on that server, created and dropped around the test. ``scripts/test`` runs the suite both ways.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rempart.config import ENVIRONMENT, Settings
from tests.testdata import TESTDATA

pytest_plugins = ["tests.no_skips"]  # under CI=true, any skipped test fails the run


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2 with the smallest parameters: tests create many users and log in often;
    production keeps the library's recommended ones (a test that measures cost sets its own)."""
    from argon2 import PasswordHasher

    from rempart.people import credentials

    monkeypatch.setattr(credentials, "_hasher", PasswordHasher(time_cost=1, memory_cost=8,
                                                               parallelism=1))


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The benign test data carried in the repository (tests/data/README.md)."""
    return TESTDATA


def _postgres_database(server_url: str):
    url = make_url(server_url)
    name = f"rempart_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path):
    server = os.environ.get("REMPART_TEST_DATABASE_URL")
    if server:
        yield from _postgres_database(server)
    else:
        yield f"sqlite:///{tmp_path / 'rempart.db'}"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture
def runtime(settings):
    from rempart.runtime import Runtime

    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def cli_env(settings, monkeypatch) -> Settings:
    """The environment of a ``rempart`` command over this test's database, migrated as by
    ``rempart migrate``, with no REMPART_ variable inherited from the caller's shell."""
    from rempart.store.db import Database
    from rempart.store.migrate import upgrade

    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REMPART_HOME", str(settings.home))
    monkeypatch.setenv("REMPART_DATABASE_URL", settings.database_url)
    settings.ensure_home()
    db = Database(settings.database_url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    return settings
