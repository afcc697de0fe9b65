"""Moderation errors (children of ``rempart.errors``; safe to show)."""

from __future__ import annotations

from rempart.errors import Conflict, InvalidInput


class ClaimConflict(Conflict):
    """The case is claimed by someone else (or not claimable in its state)."""

    type = "claim-conflict"


class NotClaimed(Conflict):
    """The actor must hold a live claim on the case to do this."""

    type = "not-claimed"


class AlreadyDecided(Conflict):
    """Someone else's submission moved the case, decision or appeal on first (a double click,
    a retry, a colleague): this one changed nothing."""

    type = "already-decided"


class ExposureLimitReached(Conflict):
    """The reviewer's daily reveal budget is spent: take a break; metadata-only work goes on."""

    type = "exposure-limit-reached"
    status = 429

    def __init__(self, reveals: int, limit: int) -> None:
        super().__init__(f"daily exposure budget reached ({reveals}/{limit} reveals): "
                         "please take a break; no media cases are served until tomorrow")
        self.reveals = reveals
        self.limit = limit


class HoldActive(Conflict):
    """A preservation hold forbids deleting the case's data."""

    type = "preservation-hold"


class AppealWindowClosed(InvalidInput):
    type = "appeal-window-closed"
