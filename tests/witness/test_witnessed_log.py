"""A witnessed log end to end: three real witnesses (``rempart witness serve``) on 127.0.0.1 and
the log's database (SQLite or PostgreSQL). The daily report verified with a 2-of-3 policy, a
forged fork refused by every witness and caught by the verifier, a witness restarted with its
state, the specification's status codes over HTTP, and concurrent submissions serialised."""

from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.config import Settings
from rempart.runtime import Runtime
from rempart.transparency import open_note, verify_published_report
from rempart.transparency.cosignature import CosignatureVerifier, WitnessPolicy
from rempart.transparency.db import witnesses as log_witnesses
from rempart.transparency.db.publish import publish
from rempart.transparency.witness import SIZE_CONTENT_TYPE, format_add_checkpoint, origin_hash
from tests.transparency.log_fixtures import DAY1, Uploads, bank_known, set_day, upload
from tests.witness.witness_helpers import MemoryLog, WitnessProcess

runner = CliRunner()


def rempart(*args: str, code: int = 0) -> str:
    r = runner.invoke(app, list(args), catch_exceptions=False)
    assert r.exit_code == code, r.output
    return r.stdout


def _a_day(rt: Runtime, seeds=(1, 2), day=DAY1) -> None:
    """Blocked uploads on ``day``, then the day closed (its report leaf and a signed checkpoint)."""
    set_day(rt, day)
    uploads = Uploads()
    for n, seed in enumerate(seeds):
        upload(rt, seed, "exact", n, uploads)
    set_day(rt, day, 23)
    with rt.db.session() as s:
        rt.transparency.close_day(s, day)


@pytest.fixture
def trio(runtime, tmp_path):
    """Three witnesses following the test log's key."""
    vkey = runtime.transparency.vkey()
    procs = [WitnessProcess(tmp_path / f"w{i}", f"witness.test/w{i}", [vkey]) for i in (1, 2, 3)]
    for p in procs:
        p.start()
    yield procs
    for p in procs:
        p.stop()


def _policy(procs, k: int) -> WitnessPolicy:
    return WitnessPolicy(tuple(CosignatureVerifier.from_vkey(p.vkey) for p in procs), k)


def test_a_day_verified_with_two_of_three_witnesses(runtime, cli_env, trio, tmp_path):
    bank_known(runtime)
    _a_day(runtime)
    for p in trio[:2]:
        rempart("transparency", "witness", "add", p.url, p.vkey)
    rempart("transparency", "witness", "add", trio[2].url, trio[2].vkey, "--quorum", "4", code=1)  # > n
    rempart("transparency", "witness", "add", trio[2].url, trio[2].vkey, "--quorum", "2")
    listed = json.loads(rempart("transparency", "witness", "list", "--json"))
    assert listed["quorum"] == 2 and [w["name"] for w in listed["witnesses"]] == [
        "witness.test/w1", "witness.test/w2", "witness.test/w3"]

    trio[2].stop()  # one witness down: two of three still make the quorum
    out = rempart("transparency", "witness", "collect", "--json")
    attempts = [json.loads(line) for line in out.splitlines()]
    assert [a["ok"] for a in attempts] == [True, True, False]
    pub = tmp_path / "pub"
    rempart("transparency", "publish", str(pub))
    note = open_note((pub / "checkpoint").read_bytes(),
                     [runtime.transparency.signer.verifier(), *_policy(trio, 2).witnesses])
    assert sorted(s.name for s in note.sigs) == [runtime.transparency.origin, "witness.test/w1", "witness.test/w2"]
    day = DAY1.isoformat()
    ok = verify_published_report(pub, day, str(pub / "vkey"), _policy(trio, 2))
    assert ok.ok and ok.details["witnesses"] == ["witness.test/w1", "witness.test/w2"], ok.to_json()
    three = verify_published_report(pub, day, str(pub / "vkey"), _policy(trio, 3))
    assert not three.ok and three.failed == "witness cosignatures"
    args = ["verify", "report", day, "--log", str(pub), "--vkey", str(pub / "vkey")]
    for p in trio:
        args += ["--witness", p.vkey]
    rempart(*args, "--witnesses-needed", "2")
    rempart(*args, code=1)  # all three by default

    state = json.loads(rempart("transparency", "witness", "status", "--json"))
    assert state["latest_cosignatures"] == 2 and state["missing"] == ["witness.test/w3"]
    assert [d["final"] for d in state["days"]] == [True]
    # asked by collect, then again by publish
    assert state["witnesses"][2]["failures"] == 2 and trio[2].url in state["witnesses"][2]["last_error"]

    trio[2].start()  # back (its state is empty): it answers 409 0, then cosigns from 0
    rempart("transparency", "witness", "collect")
    with runtime.db.session() as s:
        assert log_witnesses.status(s)["latest_cosignatures"] == 3
    rempart("transparency", "publish", str(pub))
    assert verify_published_report(pub, day, str(pub / "vkey"), _policy(trio, 3)).ok

    # the next day: each witness is sent the consistency proof from the size it holds
    _a_day(runtime, seeds=(1,), day=DAY1.replace(day=21))
    rempart("transparency", "witness", "collect")
    with runtime.db.session() as s:
        state = log_witnesses.status(s)
    assert state["latest_cosignatures"] == 3 and all(w["size"] == state["latest_size"] for w in state["witnesses"])
    for p in trio:  # each witness now holds the log's latest size
        status, _, body = p.request("GET", f"/{origin_hash(runtime.transparency.origin)}/checkpoint")
        assert status == 200 and f"\n{state['latest_size']}\n".encode() in body


def test_a_forked_log_is_refused_by_every_witness_and_caught_by_the_verifier(runtime, cli_env, trio, tmp_path):
    bank_known(runtime)
    _a_day(runtime)
    for p in trio:
        rempart("transparency", "witness", "add", p.url, p.vkey)
    rempart("transparency", "witness", "list", "--quorum", "2")
    rempart("transparency", "witness", "collect")
    with runtime.db.session() as s:
        honest = log_witnesses.status(s)["latest_size"]

    # the fork: the same home (origin and key), another database, another history
    fork = Runtime(Settings(home=runtime.settings.home, database_url=f"sqlite:///{tmp_path / 'fork.db'}"))
    try:
        bank_known(fork, seeds=(3, 4))
        _a_day(fork, seeds=(3, 4, 3, 4, 3))
        assert fork.transparency.vkey() == runtime.transparency.vkey()
        with fork.db.session() as s:
            for p in trio:
                log_witnesses.add_witness(s, p.url, p.vkey)
        attempts = log_witnesses.collect(fork.db, fork.transparency, 10)
        assert [a.ok for a in attempts] == [False, False, False]
        assert all("422" in a.error for a in attempts), [a.error for a in attempts]
        pub = tmp_path / "fork-pub"
        with fork.db.session() as s:
            publish(s, fork.transparency, pub)
    finally:
        fork.close()
    for p in trio:  # each witness kept the honest size
        status, ctype, body = p.add(format_add_checkpoint(0, [], (pub / "checkpoint").read_bytes()))
        assert (status, ctype, body) == (409, SIZE_CONTENT_TYPE, f"{honest}\n".encode())
    verdict = verify_published_report(pub, DAY1.isoformat(), str(pub / "vkey"), _policy(trio, 2))
    assert not verdict.ok and verdict.failed == "witness cosignatures", verdict.to_json()
    assert "0 witness cosignature(s), policy needs 2" in verdict.reason
    assert verify_published_report(pub, DAY1.isoformat(), str(pub / "vkey")).ok  # only witnesses see it


def test_a_restarted_witness_keeps_its_state(tmp_path):
    log = MemoryLog.new("example.org/log")
    log.append(b"a", b"b", b"c")
    w = WitnessProcess(tmp_path / "w", "witness.test/w", [log.vkey])
    with w:
        assert w.add(log.request(0))[0] == 200
    log.append(b"d")
    with w:
        assert w.add(log.request(0)) == (409, SIZE_CONTENT_TYPE, b"3\n")
        assert w.add(log.request(3))[0] == 200
    with w:
        assert w.add(log.request(3)) == (409, SIZE_CONTENT_TYPE, b"4\n")


def test_the_specification_status_codes_over_http(tmp_path):
    log = MemoryLog.new("example.org/log")
    log.append(*(bytes([i]) for i in range(6)))
    stranger = MemoryLog.new("example.org/stranger", b"\x05" * 32)
    stranger.append(b"x")
    with WitnessProcess(tmp_path / "w", "witness.test/w", [log.vkey]) as w:
        assert w.request("GET", f"/{origin_hash('example.org/log')}/checkpoint")[0] == 404
        assert w.add(log.request(0, 4))[0] == 200
        assert w.add(b"old 1\nnot a proof\n\n" + log.signed())[0] == 400
        assert w.add(format_add_checkpoint(6, [], log.signed(4)))[0] == 400  # old size beyond the size
        assert w.add(stranger.request(0))[0] == 404
        assert w.add(MemoryLog.new("example.org/log", b"\x09" * 32).request(0))[0] == 403
        assert w.add(log.request(0, 3)) == (409, SIZE_CONTENT_TYPE, b"4\n")  # a rollback
        fork = MemoryLog(log.signer)
        fork.append(b"\x00", b"forged", b"\x02", b"\x03", b"\x04", b"\x05")
        assert w.add(fork.request(4))[0] == 422
        assert w.add(format_add_checkpoint(4, [], fork.signed(4)))[0] == 422
        assert w.request("GET", "/add-checkpoint")[0] == 405
        assert w.add(b"old 0\n\n" + b"x" * 200_000)[0] == 413
        status, ctype, body = w.add(log.request(4))
        assert (status, ctype.split(";")[0]) == (200, "text/plain") and body.startswith("— witness.test/w ".encode())
        status, _, body = w.request("GET", f"/{origin_hash('example.org/log')}/checkpoint")
        assert status == 200 and body.startswith(b"example.org/log\n6\n")


def test_concurrent_submissions_advance_once_per_size(tmp_path):
    log = MemoryLog.new("example.org/log")
    log.append(*(bytes([i]) for i in range(40)))
    with WitnessProcess(tmp_path / "w", "witness.test/w", [log.vkey]) as w:
        assert w.add(log.request(0, 8))[0] == 200
        size = 8
        for _ in range(3):
            bodies = [log.request(size, size + 1 + i) for i in range(8)]  # 8 different next sizes
            barrier = threading.Barrier(len(bodies))
            answers: list = [None] * len(bodies)

            def send(i: int) -> None:
                barrier.wait()
                answers[i] = w.add(bodies[i])

            threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            won = [i for i, a in enumerate(answers) if a[0] == 200]
            assert len(won) == 1, [a[0] for a in answers]
            new = size + 1 + won[0]
            assert all(a == (409, SIZE_CONTENT_TYPE, f"{new}\n".encode()) for i, a in enumerate(answers)
                       if i != won[0])
            status, _, body = w.request("GET", f"/{origin_hash('example.org/log')}/checkpoint")
            assert body.startswith(f"example.org/log\n{new}\n".encode())
            size = new


def test_concurrent_collectors_keep_one_cosignature_per_witness(runtime, trio):
    """``rempart serve``'s worker and a ``witness collect`` command at the same moment."""
    bank_known(runtime)
    _a_day(runtime)
    with runtime.db.session() as s:
        for p in trio:
            log_witnesses.add_witness(s, p.url, p.vkey)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        results[i] = log_witnesses.collect(runtime.db, runtime.transparency, 10)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a.ok for r in results for a in r), results
    with runtime.db.session() as s:
        state = log_witnesses.status(s)
        assert state["latest_cosignatures"] == 3
        note = open_note(log_witnesses.served_checkpoint(s),
                         [runtime.transparency.signer.verifier(), *_policy(trio, 3).witnesses])
    assert len(note.sigs) == 4
