"""Legal desk settings (pure): the ``[legal]`` table of the TOML file (``rempart.config``)::

    [legal]
    max_attachment_bytes = 5242880     # one attachment of an order (the signed form, a PDF)
    max_attachments = 5
    cybertipline_url = "https://report.cybertip.org/ispws"   # NCMEC's endpoint (or the test one)
    cybertipline_username = "..."      # the platform's ESP credentials
    cybertipline_password = "..."
    cybertipline_attempts = 3          # tries per step before the report waits for the next run
    reporter_email = "legal@platform.example"   # the reporting person NCMEC may contact

Without ``cybertipline_url`` no report is sent: "Refer to NCMEC" referrals wait, listed on the
desk, until it is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from rempart.errors import InvalidInput


@dataclass(frozen=True)
class LegalConfig:
    max_attachment_bytes: int = 5 * 1024 * 1024
    max_attachments: int = 5
    cybertipline_url: str | None = None
    cybertipline_username: str = ""
    cybertipline_password: str = ""
    cybertipline_attempts: int = 3
    reporter_email: str = "legal@platform.example"

    def __post_init__(self) -> None:
        if not 1 <= self.max_attachment_bytes <= 64 * 1024 * 1024:
            raise InvalidInput("max_attachment_bytes must be 1 byte to 64 MiB")
        if not 0 <= self.max_attachments <= 20:
            raise InvalidInput("max_attachments must be 0 to 20")
        if not 1 <= self.cybertipline_attempts <= 10:
            raise InvalidInput("cybertipline_attempts must be 1 to 10")
        url = self.cybertipline_url
        if url is not None and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise InvalidInput("cybertipline_url must be https (plain http only to this machine)")

    @property
    def max_order_body(self) -> int:
        """The largest ``POST /v1/legal/orders`` body: the order and its attachments in base64."""
        return 128 * 1024 + self.max_attachments * (self.max_attachment_bytes * 4 // 3 + 1024)
