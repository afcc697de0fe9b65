"""HTTP to the exchanges (the one module that imports httpx for them): authentication, retries,
rate limits.

Every request is retried up to ``attempts`` times when the answer is not usable: 429 (after its
``Retry-After``, capped at ``max_wait`` seconds), 5xx, a connection or timeout error, a body cut
short (fewer bytes than ``Content-Length``) and, for a page, a body that does not parse
(``BadPage``): the page is fetched again, so nothing of a bad answer is ever applied. Past the
last attempt, ``ExchangeUnavailable`` says why; 4xx other than 429 is not retried (the request
or the credential is wrong).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx

from rempart import __version__
from rempart.exchanges.errors import BadPage, ExchangeUnavailable
from rempart.exchanges.protocols import MAX_PAGE_BYTES, Page, Request, Wire

USER_AGENT = f"rempart/{__version__} (hash-sharing exchange client)"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff: float = 0.5  # first wait after a 5xx or a network error; doubles each time
    max_wait: float = 60.0  # cap on one wait, Retry-After included
    timeout: float = 30.0


def auth_for(kind: str, credential: str) -> tuple[dict[str, str], dict[str, str], tuple[str, str] | None]:
    """(headers, query parameters, basic auth) carrying ``credential`` for an exchange kind."""
    if not credential:
        return {}, {}, None
    if kind == "ncmec":
        user, _, password = credential.partition(":")
        return {}, {}, (user, password)
    if kind == "threatexchange":
        return {}, {"access_token": credential}, None
    if kind == "stopncii":
        subscription, _, function = credential.partition(":")
        return {"Ocp-Apim-Subscription-Key": subscription, "x-functions-key": function}, {}, None
    return {"Authorization": f"Bearer {credential}"}, {}, None


class Transport:
    def __init__(self, base_url: str, kind: str, credential: str, *,
                 policy: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base_url.rstrip("/")
        self.policy, self.sleep = policy, sleep
        headers, self.params, auth = auth_for(kind, credential)
        self.client = httpx.Client(headers={"User-Agent": USER_AGENT, **headers}, auth=auth,
                                   timeout=policy.timeout, follow_redirects=False)
        #: what the retries met (a list of short reasons), for the run's report
        self.retries: list[str] = []

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fetch_page(self, wire: Wire, checkpoint: Mapping, now: int) -> Page:
        request, window = wire.request(checkpoint, now)
        return self._call(request, lambda body, headers: wire.parse(body, headers, window))

    def send(self, request: Request) -> None:
        self._call(request, lambda body, headers: None)

    def fetch(self, request: Request, read: Callable[[bytes, Mapping[str, str]], object]):
        """``read(body, headers)`` of the answer to ``request``, with the same retries."""
        return self._call(request, read)

    def _call(self, request: Request, read: Callable[[bytes, Mapping[str, str]], object]):
        last = "no attempt"
        for attempt in range(self.policy.attempts):
            wait = min(self.policy.backoff * (2 ** attempt), self.policy.max_wait)
            try:
                path, _, query = request.path.partition("?")
                response = self.client.request(
                    request.method, self.base + path,
                    params={**dict(parse_qsl(query)), **request.params, **self.params},
                    content=request.body,
                    headers={"Content-Type": request.content_type} if request.content_type else None)
                body = response.content
            except httpx.TimeoutException:
                last = "timed out"
            except httpx.RemoteProtocolError:
                last = "answer cut short"
            except httpx.TransportError as exc:
                last = f"cannot connect ({exc.__class__.__name__})"
            else:
                status = response.status_code
                if status == 429:
                    last = "rate limited (429)"
                    wait = min(_retry_after(response.headers.get("Retry-After"), wait), self.policy.max_wait)
                elif status >= 500:
                    last = f"server error ({status})"
                elif status >= 400:
                    raise ExchangeUnavailable(f"{request.method} {request.path}: refused ({status})")
                elif len(body) > MAX_PAGE_BYTES:
                    last = "answer too large"
                else:
                    try:
                        return read(body, response.headers)
                    except BadPage as exc:
                        last = f"bad page: {exc}"
            self.retries.append(last)
            if attempt + 1 < self.policy.attempts:
                self.sleep(wait)
        raise ExchangeUnavailable(f"{request.method} {request.path}: {last} "
                                  f"(after {self.policy.attempts} attempts)")


def _retry_after(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default
