"""Hold every API response a test receives to the published OpenAPI document.

``checked_client(app)`` is a TestClient whose every response to a documented route must have a
declared status and content type, and a JSON body valid against the declared schema (JSON
Schema 2020-12, the dialect of OpenAPI 3.1). A response to an undocumented /v1 path fails too.
The console, the docs, the landing page and the published log and reports are not part of the API document and are not checked.
An internal error (500) fails the test as well: it is also what a route answers when it returns
a field its response model does not declare.
"""

from __future__ import annotations

import re
from collections import Counter

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

UNCHECKED = re.compile(r"^/(console(/.*)?|docs.*|redoc|openapi\.json|log/.*|transparency(/.*)?)?$")


class OpenAPICheck:
    def __init__(self, spec: dict, *, server_errors: bool = False) -> None:
        self.spec = spec
        self.server_errors = server_errors
        self.operations = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), method.upper(), op)
            for path, item in spec["paths"].items() for method, op in item.items()]
        #: (method, path template, status) -> how many responses were checked
        self.checked: Counter = Counter()

    def operation(self, method: str, path: str) -> dict | None:
        for pattern, m, op in self.operations:
            if m == method and pattern.match(path):
                return op
        return None

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if UNCHECKED.match(path):
            return
        op = self.operation(request.method, path)
        assert op is not None, f"{request.method} {path}: not in /openapi.json"
        status = str(response.status_code)
        if response.status_code == 500 and not self.server_errors:
            response.read()
            raise AssertionError(f"{request.method} {path}: internal error {response.text}")
        declared = op["responses"].get(status) or op["responses"].get("default")
        assert declared is not None, (
            f"{request.method} {path} answered {status}, which /openapi.json does not declare")
        media = response.headers.get("content-type", "").split(";")[0].strip()
        content = declared.get("content", {})
        assert media in content, (
            f"{request.method} {path} {status}: {media!r} is not declared ({sorted(content)})")
        if media == "application/json":
            response.read()
            schema = {**content[media]["schema"], "components": self.spec["components"]}
            errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
            assert not errors, (f"{request.method} {path} {status} does not match its schema: "
                                f"{errors[0].message} at {list(errors[0].absolute_path)}")
        self.checked[(request.method, op["operationId"], status)] += 1


def checked_client(app: FastAPI, *, server_errors: bool = False, **kwargs) -> TestClient:
    """A TestClient over ``app`` that checks every response against ``app``'s OpenAPI document
    (``server_errors``: let internal errors through, for tests that expect them)."""
    client = TestClient(app, **kwargs)
    client.openapi_check = OpenAPICheck(app.openapi(), server_errors=server_errors)
    client.event_hooks = {"request": [], "response": [client.openapi_check]}
    return client
