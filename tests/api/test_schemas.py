"""Every API response has a declared schema: the route table declares one for every route, the
published document is valid JSON Schema, and an undeclared field is never sent. (Every response
the API tests receive is also checked against /openapi.json: see tests/openapi_check.py.)"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from jsonschema import Draft202012Validator

from rempart.api.app import create_app
from rempart.api.routes import tokens as token_routes
from tests.api.conftest import auth
from tests.api.test_routes import _api_routes
from tests.openapi_check import checked_client

PROBLEM_CODES = {"401", "403", "422", "500"}


def test_every_route_declares_its_response_and_its_problems(runtime):
    app = create_app(runtime)
    spec = app.openapi()
    for route in _api_routes(app.routes):
        if not route.include_in_schema:  # the landing page: HTML, not part of the API
            assert not issubclass(route.response_class, JSONResponse), route.path
            continue
        for method in route.methods:
            op = spec["paths"][route.path][method.lower()]
            ok = [c for c in op["responses"] if c.startswith("2")]
            # one success, or (POST /v1/scan) the answer and the 202 of an asynchronous scan
            assert len(ok) == 1 or set(ok) == {"200", "202"}, (method, route.path)
            content = op["responses"][ok[0]]["content"]
            if route.response_model is None:  # a download: its media types are declared
                assert "application/json" not in content and content, (method, route.path)
            else:
                assert content["application/json"]["schema"], (method, route.path)
            if route.path.startswith("/v1/"):
                assert PROBLEM_CODES <= set(op["responses"]), (method, route.path)
            for code, declared in op["responses"].items():
                if code[0] in "45" and route.path.startswith("/v1/"):
                    schema = declared["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}, (route.path, code)
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # ours are problems


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        return set().union(*map(_refs, node.values()), {node["$ref"].rsplit("/", 1)[1]}
                           if isinstance(node.get("$ref"), str) else set())
    return set().union(*map(_refs, node)) if isinstance(node, list) else set()


def test_the_published_schemas_are_valid_and_closed(client):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    responses = _refs([op["responses"] for item in spec["paths"].values() for op in item.values()])
    reachable = set(responses)
    while True:  # and every schema those refer to
        more = _refs([spec["components"]["schemas"][n] for n in reachable]) - reachable
        if not more:
            break
        reachable |= more
    assert {"Problem", "ScanResult", "Bank", "Token"} <= reachable
    for name in reachable:
        assert spec["components"]["schemas"][name]["additionalProperties"] is False, name
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "request_id"]  # as the README says


def test_an_undeclared_field_is_never_sent(runtime, tokens, monkeypatch):
    def leaky(row):
        return {**token_json(row), "token_sha256": row.token_sha256}

    token_json = token_routes.token_json
    monkeypatch.setattr(token_routes, "token_json", leaky)
    with checked_client(create_app(runtime), server_errors=True,
                        raise_server_exceptions=False) as c:
        r = c.get("/v1/tokens", headers=auth(tokens["admin"]))
    assert r.status_code == 500 and r.json()["type"] == "internal-error"
    assert "token_sha256" not in r.text


def test_entry_pages_and_an_unready_node_match_their_schemas(client, tokens, runtime, monkeypatch):
    cur = auth(tokens["curator"])
    client.post("/v1/banks", json={"name": "b"}, headers=cur)
    client.post("/v1/banks/b/entries", headers=cur, json={"entries": [
        {"type": "md5", "value": "0" * 32, "external_id": "x", "metadata": {"k": "v"}}]})
    page = client.get("/v1/banks/b/entries", headers=cur).json()
    assert page["bank"] == "b" and page["entries"][0]["metadata"] == {"k": "v"}

    def down():
        raise OSError("database unreachable")

    monkeypatch.setattr(runtime.db, "session", down)
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json() == {"status": "unavailable", "database": "unreachable"}
