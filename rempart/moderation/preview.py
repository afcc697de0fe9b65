"""What a reviewer is offered and shown before deciding: the actions that fit a case, and the
statement of reasons each planned action would carry.

Both come from the code the decision itself runs: ``actions.plan`` (the same targets, the same
refusals) and ``actions.reasons_for`` (the same builder, the same PUID), so what the console
previews is what is stored and sent when the decision takes effect. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from rempart.authz import Actor, Permission as P, require
from rempart.errors import InvalidInput
from rempart.moderation.actions import ActionRequest, PlannedAction, plan, reasons_for
from rempart.moderation.cases import load_case
from rempart.moderation.config import ModerationConfig
from rempart.moderation.models import Case
from rempart.moderation.vocab import ActionKind
from rempart.store.db import utcnow


def allowed_actions(case: Case) -> list[ActionKind]:
    """The actions ``plan`` accepts for ``case`` on their default targets, in vocabulary order
    (an automatic block can be overturned, account actions need the case's account, ...)."""
    probe_end = dt.date.max  # restrict_account needs an end date; any will do for the probe
    out = []
    for kind in ActionKind:
        try:
            plan(case, [ActionRequest(kind, end_date=probe_end)])
        except InvalidInput:
            continue
        out.append(kind)
    return out


@dataclass(frozen=True)
class Proposal:
    """A decision not taken yet: what ``reasons_for`` reads of a decision."""

    policy: str | None
    facts: str


@dataclass(frozen=True)
class PreviewedAction:
    """One planned action and the statement it would carry (None: it restricts nothing), or
    why it cannot be stated yet."""

    action: PlannedAction
    statement: dict | None = None
    error: str | None = None


def preview_decision(session: Session, actor: Actor, case_id: int, *,
                     actions: Sequence[ActionRequest], policy: str | None, facts: str,
                     config: ModerationConfig, today: dt.date | None = None,
                     ) -> list[PreviewedAction]:
    """The statements of reasons a decision would carry, one per planned action, exactly as
    ``decide`` would store them today. Needs ``CASES_DECIDE``; saves nothing.

    Raises ``InvalidInput`` when the actions cannot be planned at all (as ``decide`` would), and
    ``NotFound`` for an unknown policy; an action that cannot be stated yet (no policy chosen,
    no facts) carries its error instead.
    """
    require(actor, P.CASES_DECIDE)
    case = load_case(session, actor, case_id)
    if policy is not None:
        config.taxonomy.get(policy)  # NotFound for an unknown policy
    proposal = Proposal(policy, (facts or "").strip())
    today = today or utcnow().date()
    out = []
    for p in plan(case, list(actions)):
        try:
            statement = reasons_for(session, case, proposal, p, config, today)
        except InvalidInput as exc:
            out.append(PreviewedAction(p, error=str(exc)))
            continue
        out.append(PreviewedAction(p, statement or None))
    return out
