"""Persistence: the SQLAlchemy base, engine and session handling, and Alembic migrations.

Domain models live beside their domain (``rempart.banks.models``, ``rempart.scanning.models``)
and all derive from ``Base`` here, so one metadata describes the schema.
"""

from rempart.store.db import Base, Database, utcnow

__all__ = ["Base", "Database", "utcnow"]
