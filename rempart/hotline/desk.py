"""What the hotline's services need of a running rempart, handed to them explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rempart.hotline.config import HotlineConfig
from rempart.moderation.config import ModerationConfig
from rempart.store.db import Database
from rempart.transparency.db.service import TransparencyLog


@dataclass(frozen=True)
class Desk:
    db: Database
    log: TransparencyLog
    #: the moderation settings as they are now (the runtime's, with its hooks)
    moderation: Callable[[], ModerationConfig]
    config: HotlineConfig
