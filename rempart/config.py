"""Where rempart keeps its data and how it connects, read from the environment.

REMPART_HOME          directory for the embedded default (SQLite file, media, keys); default ./.rempart
REMPART_DATABASE_URL  SQLAlchemy URL; default sqlite:///$REMPART_HOME/rempart.db
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        home = Path(env.get("REMPART_HOME") or "./.rempart").expanduser().resolve()
        url = env.get("REMPART_DATABASE_URL") or f"sqlite:///{home / 'rempart.db'}"
        return cls(home=home, database_url=url)

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home
