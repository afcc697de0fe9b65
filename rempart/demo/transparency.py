"""The demo's transparency step: close the demo day with its report and a signed checkpoint.

The demo's automatic blocks are already in the log (the runtime's after-scan hook logged each
one in its scan's transaction); this closes the day they were logged on (today, UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

from rempart.errors import Conflict
from rempart.runtime import Runtime
from rempart.transparency.db import log_store


@dataclass
class DemoLog:
    day: str
    size: int
    report_leaf: int | None
    decisions: int
    note: str = ""
    notices: int = 0

    def to_json(self) -> dict:
        return {"day": self.day, "size": self.size, "report_leaf": self.report_leaf,
                "decisions": self.decisions, "notices": self.notices, "note": self.note}

    def render(self) -> list[str]:
        if self.report_leaf is None:
            closed = self.note
        else:
            closed = f"day {self.day} closed: report leaf {self.report_leaf} counts {self.decisions} decision(s) (automatic blocks and reviewers' decisions) and {self.notices} notice event(s)"
        return [
            f"  transparency log  {self.size} leaves; {closed}; checkpoint signed",
            "    publish:  rempart transparency publish DIR   (tiles, checkpoint, reports, vkey)",
            f"    verify:   rempart verify report {self.day} --log DIR --vkey DIR/vkey",
        ]


def close_demo_day(rt: Runtime) -> DemoLog:
    """Close today (UTC) in the log and sign a checkpoint; tolerate a day closed by an earlier run."""
    day = rt.transparency.today()
    with rt.db.session() as s:
        try:
            closed = rt.transparency.close_day(s, day)
        except Conflict:
            closed = []
        rt.transparency.sign_checkpoint(s)
        size = log_store.tree_size(s)
    mine = [c for c in closed if c.day == day.isoformat()]
    if not mine:
        return DemoLog(day.isoformat(), size, None, 0,
                       f"day {day} was closed by an earlier run; new blocks count in the next day's report")
    return DemoLog(day.isoformat(), size, mine[0].leaf_index, mine[0].decisions,
                   notices=mine[0].notices)
