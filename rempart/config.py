"""Where rempart keeps its data and how it connects, read from the environment.

REMPART_HOME           directory for the embedded default (SQLite file, media, keys);
                       default ./.rempart
REMPART_DATABASE_URL   SQLAlchemy URL; default sqlite:///$REMPART_HOME/rempart.db
REMPART_DECODE_MEMORY  bytes a server may hold at once for decoding uploads (all requests
                       together); a number with an optional K/M/G suffix (powers of 1024:
                       "1G", "768MiB"); default 1 GiB, sized for a 2-core, 4 GB node. Past it,
                       uploads wait briefly, then get 503 with Retry-After.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from rempart.errors import InvalidInput

DEFAULT_DECODE_MEMORY = 1 << 30
_SIZE = re.compile(r"\s*(\d{1,15})\s*(?:([KMG])(?:I?B)?|B)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    decode_memory: int = DEFAULT_DECODE_MEMORY

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        home = Path(env.get("REMPART_HOME") or "./.rempart").expanduser().resolve()
        url = env.get("REMPART_DATABASE_URL") or f"sqlite:///{home / 'rempart.db'}"
        memory = env.get("REMPART_DECODE_MEMORY")
        return cls(home=home, database_url=url,
                   decode_memory=DEFAULT_DECODE_MEMORY if not memory else parse_bytes(
                       memory, "REMPART_DECODE_MEMORY"))

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def parse_bytes(text: str, name: str) -> int:
    """``"1073741824"``, ``"1G"``, ``"1GiB"``, ``"768M"``... as bytes (K, M, G: powers of 1024)."""
    found = _SIZE.fullmatch(text)
    if found is None or int(found.group(1)) == 0:
        raise InvalidInput(f"{name} must be a positive size such as 1G or 768MiB, not "
                           f"'{text[:40]}'")
    unit = (found.group(2) or "").upper()
    return int(found.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[unit]
