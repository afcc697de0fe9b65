"""The platform's side of moderation: appeals from affected users (DSA Art. 20).

The platform forwards an affected user's appeal of a decision it was told about by webhook (the
``decision`` field of every action webhook). rempart checks the window and the appellant and
opens an appeal case, decided in the console by someone not involved in the decision.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from rempart.api.deps import ApiRoute, get_runtime, require
from rempart.api.permissions import Permission
from rempart.api.schemas import AUTHENTICATED, Appeal, problems
from rempart.api.tokens import Principal
from rempart.authz import system_actor
from rempart.moderation import appeal_deadline, file_appeal
from rempart.moderation.models import Decision
from rempart.runtime import Runtime
from rempart.store.db import RowId

router = APIRouter(prefix="/v1", tags=["moderation"], responses=AUTHENTICATED,
                   route_class=ApiRoute)


class AppealIn(BaseModel):
    decision: RowId
    appellant: str = Field(min_length=1, max_length=200)  # the platform's account id
    statement: str = Field("", max_length=5000)


@router.post("/appeals", status_code=201, response_model=Appeal, responses=problems(400, 404, 409))
def create_appeal(body: AppealIn, runtime: Runtime = Depends(get_runtime),
                  principal: Principal = Depends(require(Permission.APPEALS_FILE))) -> dict:
    with runtime.db.session() as s:
        appeal = file_appeal(s, system_actor(principal.label), body.decision,
                             appellant=body.appellant, statement=body.statement,
                             config=runtime.moderation)
        decision = s.get(Decision, appeal.decision_id)
        return {"appeal": appeal.id, "decision": appeal.decision_id, "status": appeal.status,
                "filed_at": appeal.filed_at.isoformat(),
                "window_closes_at": appeal_deadline(decision.final_at).isoformat()}
