"""Hotline settings (pure): the ``[hotline]`` table of the TOML file (``rempart.config``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rempart.errors import InvalidInput
from rempart.hotline.links import DEFAULT_FORMAT, LinkFormat
from rempart.hotline.notices import MAX_BATCH


@dataclass(frozen=True)
class HotlineConfig:
    #: how the platform's message links look: ``{account}``, ``{space}``, ``{message}``
    message_link: LinkFormat = field(default_factory=lambda: LinkFormat(DEFAULT_FORMAT))
    #: notices per request at most
    max_batch: int = MAX_BATCH
    #: notices one organisation may send per hour (past it: 429, nothing created)
    org_notices_per_hour: int = 10_000
    #: reports (form and on-device) one public source may send per hour
    public_reports_per_hour: int = 10
    #: a public form sent sooner than this after it was served is refused (no person is that fast)
    form_min_seconds: float = 3.0
    #: the bank that fingerprints from notices enter once a reviewer confirms them
    bank: str = "hotline-confirmed"

    def __post_init__(self) -> None:
        for name in ("max_batch", "org_notices_per_hour", "public_reports_per_hour"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be at least 1")
        if self.form_min_seconds < 0:
            raise InvalidInput("form_min_seconds must not be negative")
        if not self.bank.strip():
            raise InvalidInput("bank must be a bank name")
