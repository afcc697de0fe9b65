"""Bank changes raced against the real API: a bank is created once, an entry added once, and
enabling, disabling or removing an entry changes it (and retro-scans) once."""

from __future__ import annotations

from sqlalchemy import func, select

from rempart.api.permissions import Scope
from rempart.api.tokens import issue_token
from rempart.banks import service as banks
from rempart.banks.models import BankChange, BankEntry
from rempart.moderation.models import CaseItem
from rempart.scanning.models import ItemMatch
from tests.concurrency.race import client, race, statuses, widen
from tests.factories import image_bytes
from tests.web.web_helpers import upload

N = 5


class Curators:
    """``N`` API clients, each with a curator token of its own (N curators at work at once)."""

    def __init__(self, runtime, server) -> None:
        with runtime.db.session() as s:
            secrets = [issue_token(s, f"curator-{i}", frozenset({Scope.CURATOR}))[1]
                       for i in range(N)]
        self.clients = [client(server) for _ in range(N)]
        for c, secret in zip(self.clients, secrets):
            c.headers["Authorization"] = f"Bearer {secret}"

    def __getitem__(self, i: int):
        return self.clients[i]


def _changes(runtime, entry_id: int) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(BankChange).where(
            BankChange.kind == "entry", BankChange.ref_id == entry_id))


def test_a_bank_is_created_once(runtime, server):
    clients = Curators(runtime, server)
    got = race(N, lambda i: clients[i].post("/v1/banks", json={"name": "race-bank"}))
    assert statuses(got) == [201] + [409] * (N - 1)


def test_an_entry_is_added_once(runtime, server):
    with runtime.db.session() as s:
        banks.create_bank(s, "race-bank")
    clients = Curators(runtime, server)
    body = {"entries": [{"type": "md5", "value": "0" * 31 + "1"},
                        {"type": "sha1", "value": "0" * 39 + "2"}]}
    got = race(N, lambda i: clients[i].post("/v1/banks/race-bank/entries", json=body))
    assert statuses(got) == [200] * N
    assert sum(r.json()["added"] for r in got) == 2
    assert sum(r.json()["already_present"] for r in got) == 2 * (N - 1)
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 2


def _disabled_entry_with_a_missed_upload(runtime) -> int:
    """A review-list entry disabled while a matching picture was uploaded (so it was allowed)."""
    with runtime.db.session() as s:
        banks.create_bank(s, "race-list", action="review")
    fp = runtime.fingerprint(image_bytes(301))
    (entry,) = [e.id for e in runtime.bank_media("race-list", fp).result.added
                if e.signal_type == "sha256"]
    with runtime.db.session() as s:
        for e in banks.active_entries(s, banks.get_bank(s, "race-list")):
            if e.id != entry:
                banks.remove_entry(s, e.id)
        banks.disable_entry(s, entry, reason="checking a false positive")
    assert upload(runtime, 301, "acct-z").verdict == "allow"
    return entry


def test_enabling_an_entry_retro_scans_once(runtime, server):
    entry = _disabled_entry_with_a_missed_upload(runtime)
    before = _changes(runtime, entry)
    clients = Curators(runtime, server)
    got = race(N, lambda i: clients[i].post(f"/v1/entries/{entry}/enable"))
    assert statuses(got) == [200] * N
    assert sum(len(r.json()["retro_matches"]) for r in got) == 1
    assert _changes(runtime, entry) == before + 1
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ItemMatch)
                        .where(ItemMatch.entry_id == entry)) == 1
        assert s.scalar(select(func.count()).select_from(CaseItem)) == 1


def test_an_entry_is_removed_once(runtime, server, monkeypatch):
    entry = _disabled_entry_with_a_missed_upload(runtime)
    widen(monkeypatch, banks, "_record")
    before = _changes(runtime, entry)
    clients = Curators(runtime, server)
    got = race(N, lambda i: clients[i].delete(f"/v1/entries/{entry}"))
    assert statuses(got) == [200] * N
    assert all(r.json()["removed"] for r in got)
    assert _changes(runtime, entry) == before + 1


def test_disabling_and_removing_at_once_leave_the_entry_removed(runtime, server):
    entry = _disabled_entry_with_a_missed_upload(runtime)
    with runtime.db.session() as s:
        banks.enable_entry(s, entry)
    clients = Curators(runtime, server)

    def act(i: int):
        if i % 2:
            return clients[i].delete(f"/v1/entries/{entry}")
        return clients[i].post(f"/v1/entries/{entry}/disable", json={"reason": "race"})

    got = race(N, act)
    assert all(r.status_code in (200, 409) for r in got), statuses(got)
    with runtime.db.session() as s:
        assert banks.get_entry(s, entry).removed_at is not None
