"""The real server (uvicorn, in a process of its own) under hostile load: small uploads that
declare huge pictures, and huge bodies sent before or without authentication.

Memory is the server's resident memory, sampled while the requests run, against its own baseline
and with generous margins; times are never asserted (only that every request is answered)."""

from __future__ import annotations

import json
import threading

import pytest

from rempart.api.permissions import Scope
from rempart.api.tokens import issue_token
from rempart.demo.hostile import float_tiff, grey_png, many_frames_gif
from tests.factories import image_bytes
from tests.server_process import Sampler, ServerProcess

MIB = 1 << 20
BOUNDARY = "hostile"
BUDGET = 320 * MIB


def _multipart(data: bytes, name: str = "file", filename: str = "upload.bin") -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; "
            f"filename=\"{filename}\"\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def tokens(runtime) -> dict[str, str]:
    with runtime.db.session() as s:
        return {scope.value: issue_token(s, f"t-{scope.value}", frozenset({scope}))[1]
                for scope in (Scope.PLATFORM, Scope.CURATOR)}


def test_eight_hostile_uploads_at_once_stay_within_the_decode_budget(settings, tokens):
    form = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Authorization": f"Bearer {tokens['platform']}"}
    uploads = ([("png", _multipart(grey_png(3000, 3000)))] * 6
               + [("tiff", _multipart(float_tiff(3000, 3000)))]
               + [("gif", _multipart(many_frames_gif(999, 4000)))])
    assert all(len(body) < 200_000 for _, body in uploads)  # each 9+ Mpx (the GIF 16 Gpx)
    with ServerProcess(settings, REMPART_DECODE_MEMORY=f"{BUDGET // MIB}MiB") as server:
        warm = server.request("POST", "/v1/scan", _multipart(image_bytes(1)), form)
        assert warm[0] == 200
        baseline = server.rss()
        answers: dict[int, tuple[int, dict, bytes]] = {}
        barrier = threading.Barrier(len(uploads))

        def send(n: int, body: bytes) -> None:
            barrier.wait()
            answers[n] = server.request("POST", "/v1/scan", body, form)

        def health() -> bool:
            try:
                return server.request("GET", "/healthz", timeout=30)[0] == 200
            except OSError:
                return False

        threads = [threading.Thread(target=send, args=(n, body))
                   for n, (_, body) in enumerate(uploads)]
        with Sampler(server.rss, 0.02) as memory, Sampler(health, 0.1) as healthz:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        peak = max(memory.results)

    # unbounded, each of the seven 9 Mpx pictures would hold 250-350 MB at once (~2.2 GB)
    assert peak - baseline <= BUDGET + 128 * MIB, (peak - baseline) / MIB
    assert healthz.results and all(healthz.results)  # /healthz answered all along
    statuses = {kind: [] for kind, _ in uploads}
    for n, (kind, _) in enumerate(uploads):
        status, headers, body = answers[n]
        statuses[kind].append(status)
        if status == 503:  # waited for decode memory, then told when to come back
            assert int(headers["retry-after"]) >= 1
            assert json.loads(body)["type"] == "overloaded"
    assert statuses["gif"] == [413]  # frames x canvas, refused before decoding a frame
    assert set(statuses["png"] + statuses["tiff"]) <= {200, 503}
    assert 200 in statuses["png"] + statuses["tiff"]


def test_bodies_are_refused_before_they_are_read(settings, tokens):
    big = 300 * MIB
    json_type = {"Content-Type": "application/json"}
    curator = {**json_type, "Authorization": f"Bearer {tokens['curator']}"}
    login_form = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    with ServerProcess(settings) as server:
        assert server.request("GET", "/healthz")[0] == 200
        baseline = server.rss()
        with Sampler(server.rss, 0.02) as memory:
            # no token: 401 before the body is read, declared or chunked
            for chunked in (False, True):
                status, answer, sent = server.stream("/v1/banks", json_type, big, chunked=chunked)
                assert status == 401 and sent < 64 * MIB, (chunked, status, sent / MIB)
                assert b'"type":"unauthorized"' in answer
            # a token: the body is capped at the route's limit (1 MiB here) as it streams
            for chunked in (False, True):
                status, answer, sent = server.stream("/v1/banks", curator, big, chunked=chunked)
                assert status == 413 and sent < 64 * MIB, (chunked, status, sent / MIB)
                assert b'"type":"body-too-large"' in answer  # a problem, not plain text
            # the console's login form: no prelogin cookie, no reading; with one, capped
            part = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"username\"; "
                    f"filename=\"x\"\r\n\r\n").encode()
            status, answer, sent = server.stream("/console/login", login_form, big, prefix=part)
            assert status == 403 and sent < 64 * MIB
            with_cookie = {**login_form, "Cookie": "rempart_prelogin=x"}
            for chunked in (False, True):
                status, answer, sent = server.stream("/console/login", with_cookie, big,
                                                     chunked=chunked, prefix=part)
                assert status == 413 and sent < 64 * MIB and b"text/html" in answer
        assert max(memory.results) - baseline < 64 * MIB
        assert server.request("GET", "/healthz")[0] == 200
