"""Releasing threads together, and console clients that can race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import httpx

from tests.web.web_helpers import WebUser, login, token

T = TypeVar("T")


def race(n: int, fn: Callable[[int], T], *, timeout: float = 60.0) -> list[T | BaseException]:
    """Run ``fn(0) .. fn(n-1)`` in ``n`` threads released together by a barrier; return what
    each returned, or the exception it raised."""
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout)
            out[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001  (reported to the test, which asserts on it)
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if any(t.is_alive() for t in threads):
        raise AssertionError(f"a racing thread did not finish within {timeout} s")
    return out


def client(server) -> httpx.Client:
    return httpx.Client(base_url=server.root, timeout=30.0)


def console(server, user: WebUser) -> httpx.Client:
    """An httpx client logged in to the console as ``user`` (password + TOTP)."""
    return login(client(server), user)


class Racers:
    """``n`` clients sharing one console session (the same person clicking ``n`` times, or
    retrying), each on its own connection; ``csrf`` is the session's form token."""

    def __init__(self, server, logged_in: httpx.Client, n: int) -> None:
        self.csrf = token(logged_in)
        cookie = "; ".join(f"{k}={v}" for k, v in logged_in.cookies.items())
        self.clients = [httpx.Client(base_url=server.root, timeout=30.0,
                                     headers={"Cookie": cookie}) for _ in range(n)]

    def post(self, i: int, path: str, data: dict | None = None) -> httpx.Response:
        return self.clients[i].post(path, data={"csrf_token": self.csrf, **(data or {})},
                                    follow_redirects=False)

    def close(self) -> None:
        for c in self.clients:
            c.close()


def statuses(responses) -> list[int | str]:
    """The status of each response, sorted (an exception shows as its class name)."""
    return sorted((r.status_code if isinstance(r, httpx.Response) else type(r).__name__
                   for r in responses), key=str)


def widen(monkeypatch, module, name: str, seconds: float = 0.2) -> None:
    """Make ``module.name`` (a step between a check and the commit) take ``seconds`` longer,
    so that racing requests all pass the check before any commits when the check and the write
    are not one atomic step: the race then shows on every run, not only on unlucky ones."""
    import time

    original = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
