"""The rempart-to-rempart feed: a partner reads the banks shared with it, signed, page by page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from rempart.api.deps import ApiRoute, bearer_token, get_runtime
from rempart.api.permissions import Permission
from rempart.api.schemas import AUTHENTICATED
from rempart.exchanges import feed
from rempart.exchanges.protocols.feed import DEFAULT_LIMIT, MAX_LIMIT, SIGNATURE_HEADER
from rempart.exchanges.schemas import FeedPage
from rempart.runtime import Runtime
from rempart.store.db import MAX_ID

router = APIRouter(prefix="/v1/exchange", tags=["exchange"], responses=AUTHENTICATED,
                   route_class=ApiRoute)
_PARTNER = "rempart.partner"


def partner(request: Request) -> feed.Partner:
    """The partner whose key the request carries (authenticated once per request)."""
    found = request.scope.get(_PARTNER)
    if found is None:
        runtime = get_runtime(request)
        with runtime.db.session() as s:
            found = feed.authenticate_partner(s, runtime.settings.home, bearer_token(request))
        request.scope[_PARTNER] = found
    return found


partner.permission = Permission.EXCHANGE_FEED  # read by the route-table test and by ApiRoute


@router.get("/feed", response_model=FeedPage,
            responses={200: {"headers": {SIGNATURE_HEADER: {
                "description": "v1=<hex HMAC-SHA256 of the body with the partner's key>",
                "schema": {"type": "string"}}}}})
def exchange_feed(after: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                  after_entry: int | None = Query(None, ge=0, le=MAX_ID),
                  runtime: Runtime = Depends(get_runtime), who: feed.Partner = Depends(partner)) -> Response:
    """The changes of the banks shared with the calling partner after ``after`` (and, inside a
    bulk import's range, after entry ``after_entry``), signed."""
    with runtime.db.session() as s:
        body, sig = feed.feed_page(s, who, after, limit, after_entry)
    return Response(body, media_type="application/json", headers={SIGNATURE_HEADER: sig})
