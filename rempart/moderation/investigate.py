"""Investigation: everything about a case, and the blast radius of one confirmed item.

The blast radius follows fingerprints, never membership: an account or a space is in it only
when an item uploaded by that account or shared in that space has a fingerprint equal to one of
the source item's (exact hashes) or within the PDQ threshold of one (using the scan ledger's
stored signals and ``rempart.matching.PDQIndex``). Bulk actions (``rempart.moderation.bulk``)
accept only entities of the radius.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require
from rempart.banks.models import Bank
from rempart.errors import InvalidInput, NotFound
from rempart.matching import PDQIndex, hex_to_hashes
from rempart.moderation.cases import can_see, load_case
from rempart.moderation.clocks import SlaState, sla_state
from rempart.moderation.models import Appeal, Case, CaseItem, Decision
from rempart.moderation.vocab import DecisionStatus
from rempart.scanning.models import ItemMatch, ItemSignal, ScannedItem
from rempart.signals import DEFAULT_THRESHOLD, LOW_QUALITY
from rempart.store.db import utcnow

CHUNK = 200_000
LIST_MAX = 50


@dataclass(frozen=True)
class MatchView:
    bank: str
    entry_id: int
    signal: str
    distance: int
    status: str
    found_by: str
    variant: str = "original"
    #: stage 2 (signal "orb") evidence: inliers, share of the banked picture seen, and where it
    #: lies in the item (left, top, right, bottom as shares: the case page outlines it)
    inliers: int | None = None
    area: float | None = None
    region: tuple[float, float, float, float] | None = None
    #: where the entry came from when a hash-sharing exchange shared it: {"exchange", "kind",
    #: "upstream_ids", "labels"} (``item_matches.detail["exchange"]``), else None
    exchange: dict | None = None

    @property
    def why(self) -> str:
        """Which stage matched and why, in a few words for a reviewer."""
        if self.signal == "orb":
            return (f"local features: {self.inliers} inliers, {self.area:.0%} of the listed "
                    "picture seen")
        if self.signal == "pdq-peeled":
            return f"PDQ after normalising ({self.variant})"
        return ""


@dataclass(frozen=True)
class ItemView:
    item_id: int
    kind: str | None
    scanned_at: dt.datetime
    account: str | None
    space: str | None
    message: str | None
    verdict: str
    matches: tuple[MatchView, ...]
    #: (type, value, variant): confidential; only for ``INVESTIGATE`` holders, else empty
    fingerprints: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class CaseView:
    case: Case
    queue: str
    sla: SlaState
    items: tuple[ItemView, ...]
    decisions: tuple[Decision, ...]
    appeals: tuple[Appeal, ...]
    account_items: tuple[ItemView, ...]  # the account's other items (most recent first)
    prior_decisions: tuple[Decision, ...]  # final decisions on the account's other cases
    space_flagged: tuple[ItemView, ...]  # the space's other flagged (block/review) items


def _match_view(m: ItemMatch, bank: str) -> MatchView:
    detail = m.detail or {}
    region = detail.get("region")
    ok = (isinstance(region, list) and len(region) == 4
          and all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in region))
    exchange = detail.get("exchange") if isinstance(detail, dict) else None
    return MatchView(bank, m.entry_id, m.signal_type, m.distance, m.status, m.found_by,
                     m.variant, detail.get("inliers"), detail.get("area_covered"),
                     tuple(region) if ok else None, exchange if isinstance(exchange, dict) else None)


def _item_views(session: Session, items: Iterable[ScannedItem], with_fp: bool) -> tuple[ItemView, ...]:
    items = list(items)
    ids = [i.id for i in items]
    matches: dict[int, list[MatchView]] = {}
    if ids:
        for m, bank in session.execute(select(ItemMatch, Bank.name).join(Bank, Bank.id == ItemMatch.bank_id)
                                       .where(ItemMatch.item_id.in_(ids)).order_by(ItemMatch.distance)):
            matches.setdefault(m.item_id, []).append(_match_view(m, bank))
    fps: dict[int, list[tuple[str, str, str]]] = {}
    if with_fp and ids:
        for s in session.scalars(select(ItemSignal).where(ItemSignal.item_id.in_(ids))
                                 .order_by(ItemSignal.id)):
            fps.setdefault(s.item_id, []).append((s.signal_type, s.value, s.variant))
    return tuple(ItemView(i.id, i.kind, i.scanned_at, i.account, i.space, i.message, i.verdict,
                          tuple(matches.get(i.id, ())), tuple(fps.get(i.id, ()))) for i in items)


def case_view(session: Session, actor: Actor, case_id: int, *,
              now: dt.datetime | None = None) -> CaseView:
    """The case page: items with matches (and fingerprints for investigators), decisions,
    appeals, the account's other items and prior decisions, the space's other flagged items.
    Needs ``CASES_READ`` (and ``CASES_CHILD_SAFETY`` for child-safety queues); audited."""
    case = load_case(session, actor, case_id)
    with_fp = actor.can(P.INVESTIGATE)
    item_ids = [ci.item_id for ci in case.items if ci.item_id is not None]
    items = list(session.scalars(select(ScannedItem).where(ScannedItem.id.in_(item_ids))
                                 .order_by(ScannedItem.id))) if item_ids else []
    account_items, prior, space_flagged = [], [], []
    if case.account:
        account_items = session.scalars(
            select(ScannedItem).where(ScannedItem.account == case.account,
                                      ScannedItem.id.not_in(item_ids or [-1]))
            .order_by(ScannedItem.scanned_at.desc()).limit(LIST_MAX))
        prior = session.scalars(
            select(Decision).join(Case, Case.id == Decision.case_id)
            .where(Case.account == case.account, Case.id != case.id,
                   Decision.status.in_([DecisionStatus.FINAL.value, DecisionStatus.REVERSED.value]))
            .order_by(Decision.id.desc()).limit(LIST_MAX))
    if case.space:
        space_flagged = session.scalars(
            select(ScannedItem).where(ScannedItem.space == case.space,
                                      ScannedItem.verdict.in_(("block", "review")),
                                      ScannedItem.id.not_in(item_ids or [-1]))
            .order_by(ScannedItem.scanned_at.desc()).limit(LIST_MAX))
    decisions = session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id))
    appeals = session.scalars(select(Appeal).join(Decision, Decision.id == Appeal.decision_id)
                              .where(Decision.case_id == case.id).order_by(Appeal.id))
    record(session, actor, AuditEvent.INVESTIGATION_VIEWED, case_id=case.id)
    return CaseView(
        case=case, queue=case.queue.name,
        sla=sla_state(due_at=case.due_at, warn_at=case.warn_at, now=now or utcnow(),
                      decided_at=case.decided_at),
        items=_item_views(session, items, with_fp), decisions=tuple(decisions),
        appeals=tuple(appeals), account_items=_item_views(session, account_items, False),
        prior_decisions=tuple(prior), space_flagged=_item_views(session, space_flagged, False))


# -- blast radius -----------------------------------------------------------------------------

@dataclass
class Entity:
    """An account or space where matching fingerprints appeared."""

    kind: str  # account | space
    name: str
    items: int = 0
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    min_distance: int = 256
    item_ids: list[int] = field(default_factory=list)

    def add(self, item: ScannedItem, distance: int) -> None:
        self.items += 1
        self.item_ids.append(item.id)
        self.first_seen = min(filter(None, (self.first_seen, item.scanned_at)))
        self.last_seen = max(filter(None, (self.last_seen, item.scanned_at)))
        self.min_distance = min(self.min_distance, distance)

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "items": self.items,
                "first_seen": self.first_seen.isoformat() if self.first_seen else None,
                "last_seen": self.last_seen.isoformat() if self.last_seen else None,
                "min_distance": self.min_distance, "item_ids": self.item_ids}


@dataclass(frozen=True)
class BlastRadius:
    item_id: int
    threshold: int
    confirmed: bool  # the item is in a case with a final violation decision
    matches: dict[int, int]  # item id -> distance (0 = exact), the source item included
    accounts: tuple[Entity, ...]
    spaces: tuple[Entity, ...]

    def entity(self, kind: str, name: str) -> Entity | None:
        for e in (self.accounts if kind == "account" else self.spaces):
            if e.name == name:
                return e
        return None

    def graph(self) -> dict:
        """Nodes and edges for drawing: the item, the accounts that uploaded a match, the spaces
        a match was shared in, and account -> space edges (one per pair that shared a match)."""
        root = f"item:{self.item_id}"
        nodes = [{"id": root, "type": "item", "label": f"item {self.item_id}"}]
        edges = []
        for e in (*self.accounts, *self.spaces):
            nid = f"{e.kind}:{e.name}"
            nodes.append({"id": nid, "type": e.kind, "label": e.name, "items": e.items,
                          "min_distance": e.min_distance})
            if e.kind == "account":
                edges.append({"source": root, "target": nid, "kind": "uploaded_match",
                              "items": e.items, "min_distance": e.min_distance})
        for pair, n in sorted(self._pairs.items()):
            edges.append({"source": f"account:{pair[0]}", "target": f"space:{pair[1]}",
                          "kind": "shared_in", "items": n})
        return {"nodes": nodes, "edges": edges}

    @property
    def _pairs(self) -> dict[tuple[str, str], int]:
        by_item = {}
        for e in self.accounts:
            for i in e.item_ids:
                by_item.setdefault(i, [None, None])[0] = e.name
        for e in self.spaces:
            for i in e.item_ids:
                by_item.setdefault(i, [None, None])[1] = e.name
        out: dict[tuple[str, str], int] = {}
        for acc, space in by_item.values():
            if acc and space:
                out[(acc, space)] = out.get((acc, space), 0) + 1
        return out


def matching_items(session: Session, item_id: int, threshold: int) -> dict[int, int]:
    """Every ledger item sharing an exact hash with ``item_id`` (distance 0) or with a PDQ within
    ``threshold`` of one of its PDQ hashes (the smallest distance), the item itself included."""
    if not 0 <= threshold <= 64:
        raise InvalidInput("threshold must be between 0 and 64")
    signals = list(session.scalars(select(ItemSignal).where(ItemSignal.item_id == item_id)))
    if not signals:
        raise NotFound("fingerprints of item", item_id)
    found: dict[int, int] = {item_id: 0}
    exact = [(s.signal_type, s.value) for s in signals if s.signal_type != "pdq"]
    if exact:
        for iid in session.scalars(select(ItemSignal.item_id).where(
                tuple_(ItemSignal.signal_type, ItemSignal.value).in_(exact))):
            found[iid] = 0
    queries = sorted({s.value for s in signals if s.signal_type == "pdq"
                      and (s.quality is None or s.quality >= LOW_QUALITY)})
    if queries:
        q = hex_to_hashes(queries)
        last = 0
        while True:  # the ledger in chunks: a bounded index at a time
            rows = session.execute(select(ItemSignal.id, ItemSignal.item_id, ItemSignal.value)
                                   .where(ItemSignal.signal_type == "pdq", ItemSignal.id > last)
                                   .order_by(ItemSignal.id).limit(CHUNK)).all()
            if not rows:
                break
            last = rows[-1][0]
            owner = {r[0]: r[1] for r in rows}
            index = PDQIndex()
            index.add(np.asarray([r[0] for r in rows], dtype=np.int64),
                      hex_to_hashes([r[2] for r in rows]))
            for hits in index.query(q, threshold):
                for sid, dist in hits:
                    iid = owner[int(sid)]
                    found[iid] = min(found.get(iid, 256), int(dist))
    return found


def blast_radius(session: Session, actor: Actor, item_id: int, *,
                 threshold: int = DEFAULT_THRESHOLD) -> BlastRadius:
    """From one flagged item (in a case the actor can see): every account and space where a
    matching fingerprint appeared, with counts, first/last seen and distance. Needs
    ``INVESTIGATE``; audited."""
    require(actor, P.INVESTIGATE)
    cases = list(session.scalars(select(Case).join(CaseItem, CaseItem.case_id == Case.id)
                                 .where(CaseItem.item_id == item_id)))
    visible = [c for c in cases if can_see(actor, c)]
    if not visible:
        raise NotFound("flagged item", item_id)
    confirmed = bool(session.scalar(select(Decision.id).where(
        Decision.case_id.in_([c.id for c in visible]), Decision.status == DecisionStatus.FINAL.value,
        Decision.violation.is_(True))))
    found = matching_items(session, item_id, threshold)
    accounts: dict[str, Entity] = {}
    spaces: dict[str, Entity] = {}
    ids = sorted(found)
    for i in range(0, len(ids), 500):
        for item in session.scalars(select(ScannedItem).where(ScannedItem.id.in_(ids[i:i + 500]))):
            if item.account:
                accounts.setdefault(item.account, Entity("account", item.account)).add(item, found[item.id])
            if item.space:
                spaces.setdefault(item.space, Entity("space", item.space)).add(item, found[item.id])
    order = lambda e: (e.min_distance, -e.items, e.name)  # noqa: E731
    radius = BlastRadius(item_id, threshold, confirmed, found,
                         tuple(sorted(accounts.values(), key=order)),
                         tuple(sorted(spaces.values(), key=order)))
    record(session, actor, AuditEvent.BLAST_RADIUS_VIEWED, case_id=visible[0].id,
           subject=f"item:{item_id}",
           detail={"items": len(found), "accounts": len(accounts), "spaces": len(spaces)})
    return radius
