"""API token administration (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from rempart.api import tokens
from rempart.api.deps import ApiRoute, get_runtime, require
from rempart.api.permissions import Permission
from rempart.api.schemas import AUTHENTICATED, NewToken, Token, problems
from rempart.runtime import Runtime
from rempart.store.db import RowId

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=AUTHENTICATED,
                   route_class=ApiRoute)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)


def token_json(row) -> dict:
    return {"id": row.id, "name": row.name, "scopes": row.scopes.split(), "prefix": row.prefix,
            "created_at": row.created_at.isoformat(),
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            "revoked": row.revoked_at is not None}


@router.get("", response_model=list[Token])
def list_tokens(runtime: Runtime = Depends(get_runtime),
                _=Depends(require(Permission.TOKENS_ADMIN))) -> list[dict]:
    with runtime.db.session() as s:
        return [token_json(t) for t in tokens.list_tokens(s)]


@router.post("", status_code=201, response_model=NewToken, responses=problems(400))
def create_token(body: TokenIn, runtime: Runtime = Depends(get_runtime),
                 _=Depends(require(Permission.TOKENS_ADMIN))) -> dict:
    with runtime.db.session() as s:
        row, secret = tokens.issue_token(s, body.name, tokens.parse_scopes(body.scopes))
        return {**token_json(row), "token": secret}


@router.delete("/{token_id}", response_model=Token, responses=problems(404))
def revoke_token(token_id: RowId, runtime: Runtime = Depends(get_runtime),
                 _=Depends(require(Permission.TOKENS_ADMIN))) -> dict:
    with runtime.db.session() as s:
        return token_json(tokens.revoke_token(s, token_id))
