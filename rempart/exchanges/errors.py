"""Errors of the exchanges (pure).

    ExchangeUnavailable   the upstream did not answer usably after every retry: nothing of the
                          page was applied and the checkpoint did not move (``retry_after``)
    BadPage               one answer that cannot be read as a page (truncated, not XML/JSON, a
                          bad signature): the page is fetched again, never half-applied
"""

from __future__ import annotations

from rempart.errors import RempartError


class ExchangeUnavailable(RempartError):
    type = "exchange-unavailable"
    status = 502

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadPage(RempartError):
    type = "bad-page"
    status = 502
