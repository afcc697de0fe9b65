"""The import route streams its body and hands a big import's retro-scan to a background job."""

from __future__ import annotations

from rempart.banks import retro_jobs
from tests.api.conftest import auth
from tests.factories import image_bytes


def _big_list(fp, n: int = 40) -> bytes:
    lines = [f"md5 {i:032x}" for i in range(1, n)] + [f"pdq {fp.frames[0].pdq}"]
    return ("\n".join(lines) + "\n").encode()


def test_the_api_answers_a_big_import_at_once_and_shows_the_job(client, tokens, runtime,
                                                                  monkeypatch):
    monkeypatch.setattr(retro_jobs, "BACKGROUND_ENTRIES", 10)
    cur = auth(tokens["curator"])
    client.post("/v1/banks", json={"name": "big"}, headers=cur)
    r = client.post("/v1/banks/big/import?format=te",
                    content=_big_list(runtime.fingerprint(image_bytes(14))), headers=cur)
    assert r.status_code == 200 and r.json()["added"] == 40 and r.json()["retro_matches"] == []
    job = client.get(f"/v1/retro-scans/{r.json()['retro_job']}", headers=cur).json()
    assert job["bank"] == "big" and job["entries"] == 40 and job["state"] in ("pending", "running",
                                                                               "done")
    assert client.get("/v1/retro-scans/999999", headers=cur).status_code == 404
