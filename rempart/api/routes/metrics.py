"""``GET /metrics``: the node's Prometheus metrics (``rempart.observe.metrics``), open without a
token like the health probes: counts and timings only, never an id, a hash or a name of a
person. Serve it on the internal network (a scraper), not to the public."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from rempart.api.deps import ApiRoute
from rempart.observe.metrics import CONTENT_TYPE, exposition

router = APIRouter(tags=["health"], route_class=ApiRoute)


@router.get("/metrics", response_class=Response, response_model=None,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format 0.0.4"}})
async def metrics() -> Response:
    return Response(await run_in_threadpool(exposition), media_type=CONTENT_TYPE)
