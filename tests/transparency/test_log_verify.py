"""Publication and the verifier: honest output verifies; every kind of tampering is caught."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from log_fixtures import DAY1, Uploads, bank_known, set_day, upload

from rempart.transparency import (
    Checkpoint,
    Ed25519Signer,
    LogClient,
    MemoryHashStore,
    Report,
    Site,
    format_report_leaf,
    load_verifier,
    median_time_to_action,
    parse_decision_leaf,
    sign_checkpoint,
    verify_published_consistency,
    verify_published_report,
    verify_receipt,
)
from rempart.transparency.db import log_store
from rempart.transparency.db.models import LogReport
from rempart.transparency.db.service import BLOCK_FIELDS as BLOCK
from rempart.transparency.db.publish import publish
from rempart.transparency.db.receipts import make_receipt
from rempart.errors import InvalidInput
from tests.factories import image_bytes

DAY2 = DAY1 + dt.timedelta(days=1)


@pytest.fixture
def published(runtime, tmp_path):
    """Two days of uploads (blocks, reviews, allows), both closed, published; returns (dir, uploads)."""
    bank_known(runtime)
    uploads = Uploads()
    n = 0
    for day, plan in ((DAY1, [(1, "greyscale"), (50, "exact"), (2, "exact"), (10_001, "exact")]),
                      (DAY2, [(2, "resized"), (10_002, "exact"), (1, "exact")])):
        set_day(runtime, day)
        for seed, edit in plan:
            n += 1
            upload(runtime, seed, edit, n, uploads)
    set_day(runtime, DAY2 + dt.timedelta(days=1))
    with runtime.db.session() as s:
        runtime.transparency.close_day(s, DAY2)
        publish(s, runtime.transparency, tmp_path / "pub")
    return tmp_path / "pub", uploads


def _vkey(pub: Path) -> str:
    return (pub / "vkey").read_text().strip()


def _copy(pub: Path, tmp_path: Path) -> Path:
    out = tmp_path / "tampered"
    shutil.copytree(pub, out)
    return out


def test_honest_publication_verifies(published):
    pub, uploads = published
    for day in (DAY1, DAY2):
        v = verify_published_report(pub, day.isoformat(), _vkey(pub))
        assert v.ok, v.to_json()
        assert "chain to the previous report" in v.passed
    v = verify_published_report(pub, DAY2.isoformat(), _vkey(pub))
    assert v.details["decisions"] == 2 and v.details["previous_day"] == DAY1.isoformat()
    sizes = sorted(int(p.name) for p in (pub / "checkpoints").iterdir())
    old = (pub / "checkpoints" / str(sizes[0])).read_bytes()
    assert verify_published_consistency(old, (pub / "checkpoint").read_bytes(), pub, str(pub / "vkey")).ok
    html = (pub / "reports" / f"{DAY1}.html").read_text()
    assert "hash match block" not in html and "own initiative hash match" in html


def test_bans_and_median_time_to_action_are_recomputed_from_the_leaves(published):
    pub, _ = published
    vkey = _vkey(pub)
    verifier = load_verifier(vkey)
    client = LogClient(Site(pub).log, verifier.name, [verifier])
    latest = client.open_checkpoint((pub / "checkpoint").read_bytes())
    for day in (DAY1, DAY2):
        doc = json.loads((pub / "reports" / f"{day}.json").read_text())
        leaves = [parse_decision_leaf(e) for e in client.entries(latest, doc["first"], doc["last"] + 1)]
        bans = [d for d in leaves if d.decision not in ("no_action", "reinstated")]
        assert doc["banned"] == {t: sum(d.target == t for d in bans) for t in ("content", "account", "space")}
        assert doc["banned"]["content"] > 0 and doc["banned"]["space"] == 0  # automatic blocks only
        assert doc["time_to_action"]["median"] == median_time_to_action(d.time_to_action for d in bans)
        assert doc["time_to_action"]["distribution"]["immediate"] == len(bans)
        assert {d.target for d in leaves} == {"content"}
    html = (pub / "reports" / f"{DAY1}.html").read_text()
    assert "Banned spaces per day" in html and "immediate (blocked at upload) (median)" in html


def test_nothing_private_is_published(published, runtime):
    pub, uploads = published
    secrets = list(uploads.contexts)
    for fp in uploads.fingerprints:
        secrets += [fp.sha256, fp.md5, fp.sha1, fp.pdq().pdq]
    with runtime.db.session() as s:
        for index in range(log_store.tree_size(s)):
            try:
                receipt = make_receipt(s, runtime.transparency, index)
            except InvalidInput:  # report leaves have no receipt
                continue
            secrets.append(receipt["private_opening"]["salt"])
    assert len(uploads.blocked) == 4
    for path in pub.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            lowered = data.lower()
            for secret in secrets:
                assert secret.lower().encode() not in lowered, (path, secret)
                raw = bytes.fromhex(secret) if len(secret) in (32, 40, 64) and _is_hex(secret) else None
                if raw:
                    assert raw not in data and base64.b64encode(raw) not in data, (path, secret)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("what", ["entry bundle", "tile", "checkpoint signature", "report json",
                                  "statements of reasons", "missing report", "median time to action",
                                  "time to action distribution", "banned spaces", "entry target"])
def test_tampering_with_any_published_file_is_caught(published, tmp_path, what):
    pub, _ = published
    bad = _copy(pub, tmp_path)
    bundles = list((bad / "tile" / "entries").rglob("*.p/*"))
    tiles = list((bad / "tile" / "0").rglob("*.p/*"))
    assert len(bundles) == len(tiles) == 1  # one signed size: the tampered file is the one read
    bundle, tile = bundles[0], tiles[0]
    day = DAY1.isoformat()
    if what == "entry bundle":
        data = bundle.read_bytes()
        bundle.write_bytes(data.replace(b"content_type image", b"content_type video", 1))
    elif what == "tile":
        _flip(tile, 5)
    elif what == "checkpoint signature":
        text = (bad / "checkpoint").read_bytes()
        sig_at = text.rindex(b" ") + 10
        (bad / "checkpoint").write_bytes(text[:sig_at] + (b"A" if text[sig_at:sig_at + 1] != b"A" else b"B")
                                         + text[sig_at + 1:])
    elif what == "report json":
        doc = json.loads((bad / "reports" / f"{day}.json").read_text())
        doc["counts"][0]["count"] -= 1
        (bad / "reports" / f"{day}.json").write_text(json.dumps(doc))
    elif what == "statements of reasons":
        doc = json.loads((bad / "reports" / f"{day}.sor.json").read_text())
        doc["statements"].pop()
        (bad / "reports" / f"{day}.sor.json").write_text(json.dumps(doc))
    elif what == "missing report":
        (bad / "reports" / f"{day}.json").unlink()
    elif what in ("median time to action", "time to action distribution", "banned spaces"):
        doc = json.loads((bad / "reports" / f"{day}.json").read_text())
        tta = doc["time_to_action"]
        assert tta["median"] == "immediate" and tta["distribution"]["immediate"] > 0
        if what == "median time to action":
            tta["median"] = "under_1h"
        elif what == "time to action distribution":
            tta["distribution"]["immediate"] -= 1
            tta["distribution"]["under_1h"] += 1
        else:
            doc["banned"]["space"] += 1
        (bad / "reports" / f"{day}.json").write_text(json.dumps(doc))
    elif what == "entry target":  # an item ban retold as a space ban, in the leaf itself
        data = bundle.read_bytes()
        bundle.write_bytes(data.replace(b"target content", b"target space  ", 1))
    v = verify_published_report(bad, day, _vkey(pub))
    assert not v.ok and v.reason, what
    if what in ("median time to action", "time to action distribution"):
        assert v.failed == "report JSON matches the log" and "time_to_action" in v.reason
    if what == "banned spaces":
        assert v.failed == "report JSON matches the log" and "banned" in v.reason
    assert verify_published_report(pub, day, _vkey(pub)).ok  # the honest copy is untouched


def test_a_wrong_key_fails(published):
    pub, _ = published
    other = Ed25519Signer("rempart.local/log", bytes(32)).verifier().vkey()
    v = verify_published_report(pub, DAY1.isoformat(), other)
    assert not v.ok and v.failed == "checkpoint signature"


def test_a_dropped_day_breaks_the_chain(runtime, tmp_path):
    """A log that is honest byte for byte but whose operator skipped a day's report."""
    set_day(runtime, DAY1 + dt.timedelta(days=5))
    log = runtime.transparency
    with runtime.db.session() as s:
        log.close_day(s, DAY1)
        first = s.get(LogReport, DAY1.isoformat()).leaf_index
        head = log_store.lock_head(s)
        skipped = DAY1 + dt.timedelta(days=2)  # DAY1 + 1 never reported
        report = Report(skipped.isoformat(), None, None, first, {})
        idx = log_store.append(s, head, format_report_leaf(report), "report", report.day)
        s.add(LogReport(day=report.day, leaf_index=idx, previous=first, closed_by="close-day"))
        log.sign_checkpoint(s)
        publish(s, log, tmp_path / "pub")
    pub = tmp_path / "pub"
    assert verify_published_report(pub, DAY1.isoformat(), _vkey(pub)).ok
    v = verify_published_report(pub, skipped.isoformat(), _vkey(pub))
    assert not v.ok and v.failed == "chain to the previous report" and "missing" in v.reason


def test_a_forked_checkpoint_is_not_consistent(published, runtime, tmp_path):
    pub, _ = published
    honest = (pub / "checkpoint").read_bytes()
    fork = MemoryHashStore()
    for i in range(3):
        fork.append(f"another history {i}".encode())
    forked = sign_checkpoint(Checkpoint(runtime.transparency.origin, fork.size, fork.root()),
                             [runtime.transparency.signer])
    v = verify_published_consistency(forked, honest, pub, _vkey(pub))
    assert not v.ok and v.failed == "consistency"
    v = verify_published_consistency(honest, forked, pub, _vkey(pub))
    assert not v.ok


def test_receipts_prove_inclusion_and_open_only_to_their_content(published, runtime, tmp_path):
    pub, uploads = published
    with runtime.db.session() as s:
        receipt = make_receipt(s, runtime.transparency, 0)
        public_only = make_receipt(s, runtime.transparency, 0, with_opening=False)
    data = json.dumps(receipt).encode()
    assert verify_receipt(data, uploads.blocked[0], _vkey(pub)).ok
    assert verify_receipt(json.dumps(public_only).encode(), None, _vkey(pub)).ok
    v = verify_receipt(data, image_bytes(10_001), _vkey(pub))
    assert not v.ok and v.failed == "content matches"
    assert not verify_receipt(json.dumps(public_only).encode(), uploads.blocked[0], _vkey(pub)).ok
    wrong_salt = json.loads(data)
    wrong_salt["private_opening"]["salt"] = base64.b64encode(bytes(32)).decode()
    v = verify_receipt(json.dumps(wrong_salt).encode(), uploads.blocked[0], _vkey(pub))
    assert not v.ok and v.failed == "commitment opens"
    other = Ed25519Signer("rempart.local/log", bytes(32)).verifier().vkey()
    assert not verify_receipt(data, uploads.blocked[0], other).ok
    proof = receipt["tlog_proof"]
    tampered = dict(receipt, tlog_proof=proof.replace("index 0", "index 1", 1))
    assert not verify_receipt(json.dumps(tampered).encode(), None, _vkey(pub)).ok


def test_the_verifier_reads_a_published_log_over_http(published):
    import functools
    import http.server
    import threading

    pub, _ = published
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(pub))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert verify_published_report(url, DAY2.isoformat(), _vkey(pub)).ok
        v = verify_published_report(url, (DAY2 + dt.timedelta(days=9)).isoformat(), _vkey(pub))
        assert not v.ok and v.failed == "report file"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("what", ["tile", "old signature", "wrong key"])
def test_consistency_fails_on_tampered_input(published, runtime, tmp_path, what):
    pub, _ = published
    with runtime.db.session() as s:  # one more leaf, so there are two signed sizes to compare
        runtime.transparency.record_decision(s, {**BLOCK, "content_type": "image"}, bytes(32), ("case", 1))
        publish(s, runtime.transparency, pub)
    sizes = sorted(int(p.name) for p in (pub / "checkpoints").iterdir())
    old, new = ((pub / "checkpoints" / str(n)).read_bytes() for n in sizes[-2:])
    vkey = _vkey(pub)
    assert verify_published_consistency(old, new, pub, vkey).ok
    bad = _copy(pub, tmp_path)
    if what == "tile":
        for tile in (bad / "tile" / "0").rglob("*.p/*"):
            _flip(tile, 3)
    elif what == "old signature":
        old = old[:-10] + (b"A" if old[-10:-9] != b"A" else b"B") + old[-9:]
    else:
        vkey = Ed25519Signer("rempart.local/log", bytes(32)).verifier().vkey()
    v = verify_published_consistency(old, new, bad, vkey)
    assert not v.ok and v.reason


def test_witness_policy_k_of_n(published, tmp_path):
    """A checkpoint cosigned by witnesses passes a k-of-n policy; too few cosignatures fail."""
    from rempart.transparency.cosignature import CosignatureSigner, WitnessPolicy
    from rempart.transparency.note import parse_note, sign_note

    pub, _ = published
    alice, bob = CosignatureSigner.generate("witness.alice"), CosignatureSigner.generate("witness.bob")
    policy = lambda k: WitnessPolicy((alice.verifier(), bob.verifier()), k)  # noqa: E731
    day = DAY2.isoformat()
    assert not verify_published_report(pub, day, _vkey(pub), policy(1)).ok  # nobody cosigned yet
    text, sigs = parse_note((pub / "checkpoint").read_bytes())
    (pub / "checkpoint").write_bytes(sign_note(text, [alice], keep=sigs))
    v = verify_published_report(pub, day, _vkey(pub), policy(1))
    assert v.ok and v.details["witnesses"] == ["witness.alice"]
    failed = verify_published_report(pub, day, _vkey(pub), policy(2))
    assert not failed.ok and failed.failed == "witness cosignatures"
    assert verify_published_report(pub, day, _vkey(pub)).ok  # the log's own signature is intact
    old = sorted((pub / "checkpoints").iterdir(), key=lambda p: int(p.name))[0].read_bytes()
    assert verify_published_consistency(old, (pub / "checkpoint").read_bytes(), pub, _vkey(pub),
                                        policy(1)).ok
