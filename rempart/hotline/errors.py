"""Errors of the hotline (pure). Each names the offending ``field`` (``notices[2].hashes[0].value``),
which the API's problem carries, so an organisation can fix its request."""

from __future__ import annotations

from rempart.errors import InvalidInput


class InvalidNotice(InvalidInput):
    """A notice that cannot be accepted as sent: nothing of its request was created."""

    type = "invalid-notice"
    status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class TooManyNotices(InvalidInput):
    """Past the rate allowed for one source; try again after ``retry_after`` seconds."""

    type = "rate-limited"
    status = 429

    def __init__(self, field: str, reason: str, retry_after: int) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.retry_after = retry_after
