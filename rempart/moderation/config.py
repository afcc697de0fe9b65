"""Moderation settings and routing rules (pure). The runtime holds one ``ModerationConfig``.

Routing: the first ``Route`` whose conditions all hold names the case's queue. Queues named in
the config are created in the database on first use (``queues.ensure_queues``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rempart.errors import InvalidInput, InvariantViolation, shown
from rempart.moderation.clocks import Sla
from rempart.moderation.dual import DEFAULT_DUAL_REVIEW
from rempart.moderation.exposure import DEFAULT_DAILY_LIMIT
from rempart.moderation.policy import DEFAULT_TAXONOMY, Taxonomy
from rempart.moderation.vocab import ActionKind, CaseSource
from rempart.transparency import territorial_scope

H = dt.timedelta(hours=1)


@dataclass(frozen=True)
class QueueSpec:
    name: str
    sla: Sla
    #: child-safety queues: only people with ``CASES_CHILD_SAFETY`` are served their cases
    child_safety: bool = False
    description: str = ""


@dataclass(frozen=True)
class Route:
    """Send cases to ``queue`` when every given condition holds (None = any)."""

    queue: str
    source: CaseSource | None = None
    bank: str | None = None
    child_safety: bool | None = None

    def matches(self, source: CaseSource, bank: str | None, child_safety: bool) -> bool:
        return ((self.source is None or self.source == source)
                and (self.bank is None or self.bank == bank)
                and (self.child_safety is None or self.child_safety == child_safety))


DEFAULT_QUEUES = (
    QueueSpec("urgent", Sla(1 * H), child_safety=True,
              description="Emergencies and trusted-flagger notices"),
    QueueSpec("law-enforcement", Sla(8 * H), child_safety=True,
              description="Requests from police and judicial authorities"),
    QueueSpec("hash-review", Sla(24 * H), child_safety=True,
              description="Matches in review lists"),
    QueueSpec("hash-block", Sla(72 * H), child_safety=True,
              description="Automatic blocks to confirm or overturn"),
    QueueSpec("investigation", Sla(72 * H), child_safety=True,
              description="Entities confirmed from a blast radius"),
    QueueSpec("appeals", Sla(7 * 24 * H), child_safety=True, description="DSA Art. 20 appeals"),
    QueueSpec("reports", Sla(7 * 24 * H), description="Public reports (DSA Art. 16)"),
)

DEFAULT_ROUTES = (
    Route("urgent", source=CaseSource.EMERGENCY),
    Route("urgent", source=CaseSource.TRUSTED_FLAGGER),
    Route("law-enforcement", source=CaseSource.LAW_ENFORCEMENT),
    Route("hash-review", source=CaseSource.HASH_REVIEW),
    Route("hash-block", source=CaseSource.HASH_BLOCK),
    Route("investigation", source=CaseSource.INVESTIGATION),
    Route("appeals", source=CaseSource.APPEAL),
    Route("urgent", source=CaseSource.ORG_NOTICE, child_safety=True),
    Route("reports"),
)


@dataclass(frozen=True)
class ModerationConfig:
    queues: tuple[QueueSpec, ...] = DEFAULT_QUEUES
    routes: tuple[Route, ...] = DEFAULT_ROUTES
    taxonomy: Taxonomy = DEFAULT_TAXONOMY
    #: actions that need a second reviewer's agreement
    dual_review: frozenset[ActionKind] = DEFAULT_DUAL_REVIEW
    claim_ttl: dt.timedelta = dt.timedelta(minutes=20)
    daily_reveal_limit: int = DEFAULT_DAILY_LIMIT
    #: the platform's own bank, where "bank the item" puts confirmed items
    platform_bank: str = "platform-confirmed"
    #: rank of each hash list for priority (0 = most urgent; unlisted = 50)
    list_ranks: Mapping[str, int] = field(default_factory=dict)
    #: a child-safety case groups one account's flagged media (one decision per person)
    group_by_account: bool = True
    #: called in the decision's transaction when a decision takes effect ("final") or an appeal
    #: overturns it ("reversed"): hook(session, case, decision, event) — e.g. the transparency log
    on_decision: tuple[Callable[..., None], ...] = ()
    #: where decisions apply: the territorial scope of their statements of reasons (EU, GLOBAL
    #: or an EEA country code; the runtime passes the transparency log's region)
    region: str = "EU"
    #: reads a flagged upload's bytes by SHA-256, or None when not kept (the runtime passes its
    #: evidence store): banking an item from a case extracts its local features from them
    media: Callable[[str], bytes | None] | None = None

    def __post_init__(self) -> None:
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise InvalidInput("queue names must be unique")
        for r in self.routes:
            if r.queue not in names:
                raise InvalidInput(f"route to unknown queue {shown(r.queue)}")
        if self.daily_reveal_limit < 0:
            raise InvalidInput("daily_reveal_limit must be >= 0")
        if self.claim_ttl <= dt.timedelta(0):
            raise InvalidInput("claim_ttl must be positive")
        territorial_scope(self.region)  # InvalidInput for an unknown region

    def route(self, source: CaseSource, bank: str | None = None,
              child_safety: bool = True) -> QueueSpec:
        """The queue for a new case: the first matching route (the last route should catch all)."""
        for r in self.routes:
            if r.matches(source, bank, child_safety):
                return self.queue(r.queue)
        raise InvariantViolation(f"no route for {source.value} (add a catch-all route)")

    def queue(self, name: str) -> QueueSpec:
        for q in self.queues:
            if q.name == name:
                return q
        raise InvalidInput(f"unknown queue {shown(name)}")
