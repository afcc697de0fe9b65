"""The rempart-to-rempart feed: per-partner keys and sharing rules, signed incremental pages, and
two ``rempart serve`` deployments on 127.0.0.1 exchanging a bank."""

from __future__ import annotations

import hashlib
import json
import os
import time

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rempart.api.app import create_app
from rempart.banks import service as banks
from rempart.banks.entries import NewEntry
from rempart.cli.app import app as cli
from rempart.config import Settings
from rempart.exchanges import feed
from rempart.exchanges.protocols.feed import signature
from rempart.runtime import Runtime
from tests.conftest import _postgres_database
from tests.exchanges.conftest import pdq
from tests.server_process import ServerProcess


def _client(runtime) -> TestClient:
    return TestClient(create_app(runtime, outbox_worker=False, witness_worker=False, exchange_worker=False))


def test_the_feed_is_signed_paged_and_limited_to_the_shared_banks(runtime):
    with runtime.db.session() as s:
        shared = banks.create_bank(s, "shared")
        private = banks.create_bank(s, "private")
        banks.add_entries(s, shared, [NewEntry("pdq", pdq(i)) for i in range(5)])
        banks.add_entries(s, private, [NewEntry("pdq", pdq(100))])
        _, key = feed.add_partner(s, runtime.settings.home, "peer", ["shared"])
        _, other = feed.add_partner(s, runtime.settings.home, "other", ["private"])
    client = _client(runtime)
    auth = {"Authorization": f"Bearer {key}"}
    first = client.get("/v1/exchange/feed?after=0&limit=3", headers=auth)
    assert first.status_code == 200
    assert first.headers["Rempart-Signature"] == signature(key, first.content)
    page = first.json()
    assert page["more"] is True and [i["value"] for i in page["items"]] == [pdq(0), pdq(1), pdq(2)]
    rest = client.get(f"/v1/exchange/feed?after={page['next']}&limit=3", headers=auth).json()
    assert {i["value"] for i in rest["items"]} == {pdq(3), pdq(4)}  # never the private bank's
    assert client.get("/v1/exchange/feed", headers={"Authorization": f"Bearer {other}"}).json()["items"][0][
        "value"] == pdq(100)
    # incremental: a disabled entry comes as a delete after the checkpoint
    with runtime.db.session() as s:
        entry = banks.entries_by_key(s, banks.get_bank(s, "shared"), {("pdq", pdq(1))})[("pdq", pdq(1))]
        banks.disable_entry(s, entry.id, reason="false positive")
    tail = client.get(f"/v1/exchange/feed?after={rest['next']}", headers=auth).json()
    assert [(i["op"], i["value"]) for i in tail["items"]] == [("delete", pdq(1))] and not tail["more"]
    # what came from an exchange is never passed on (the prefix compared exactly, on SQLite too)
    with runtime.db.session() as s:
        bank = banks.get_bank(s, "shared")
        banks.add_entries(s, bank, [NewEntry("pdq", pdq(60))], added_by="exchange:upstream")
        banks.add_entries(s, bank, [NewEntry("pdq", pdq(61))], added_by="Exchange:a person")
    later = client.get(f"/v1/exchange/feed?after={tail['next']}", headers=auth).json()
    assert [i["value"] for i in later["items"]] == [pdq(61)]
    # no key, an API token's shape, a wrong or revoked key: 401 problems
    assert client.get("/v1/exchange/feed").status_code == 401
    assert client.get("/v1/exchange/feed", headers={"Authorization": "Bearer rpx_wrong"}).status_code == 401
    with runtime.db.session() as s:
        feed.revoke_partner(s, "peer")
        assert key not in json.dumps([p.key_enc for p in feed.list_partners(s)])
        stored = {p.name: p.key_hash for p in feed.list_partners(s)}
    assert stored["peer"] == hashlib.sha256(key.encode()).hexdigest()
    assert client.get("/v1/exchange/feed", headers=auth).status_code == 401
    assert client.get("/v1/exchange/feed?limit=0", headers={"Authorization": f"Bearer {other}"}).status_code == 422


def _settings(tmp_path, name: str, database_url: str) -> Settings:
    return Settings(home=tmp_path / name, database_url=database_url)


def test_two_deployments_exchange_a_bank(tmp_path, database_url, monkeypatch):
    """Deployment A serves; B pulls A's shared bank into a bank B creates, follows A's changes."""
    a_settings = _settings(tmp_path, "a", database_url)
    b_urls = None
    if database_url.startswith("postgresql"):  # B's database: a second one on the same server
        b_urls = _postgres_database(os.environ["REMPART_TEST_DATABASE_URL"])
        b_url = next(b_urls)
    else:
        b_url = f"sqlite:///{tmp_path / 'b.db'}"
    b_settings = _settings(tmp_path, "b", b_url)
    try:
        with ServerProcess(a_settings) as a:
            a.rempart("bank", "create", "platform-confirmed")
            src = tmp_path / "list.txt"
            src.write_text("".join(f"pdq,{pdq(i)}\n" for i in range(30)))
            a.rempart("bank", "import", "platform-confirmed", str(src), "--format", "csv")
            a.rempart("bank", "create", "private")
            key = a.rempart("exchange", "partner", "add", "deployment-b", "--bank", "platform-confirmed").strip()
            assert key.startswith("rpx_")
            key_file = tmp_path / "partner.key"
            key_file.write_text(key + "\n")

            runner = CliRunner()
            for var, value in (("REMPART_HOME", str(b_settings.home)), ("REMPART_DATABASE_URL", b_url)):
                monkeypatch.setenv(var, value)
            assert runner.invoke(cli, ["migrate"]).exit_code == 0
            r = runner.invoke(cli, ["exchange", "add", "from-a", "--kind", "rempart", "--url",
                                    f"http://127.0.0.1:{a.port}", "--key-file", str(key_file),
                                    "--bank", "from-a", "--page-size", "7"])
            assert r.exit_code == 0, r.output
            assert key not in r.output
            # B's own `rempart serve` syncs it in the background (its first round, at start)
            with ServerProcess(b_settings) as b:
                deadline = time.monotonic() + 60
                while True:
                    listed = json.loads(b.rempart("exchange", "list", "--json"))
                    if listed["last_run"] and listed["last_run"]["status"] != "running":
                        break
                    assert time.monotonic() < deadline, listed
                    time.sleep(0.5)
            assert listed["live_records"] == 30 and listed["last_run"]["pages"] == 5, listed
            assert listed["last_run"]["status"] == "ok" and listed["bank"] == "from-a"
            r = runner.invoke(cli, ["bank", "list", "--json"])
            assert {"name": "from-a", "active_entries": 30}.items() <= \
                next(b for b in map(json.loads, r.stdout.splitlines()) if b["name"] == "from-a").items()

            # A withdraws one entry and adds another; B's next sync follows, and its scans with it
            _, _, body = a.request("GET", "/v1/exchange/feed?after=0&limit=1",
                                        headers={"Authorization": f"Bearer {key}"})
            entry = json.loads(body)["items"][0]["id"].split("/")[1]
            a.rempart("bank", "disable", entry, "--reason", "false positive")
            src.write_text(f"pdq,{pdq(99)}\n")
            a.rempart("bank", "import", "platform-confirmed", str(src), "--format", "csv")
            r = runner.invoke(cli, ["exchange", "sync", "from-a", "--json"])
            again = json.loads(r.stdout)
            assert (again["added"], again["deleted"]) == (1, 1)
            rt = Runtime(b_settings, migrate=False)
            try:
                assert rt.scan_signals([("pdq", pdq(0))]).verdict == "allow"  # withdrawn at A
                assert rt.scan_signals([("pdq", pdq(99))]).verdict == "block"
                outcome = rt.scan_signals([("pdq", pdq(5))])
                assert outcome.verdict == "block" and outcome.match_json()[0]["exchange"]["kind"] == "rempart"
            finally:
                rt.close()
            # a revoked partner's next sync fails, and B keeps what it had
            a.rempart("exchange", "partner", "revoke", "deployment-b")
            r = runner.invoke(cli, ["exchange", "sync", "from-a", "--json"])
            assert r.exit_code == 1 and "refused (401)" in json.loads(r.stdout)["error"]
    finally:
        if b_urls is not None:
            for _ in b_urls:
                pass


def test_a_bulk_import_is_listed_once_across_pages_that_stop_inside_its_range(runtime):
    """A bulk import is one change naming a range of entries: the feed lists the range's
    entries of the shared banks, ``limit`` at a time, going on inside the range from the
    cursor a page hands back (``next_entry`` -> ``after_entry``); each entry exactly once."""
    with runtime.db.session() as s:
        shared = banks.create_bank(s, "shared")
        private = banks.create_bank(s, "private")
        banks.add_entries(s, shared, [NewEntry("pdq", pdq(0))])
        _, key = feed.add_partner(s, runtime.settings.home, "peer", ["shared"])
        partner = feed.authenticate_partner(s, runtime.settings.home, key)
    with runtime.db.session() as s:  # a removed entry listed again: restored, its own change
        banks.remove_entry(s, banks.entries_by_key(s, shared, {("pdq", pdq(0))})[("pdq", pdq(0))].id)
    with runtime.db.session() as s:
        banks.apply_entry_batches(s, banks.get_bank(s, "private"), [[NewEntry("pdq", pdq(i)) for i in range(500, 510)]])
        banks.apply_entry_batches(s, banks.get_bank(s, "shared"), [[NewEntry("pdq", pdq(i)) for i in range(30)]])
        banks.add_entries(s, banks.get_bank(s, "private"), [NewEntry("pdq", pdq(600))])
    with runtime.db.session() as s:
        banks.add_entries(s, banks.get_bank(s, "shared"), [NewEntry("pdq", pdq(40))])
    listed, after, after_entry, pages, inside, stop = [], 0, 0, 0, 0, None
    with runtime.db.session() as s:
        while True:
            body, sig = feed.feed_page(s, partner, after, 7, after_entry)
            page = json.loads(body)
            assert sig == signature(key, body) and page["after"] == after
            assert page.get("after_entry", 0) == after_entry
            assert len(page["items"]) <= 7 and page["settled"] <= page["next"]
            listed += [(i["op"], i["value"]) for i in page["items"]]
            pages += 1
            if "next_entry" in page:
                inside += 1
                stop = stop or (page["next"], page["next_entry"])
            after, after_entry = page["next"], page.get("next_entry", 0)
            if not page["more"]:
                break
    # pdq(0) was added and removed (one page: listed once, in its state now), then listed
    # again by the import (restored: its own change, not in the range)
    assert [op for op, v in listed if v == pdq(0)] == ["add", "add"]
    values = [v for _, v in listed if v != pdq(0)]
    assert sorted(values) == sorted({pdq(i) for i in range(1, 30)} | {pdq(40)})
    assert len(values) == len(set(values)) and all(op == "add" for op, _ in listed)
    assert values[-1] == pdq(40) and inside >= 3 and pages >= 5
    # a consumer that does not send after_entry (an older rempart) gets the range whole
    with runtime.db.session() as s:
        whole = json.loads(feed.feed_page(s, partner, 0, 7)[0])
    assert "next_entry" not in whole and len(whole["items"]) >= 30
    # through the route: the cursor inside the range is a query parameter
    client = _client(runtime)
    auth = {"Authorization": f"Bearer {key}"}
    first = client.get(f"/v1/exchange/feed?after={stop[0]}&after_entry={stop[1]}&limit=3",
                       headers=auth).json()
    second = client.get(f"/v1/exchange/feed?after={first['next']}&after_entry={first['next_entry']}"
                        "&limit=3", headers=auth).json()
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert len(first["items"]) == len(second["items"]) == 3
    # a negative cursor inside a range is refused, naming the parameter
    bad = client.get(f"/v1/exchange/feed?after={stop[0]}&after_entry=-1&limit=3", headers=auth)
    assert bad.status_code == 422 and "after_entry" in bad.text


def test_a_page_reads_a_window_of_ids_and_passes_over_a_range_of_a_bank_not_shared(runtime, monkeypatch):
    """Right after a big import, each query of a page names at most a page of ids (not the
    rest of the range behind a LIMIT: PostgreSQL, without statistics for the import's rows,
    read it whole for every page), no query of the entries names a bank (the same: PostgreSQL
    read the bank's whole index), and an import into a bank the partner does not share is
    passed over without reading its entries. Every shared entry comes exactly once across the
    pages: an id of a range that is not there (another transaction's, rolled back) is passed
    over, and an entry another transaction added to another bank with an id inside a range
    comes at its own change if that bank is shared, never if not. An exchange's import into a
    shared bank is passed over unread too (its entries are never passed on)."""
    from sqlalchemy import event, select, text

    from rempart.banks import changes
    from rempart.banks.models import BankChange, BankEntry

    with runtime.db.session() as s:
        shared = banks.create_bank(s, "shared")
        also = banks.create_bank(s, "also-shared")
        private = banks.create_bank(s, "private")
        _, key = feed.add_partner(s, runtime.settings.home, "peer", ["shared", "also-shared"])
        partner = feed.authenticate_partner(s, runtime.settings.home, key)
    with runtime.db.session() as s:
        banks.apply_entry_batches(s, s.get(type(shared), shared.id),
                                  [[NewEntry("pdq", pdq(i)) for i in range(40)]])
    with runtime.db.session() as s:
        banks.apply_entry_batches(s, s.get(type(private), private.id),
                                  [[NewEntry("pdq", pdq(i)) for i in range(100, 160)]])
    with runtime.db.session() as s:
        banks.apply_entry_batches(s, s.get(type(shared), shared.id),
                                  [[NewEntry("pdq", pdq(i)) for i in range(400, 420)]],
                                  added_by="exchange:upstream")
    with runtime.db.session() as s:
        banks.add_entries(s, s.get(type(shared), shared.id), [NewEntry("pdq", pdq(200))])
        ranges = s.execute(select(BankChange.ref_id, BankChange.ref_to)
                           .where(BankChange.ref_to.is_not(None)).order_by(BankChange.seq)).all()
        (lo, hi), (plo, phi), (xlo, xhi) = ranges
        # ids inside the shared range: one never committed, two taken by other transactions'
        # entries of other banks (each with its own change, as add_entries writes)
        gone, theirs, ours = lo + 5, lo + 11, lo + 23
        dropped = set(s.scalars(select(BankEntry.value).where(BankEntry.id.in_([gone, theirs, ours]))))
        s.execute(text("DELETE FROM bank_entries WHERE id IN (:a, :b, :c)"),
                  {"a": gone, "b": theirs, "c": ours})
        s.add_all([BankEntry(id=theirs, bank_id=private.id, signal_type="pdq", value=pdq(300)),
                   BankEntry(id=ours, bank_id=also.id, signal_type="pdq", value=pdq(301))])
        s.flush()
        s.add_all([BankChange(kind="entry", ref_id=theirs), BankChange(kind="entry", ref_id=ours)])
    spans: list[tuple[int, int]] = []
    named_banks: list[str] = []

    def reads(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM bank_entries" not in statement or not statement.lstrip().startswith("SELECT"):
            return
        if "bank_entries.bank_id IN" in statement or "bank_entries.bank_id =" in statement:
            named_banks.append(statement)
        if "BETWEEN" in statement:  # the bounds, by their names whatever the driver's style
            bounds = [v for k, v in context.compiled_parameters[0].items() if k.startswith("id_")]
            spans.append((min(bounds), max(bounds)))

    limit = 7
    listed, after, after_entry, pages = [], 0, 0, 0
    event.listen(runtime.db.engine, "before_cursor_execute", reads)
    try:
        with runtime.db.session() as s:
            while True:
                body, _ = feed.feed_page(s, partner, after, limit, after_entry)
                page = json.loads(body)
                listed += [i["value"] for i in page["items"]]
                pages += 1
                after, after_entry = page["next"], page.get("next_entry", 0)
                if not page["more"]:
                    break
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", reads)
    assert spans and all(b - a + 1 <= limit + 1 for a, b in spans), spans
    assert not [a for a, b in spans if plo <= a <= phi or plo <= b <= phi], "the private range was read"
    assert not [a for a, b in spans if xlo <= a <= xhi], "the exchange's range was read"
    assert not named_banks, named_banks[0]
    assert len(dropped) == 3 and len(listed) == len(set(listed))
    assert set(listed) == {pdq(i) for i in range(40)} - dropped | {pdq(200), pdq(301)}
    assert pdq(300) not in listed and pages >= 40 // limit
    # a consumer that does not send after_entry gets a range whole, read in windows all the same
    monkeypatch.setattr(changes, "WINDOW_MAX", 5)
    spans.clear()
    event.listen(runtime.db.engine, "before_cursor_execute", reads)
    try:
        with runtime.db.session() as s:
            whole = json.loads(feed.feed_page(s, partner, 0, limit)[0])
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", reads)
    assert sorted(i["value"] for i in whole["items"]) == sorted({pdq(i) for i in range(40)} - dropped)
    assert "next_entry" not in whole and spans and all(b - a + 1 <= 5 for a, b in spans), spans
