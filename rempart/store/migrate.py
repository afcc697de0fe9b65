"""Run Alembic migrations programmatically (no alembic.ini needed), and check a schema is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from rempart.errors import SchemaNotCurrent
from rempart.store.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
INSTRUCTION = "run `rempart migrate`"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the database schema up to ``revision`` (default: every head, the latest)."""
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet (connecting would create it)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    path = Path(u.database)
    return None if path.exists() else path


def current_revision(db: Database) -> str:
    """The schema revision(s) the database is at, comma-separated ("" when none)."""
    with db.engine.connect() as conn:
        return ",".join(sorted(MigrationContext.configure(conn).get_current_heads()))


def require_current(db: Database) -> None:
    """Raise ``SchemaNotCurrent`` unless the schema is exactly at this code's latest revisions.

    Reads only: an empty database, an older schema and one newer than this code are all refused
    with what to do, instead of being migrated behind the caller's back; a SQLite file that
    does not exist is not created.
    """
    missing = _missing_sqlite_file(db.url)
    if missing is not None:
        raise SchemaNotCurrent(f"no database at {missing}: {INSTRUCTION}")
    script = ScriptDirectory.from_config(alembic_config(db.url))
    heads = set(script.get_heads())
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current == heads:
        return
    if not current:
        raise SchemaNotCurrent(f"the database has no rempart schema yet: {INSTRUCTION}")
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        raise SchemaNotCurrent(f"the database schema ({', '.join(sorted(current))}) is newer "
                               "than this rempart: upgrade rempart")
    raise SchemaNotCurrent(f"the database schema ({', '.join(sorted(current))}) is older than "
                           f"this rempart's ({', '.join(sorted(heads))}): {INSTRUCTION}")
