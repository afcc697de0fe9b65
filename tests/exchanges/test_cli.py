"""``rempart exchange`` end to end: add (credentials referenced or stored encrypted, never
printed), sync, list, and a sync killed mid-way (SIGKILL): shown as interrupted once its heartbeat
is stale, resumed with no duplicate and no gap."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from rempart.cli.app import app
from rempart.exchanges import service
from rempart.store.db import utcnow
from tests.exchanges.conftest import pdq

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_add_sync_list_with_credentials_never_echoed(cli_env, upstream, monkeypatch):
    server = upstream("stopncii", page_size=3)
    for i in range(5):
        server.put(f"ImagePDQ:{pdq(i)}", [("pdq", pdq(i))])
    server.put_raw("ImagePDQ:bad", {"signalType": "ImagePDQ", "hashValue": "not-a-hash", "hashStatus": "Active"})
    server.settle()
    secret = server.credential
    monkeypatch.setenv("SNCII_CRED", secret)
    r = _run("exchange", "add", "sn-env", "--kind", "stopncii", "--bank", "sncii", "--url", server.url,
             "--credential-env", "SNCII_CRED", "--page-size", "3")
    assert r.exit_code == 0, r.output
    assert secret not in r.output and "environment variable SNCII_CRED" in r.output
    cred = cli_env.home / "cred.txt"
    cred.write_text(secret)
    r = _run("exchange", "add", "sn-stored", "--kind", "stopncii", "--bank", "sncii-2", "--url", server.url,
             "--credential-file", str(cred), "--store-credential", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["credential"] == "stored (encrypted)"
    cred.unlink()  # stored: the file is no longer needed
    engine = create_engine(cli_env.database_url)
    with engine.connect() as c:
        stored = c.execute(text("SELECT credential_enc FROM exchanges WHERE name = 'sn-stored'")).scalar()
    engine.dispose()
    assert stored and secret not in stored and "function" not in stored
    assert (cli_env.home / "keys" / "exchanges.key").stat().st_mode & 0o077 == 0

    r = _run("exchange", "sync", "--json")
    assert r.exit_code == 0, r.output
    results = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(x["name"], x["status"], x["added"], x["skipped"]) for x in results] == [
        ("sn-env", "ok", 5, 1), ("sn-stored", "ok", 5, 1)]
    r = _run("exchange", "list", "--json")
    listed = {x["name"]: x for x in map(json.loads, r.stdout.splitlines())}
    assert listed["sn-env"]["live_records"] == 5 and listed["sn-env"]["errors"] == 1
    assert listed["sn-env"]["checkpoint"]["start"] > 0 and listed["sn-env"]["last_run"]["status"] == "ok"
    assert "not-a-hash" in listed["sn-env"]["recent_errors"][0]["upstream_id"]
    assert secret not in r.stdout and secret not in _run("exchange", "list").stdout
    # bad input: a clear error, nothing changed
    r = _run("exchange", "add", "x", "--kind", "ftp", "--bank", "b")
    assert r.exit_code == 1 and "kind must be one of" in r.output
    r = _run("exchange", "sync", "nope")
    assert r.exit_code == 1 and "nope" in r.output


def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    with engine.connect() as c:
        n = c.execute(text(sql)).scalar()
    engine.dispose()
    return n


def _execute(url: str, sql: str, **params) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(sql), params)
    engine.dispose()


def _last_run_status() -> str:
    r = _run("exchange", "list", "--json")
    assert r.exit_code == 0, r.output
    status = json.loads(r.stdout)["last_run"]["status"]
    assert f"status={status}" in _run("exchange", "list").stdout
    return status


def test_a_sync_killed_mid_way_resumes_with_no_duplicate_and_no_gap(cli_env, upstream):
    server = upstream("threatexchange", page_size=20)
    total = 200
    for i in range(total):
        server.put(str(i), [("pdq", pdq(i))])
    server.settle()
    cred = cli_env.home / "te.cred"
    cred.write_text(server.credential)
    assert _run("exchange", "add", "te", "--kind", "threatexchange", "--bank", "te-list", "--url", server.url,
                "--credential-file", str(cred), "--privacy-group", server.privacy_group,
                "--page-size", "20").exit_code == 0
    server.delay = 0.3  # each page takes a while: the kill lands between and inside pages
    env = {**os.environ, "REMPART_HOME": str(cli_env.home), "REMPART_DATABASE_URL": cli_env.database_url}
    proc = subprocess.Popen([sys.executable, "-m", "rempart", "exchange", "sync", "te"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _count(cli_env.database_url, "SELECT count(*) FROM exchange_entries") < 60:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    applied = _count(cli_env.database_url, "SELECT count(*) FROM exchange_entries")
    assert 60 <= applied < total  # killed part way
    assert _last_run_status() == "running"  # its heartbeat is fresh: it could be alive
    _execute(cli_env.database_url, "UPDATE exchange_runs SET heartbeat_at = :t, started_at = :t",
             t=utcnow() - dt.timedelta(seconds=service.STALE_SECONDS + 60))
    assert _last_run_status() == "interrupted"  # quiet for too long: it is not
    server.delay = 0
    r = _run("exchange", "sync", "te", "--json")
    assert r.exit_code == 0, r.output
    assert _count(cli_env.database_url, "SELECT count(*) FROM exchange_runs WHERE status = 'interrupted'") == 1
    assert json.loads(r.stdout)["added"] == total - applied  # exactly the rest
    assert _count(cli_env.database_url, "SELECT count(*) FROM exchange_entries") == total
    assert _count(cli_env.database_url, "SELECT count(DISTINCT upstream_id) FROM exchange_entries") == total
    assert _count(cli_env.database_url, "SELECT count(*) FROM bank_entries") == total
