"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from rempart.store.db import Database
from rempart.store.migrate import upgrade
from rempart.store.models import metadata


def test_migrations_match_the_models(database_url):
    db = Database(database_url)
    try:
        upgrade(db)
        upgrade(db)  # idempotent: a second run is a no-op
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        db.dispose()
