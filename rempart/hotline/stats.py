"""Per-organisation statistics (pure): notices, share actioned, median time to action, and the
share of unfounded notices (decided with no action: DSA Art. 22(6) looks at these)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from rempart.hotline.vocab import FINAL_STATUSES, Status

#: at least this many decided notices before an unfounded share is worth flagging
MIN_DECIDED = 5
#: flag an organisation when more than this share of its decided notices were unfounded
UNFOUNDED_FLAG = 0.5


@dataclass(frozen=True)
class OrgStats:
    notices: int
    decided: int
    actioned: int
    unfounded: int
    median_hours_to_action: float | None

    @property
    def share_actioned(self) -> float | None:
        return self.actioned / self.decided if self.decided else None

    @property
    def share_unfounded(self) -> float | None:
        return self.unfounded / self.decided if self.decided else None

    @property
    def flagged(self) -> bool:
        """Many unfounded notices: a lead should look (and may suspend, Art. 22(6))."""
        share = self.share_unfounded
        return self.decided >= MIN_DECIDED and share is not None and share > UNFOUNDED_FLAG

    def to_json(self) -> dict:
        return {"notices": self.notices, "decided": self.decided, "actioned": self.actioned,
                "unfounded": self.unfounded, "share_actioned": self.share_actioned,
                "median_hours_to_action": self.median_hours_to_action,
                "flagged_unfounded": self.flagged}


def org_stats(rows: Iterable[tuple[str, dt.datetime, dt.datetime | None]]) -> OrgStats:
    """From (status, received_at, decided_at) of each notice of one organisation."""
    n = decided = actioned = unfounded = 0
    hours: list[float] = []
    for status, received, decided_at in rows:
        n += 1
        if Status(status) not in FINAL_STATUSES:
            continue
        decided += 1
        if status == Status.NO_ACTION.value:
            unfounded += 1
        if status == Status.ACTIONED.value:
            actioned += 1
            if decided_at is not None:
                hours.append((decided_at - received).total_seconds() / 3600)
    median = round(statistics.median(hours), 3) if hours else None
    return OrgStats(n, decided, actioned, unfounded, median)
