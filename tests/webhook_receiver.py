"""A platform stand-in for webhook tests: a real local HTTP server that verifies signatures."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

from rempart.localserver import LocalServer
from rempart.moderation import signing


class WebhookReceiver(LocalServer):
    """Verifies each request's signature with ``secret`` and applies each idempotency key once.

    ``requests``: every verified request ({"key", "body"}); ``applied``: key -> first body;
    ``received``: the applied bodies in order; ``rejected``: requests whose signature failed.
    The first ``fail_first`` verified requests are answered 503, to exercise retries.
    """

    path = "/hook"

    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret, self.fail_first = secret, fail_first
        self.requests: list[dict] = []
        self.applied: dict[str, dict] = {}
        self.rejected = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    signing.verify(outer.secret, self.headers[signing.TIMESTAMP_HEADER], body,
                                   self.headers[signing.SIGNATURE_HEADER], now=time.time())
                except Exception:  # any malformed or wrong signature is a rejection
                    outer.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                key = self.headers[signing.IDEMPOTENCY_HEADER]
                outer.requests.append({"key": key, "body": json.loads(body)})
                if len(outer.requests) <= outer.fail_first:
                    self.send_response(503)
                else:
                    outer.applied.setdefault(key, json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(Handler)
        self.start()

    @property
    def received(self) -> list[dict]:
        return list(self.applied.values())

    def close(self) -> None:
        self.stop()
