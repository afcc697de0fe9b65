"""``rempart serve`` publishes the log live: ``/log/`` answers, path for path, the bytes that
``rempart transparency publish`` writes, with tlog-tiles caching; ``/transparency/`` shows every
day and the witnesses' status; a verifier pointed at the URL verifies the report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.runtime import Runtime
from rempart.transparency import verify_published_report
from rempart.transparency.cosignature import CosignatureVerifier, WitnessPolicy
from rempart.transparency.db import witnesses as log_witnesses
from rempart.transparency.db.service import BLOCK_FIELDS
from tests.served import Served
from tests.transparency.log_fixtures import DAY1, Uploads, bank_known, set_day, upload
from tests.witness.witness_helpers import WitnessProcess

BULK = 300  # past 256 leaves: full tiles and bundles exist, and a level-1 tile


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture
def witnessed_log(runtime, cli_env, tmp_path):
    """Two days in the log (the second of 300 decisions), one witness that cosigned it."""
    bank_known(runtime)
    set_day(runtime, DAY1)
    uploads = Uploads()
    for n, seed in enumerate((1, 2, 50)):
        upload(runtime, seed, "exact", n, uploads)
    set_day(runtime, DAY1, 23)
    with runtime.db.session() as s:
        runtime.transparency.close_day(s, DAY1)
    day2 = DAY1 + dt.timedelta(days=1)
    set_day(runtime, day2)
    with runtime.db.session() as s:
        for k in range(BULK):
            runtime.transparency.record_decision(s, {**BLOCK_FIELDS, "content_type": "image"},
                                                 hashlib.sha256(b"benign leaf %d" % k).digest(), ("case", k))
    set_day(runtime, day2, 23)
    with runtime.db.session() as s:
        runtime.transparency.close_day(s, day2)
    with WitnessProcess(tmp_path / "w", "witness.test/w", [runtime.transparency.vkey()]) as w:
        with runtime.db.session() as s:
            log_witnesses.add_witness(s, w.url, w.vkey)
        assert all(a.ok for a in log_witnesses.collect(runtime.db, runtime.transparency, 10))
        yield w


def test_the_live_log_is_the_published_directory_byte_for_byte(runtime, witnessed_log, tmp_path):
    pub = tmp_path / "pub"
    r = CliRunner().invoke(app, ["transparency", "publish", str(pub)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    files = sorted(p.relative_to(pub).as_posix() for p in pub.rglob("*") if p.is_file())
    assert {"checkpoint", "vkey", "index.html", "tile/0/000", "tile/entries/000", "tile/1/000.p/1",
            f"reports/{DAY1}.json", f"reports/{DAY1}.sor.json"} <= set(files)
    with Served(runtime, outbox_worker=False) as served:
        for rel in files:
            status, headers, body = get(f"{served.root}/log/{rel}")
            assert status == 200, rel
            assert body == (pub / rel).read_bytes(), rel
        caching = {rel: get(f"{served.root}/log/{rel}")[1] for rel in
                   ("checkpoint", "tile/0/000", "tile/entries/000", "tile/1/000.p/1", "checkpoints/3",
                    f"reports/{DAY1}.json")}
        assert caching["checkpoint"]["cache-control"] == "public, max-age=5"
        assert caching["checkpoint"]["content-type"] == "text/plain; charset=utf-8"
        for full in ("tile/0/000", "tile/entries/000"):
            assert caching[full]["cache-control"] == "public, max-age=31536000, immutable"
            assert caching[full]["content-type"] == "application/octet-stream"
        assert caching["tile/1/000.p/1"]["cache-control"] == "public, max-age=60"
        assert "immutable" in caching["checkpoints/3"]["cache-control"]
        assert caching[f"reports/{DAY1}.json"]["content-type"] == "application/json"
        # what no checkpoint's tree holds is not served, nor anything outside the layout
        size = int((pub / "checkpoint").read_text().splitlines()[1])
        for missing in (f"tile/0/001.p/{size % 256 + 1}", "tile/0/002", "tile/entries/x001/000",
                        "checkpoints/9999", "reports/2020-01-01.json", "../rempart.db", "tile/0/00"):
            assert get(f"{served.root}/log/{missing}")[0] == 404, missing
        # the same files for people, and a verifier pointed at the live log
        assert get(f"{served.root}/transparency/")[2] == (pub / "index.html").read_bytes()
        policy = WitnessPolicy((CosignatureVerifier.from_vkey(witnessed_log.vkey),), 1)
        verdict = verify_published_report(f"{served.root}/log/", str(DAY1), str(pub / "vkey"), policy)
        assert verdict.ok, verdict.to_json()
        state = json.loads(get(f"{served.root}/transparency/witnesses.json")[2])
        assert state["missing"] == [] and [d["final"] for d in state["days"]] == [True, True]


def test_a_checkpoint_without_the_quorum_is_not_served(runtime, witnessed_log):
    """With witnesses, the log serves the newest checkpoint that carries the quorum."""
    with runtime.db.session() as s:
        served_before = log_witnesses.served_checkpoint(s)
        runtime.transparency.record_decision(s, {**BLOCK_FIELDS, "content_type": "image"},
                                             hashlib.sha256(b"one more").digest(), ("case", "x"))
        runtime.transparency.sign_checkpoint(s)
    with runtime.db.session() as s:
        assert log_witnesses.served_checkpoint(s) == served_before
        log_witnesses.set_quorum(s, 0)
        assert log_witnesses.served_checkpoint(s) != served_before  # 0 of 1: the newest


def test_the_transparency_pages_in_chromium(runtime, witnessed_log, tmp_path):
    from tests.web.test_web_browser import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    day2 = str(DAY1 + dt.timedelta(days=1))
    with Served(runtime, outbox_worker=False) as served, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, viewport={"width": 1280, "height": 800})
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(served.root + "/")
            page.get_by_role("link", name="Transparency reports", exact=True).click()
            page.wait_for_url(served.root + "/transparency/")
            rows = page.locator("#days tbody tr")
            assert rows.count() == 2
            assert rows.nth(0).locator("td").first.inner_text() == day2  # newest first
            assert rows.nth(1).locator("td").nth(1).inner_text() == "2"  # the first day: two blocks (50 went to review)
            page.screenshot(path=str(tmp_path / "index.png"))
            rows.nth(1).locator("a", has_text=str(DAY1)).click()
            page.wait_for_url(f"{served.root}/transparency/reports/{DAY1}.html")
            assert f"Enforcement on {DAY1}" in page.locator("h1").inner_text()
            assert page.locator("#median").inner_text() == "immediate (blocked at upload)"
            page.go_back()
            page.locator("#days tbody tr").nth(1).locator("a", has_text="JSON").click()
            doc = json.loads(page.locator("body").inner_text())
            assert doc["day"] == str(DAY1) and doc["decisions"] == 2
            page.go_back()
            page.locator("#days tbody tr").nth(0).locator("a", has_text="statements of reasons").click()
            assert len(json.loads(page.locator("body").inner_text())["statements"]) == BULK
            page.goto(served.root + "/")
            page.get_by_role("link", name="Witnesses", exact=True).click()
            page.wait_for_url(served.root + "/transparency/witnesses")
            assert page.locator("#quorum").inner_text() == "1 of 1"
            assert page.locator("#cosignatures").inner_text() == "1"
            assert page.locator("#witnesses tbody tr td").nth(3).inner_text() == "cosigned"
            assert page.locator("#days").inner_text().count("final") == 2
            page.screenshot(path=str(tmp_path / "witnesses.png"))
            assert errors == []
        finally:
            browser.close()


def test_serve_asks_again_in_the_background(settings, tmp_path):
    """A witness down when the log grew is asked again by ``rempart serve`` once it is back, and a
    grown log gets a new checkpoint, cosigned, without any command."""
    rt = Runtime(dataclasses.replace(settings, witness_retry=0.2, witness_timeout=2))
    try:
        w = WitnessProcess(tmp_path / "w", "witness.test/w", [rt.transparency.vkey()])
        with rt.db.session() as s:
            log_witnesses.add_witness(s, w.url, w.vkey)

        def state() -> dict:
            with rt.db.session() as s:
                return log_witnesses.status(s)

        with Served(rt, outbox_worker=False):
            assert _until(lambda: state()["witnesses"][0]["failures"] >= 2)
            assert state()["latest_cosignatures"] == 0
            with w:
                assert _until(lambda: state()["latest_cosignatures"] == 1)
                with rt.db.session() as s:
                    rt.transparency.record_decision(s, {**BLOCK_FIELDS, "content_type": "image"},
                                                    hashlib.sha256(b"later").digest(), ("case", 1))
                assert _until(lambda: state()["quorum_size"] == 1)
                assert state()["witnesses"][0]["failures"] == 0
    finally:
        rt.close()


def _until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
