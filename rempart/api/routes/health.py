"""Liveness and readiness probes (the only routes open without a token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from rempart.api.deps import ApiRoute, get_runtime
from rempart.api.schemas import Health, NotReady, Ready
from rempart.runtime import Runtime
from rempart.scanning.warm import is_warm

router = APIRouter(tags=["health"], route_class=ApiRoute)


@router.get("/healthz", response_model=Health)
async def healthz() -> dict:  # async: answers on the event loop even when every thread is busy
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready,
            responses={503: {"model": NotReady, "description": "The database is unreachable, or "
                                                               "the kernels are still compiling"}})
def readyz(runtime: Runtime = Depends(get_runtime)):
    try:
        with runtime.db.session() as s:
            s.execute(text("SELECT 1"))
    except Exception:  # any database failure means not ready; details are not for the probe
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if not is_warm():  # no request should pay the JIT compile (rempart.scanning.warm)
        return JSONResponse({"status": "unavailable", "kernels": "warming"}, status_code=503)
    return {"status": "ready", "entries": len(runtime.matcher), "bank_seq": runtime.replica.seq}
