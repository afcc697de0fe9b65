"""Request bodies under control: read only after the caller is checked, capped while they stream.

FastAPI reads (and parses) a route's body before it solves the route's dependencies, so a token or
session checked by a dependency is checked only once the whole body has arrived: 300 MB of JSON
from anyone. Two pieces, installed by the API and by the console, fix that:

- ``gated_route(check_for)`` makes the ``APIRoute`` class of an app's routers. Before a route reads
  its body it runs the route's access check (``check_for(route)``, given by the app: the API
  authenticates the bearer token, the console checks the session, or the login form's CSRF
  cookie), refuses a declared ``Content-Length`` over the route's limit (``BodyTooLarge``), and
  puts the route's limit in the request scope. Errors are the app's own (problem or HTML page).
- ``BodyLimit``, pure ASGI middleware, counts the body while the route reads it. Once the count
  passes the limit in the scope (the route's, or the app's default), the read fails and the
  middleware answers 413 in the app's format (``render``), whatever the route made of the failed
  read. A body without ``Content-Length`` (chunked) is capped the same way. When apps are mounted
  in one another, the innermost middleware is the one that counts and answers.

A route declares its limit with ``@max_body(n)`` on its endpoint; the others get the app's default.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rempart.errors import BodyTooLarge, RempartError

LIMIT_KEY = "rempart.max_body"
_ACTIVE_KEY = "rempart.body_limit"
_ENDPOINT_ATTR = "max_body"

Check = Callable[[Request], object]


def max_body(limit: int) -> Callable:
    """Decorate an endpoint: its request body may be at most ``limit`` bytes."""

    def mark(endpoint: Callable) -> Callable:
        setattr(endpoint, _ENDPOINT_ATTR, limit)
        return endpoint

    return mark


def body_limit_of(endpoint: Callable) -> int | None:
    """The limit ``max_body`` gave ``endpoint``; None for the app's default."""
    return getattr(endpoint, _ENDPOINT_ATTR, None)


def gated_route(check_for: Callable[[APIRoute], Check | None]) -> type[APIRoute]:
    """An ``APIRoute`` class running ``check_for(route)`` (a blocking check, run in a worker
    thread; None for no check) and the declared-length check before the body is read."""

    class GatedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
            handler = super().get_route_handler()
            check = check_for(self)

            async def checked_first(request: Request) -> Response:
                if check is not None:
                    await run_in_threadpool(check, request)
                limit = body_limit_of(self.endpoint)
                if limit is not None:
                    request.scope[LIMIT_KEY] = limit
                effective = request.scope.get(LIMIT_KEY)
                declared = request.headers.get("content-length", "")
                if effective is not None and declared.isdigit() and int(declared) > effective:
                    raise BodyTooLarge(effective)
                return await handler(request)

            return checked_first

    return GatedRoute


class BodyLimit:
    """Pure ASGI middleware: the body-counting half of the gate (see the module docstring).

    ``render(request, error)`` answers a ``RempartError`` the way the app does.
    """

    def __init__(self, app: ASGIApp, *, default: int,
                 render: Callable[[Request, RempartError], Awaitable[Response]]) -> None:
        self.app = app
        self.default = default
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[LIMIT_KEY] = self.default
        scope[_ACTIVE_KEY] = self  # a mounted app's own BodyLimit takes over from here
        state = {"received": 0, "exceeded": None, "started": False}

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and scope.get(_ACTIVE_KEY) is self:
                state["received"] += len(message.get("body", b""))
                limit = scope.get(LIMIT_KEY, self.default)
                if state["received"] > limit:
                    state["exceeded"] = limit
                    raise _Exceeded
            return message

        async def guarded_send(message: Message) -> None:
            if state["exceeded"] is not None:
                return  # the app answered a failed read; the 413 below replaces it
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _Exceeded:
            pass
        except Exception:
            if state["exceeded"] is None:
                raise
        if state["exceeded"] is not None and not state["started"]:
            response = await self.render(Request(scope), BodyTooLarge(state["exceeded"]))
            await response(scope, receive, send)


class _Exceeded(Exception):
    """Raised into the app by a read past the limit (never shown: the middleware answers)."""
