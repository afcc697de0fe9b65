"""Tiled logs: verify tessera's test log, reproduce it byte for byte, and catch tampering."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from tlog_vectors import TESSERA, TESSERA_ORIGIN, TESSERA_SKEY, TESSERA_VKEY

from rempart.errors import InvalidInput, InvariantViolation, NotFound
from rempart.transparency import (
    Checkpoint,
    Ed25519Signer,
    Ed25519Verifier,
    LogClient,
    LogUnavailable,
    MemoryHashStore,
    VerificationError,
    directory_fetcher,
    leaf_hash,
    sign_checkpoint,
    tree_hash,
    url_fetcher,
    verify_consistency,
    verify_inclusion,
    write_checkpoint,
    write_tiles,
)

LOG = Ed25519Verifier.from_vkey(TESSERA_VKEY)
SIGNER = Ed25519Signer.from_skey(TESSERA_SKEY)
TESSERA_ENTRIES = [
    b"one", b"two", b"three", b"four", b"five", b"six", b"seven", b"eit",
    b"nain", b"ten", b"ileven", b"twelf", b"threeten", b"fourten", b"fivten",
]  # fmt: skip


def _client(directory: Path) -> LogClient:
    return LogClient(directory_fetcher(directory), TESSERA_ORIGIN, [LOG])


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_tessera_log_verifies() -> None:
    client = _client(TESSERA)
    cps = [client.open_checkpoint((TESSERA / f"checkpoint.{n}").read_bytes()) for n in range(16)]
    latest = client.latest()
    assert latest == cps[15]
    assert client.entries(latest, 0, 15) == TESSERA_ENTRIES
    assert client.entries(latest, 4, 7) == TESSERA_ENTRIES[4:7]
    for cp in cps:
        assert cp.root == tree_hash(cp.size, client.hash_reader(cp))
        for index in range(cp.size):
            proof = client.inclusion_proof(cp, index)
            verify_inclusion(leaf_hash(TESSERA_ENTRIES[index]), index, cp.size, proof, cp.root)
        for old in cps[: cp.size + 1]:
            proof = client.consistency_proof(old, cp)
            verify_consistency(old.size, cp.size, proof, old.root, cp.root)


def test_tessera_log_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    store = MemoryHashStore()
    for n, entry in enumerate(TESSERA_ENTRIES):
        store.append(entry)
        write_tiles(tmp_path, TESSERA_ENTRIES, store, n, n + 1)
    for n in range(16):
        cp = Checkpoint(TESSERA_ORIGIN, n, tree_hash(n, store))
        write_checkpoint(tmp_path, sign_checkpoint(cp, [SIGNER]))
        (tmp_path / f"checkpoint.{n}").write_bytes((tmp_path / "checkpoint").read_bytes())
    assert _files(tmp_path) == _files(TESSERA)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "log"
    shutil.copytree(TESSERA, target)
    for p in target.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return target


def _flip(path: Path, at: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))


def test_tampered_tile_is_caught(tmp_path: Path) -> None:
    log = _copy(tmp_path)
    _flip(log / "tile/0/000.p/15", at=32 * 3)
    client = _client(log)
    with pytest.raises(VerificationError):
        client.inclusion_proof(client.latest(), 0)


def test_tampered_entry_is_caught(tmp_path: Path) -> None:
    log = _copy(tmp_path)
    _flip(log / "tile/entries/000.p/15", at=3)  # a byte of "one"
    client = _client(log)
    with pytest.raises(VerificationError):
        client.entries(client.latest(), 0, 1)
    assert client.entries(client.latest(), 1, 15) == TESSERA_ENTRIES[1:]


def test_tampered_checkpoint_is_caught(tmp_path: Path) -> None:
    log = _copy(tmp_path)
    cp = (log / "checkpoint").read_bytes()
    (log / "checkpoint").write_bytes(cp.replace(b"\n15\n", b"\n14\n"))
    with pytest.raises(VerificationError):
        _client(log).latest()


def test_missing_tile_and_bad_paths(tmp_path: Path) -> None:
    log = _copy(tmp_path)
    (log / "tile/0/000.p/15").unlink()
    client = _client(log)
    with pytest.raises(NotFound):
        client.inclusion_proof(client.latest(), 3)
    fetch = directory_fetcher(log)
    for bad in ("../checkpoint", "/etc/passwd", "tile/0/../../x"):
        with pytest.raises(InvalidInput):
            fetch(bad)


# --- a multi-level log -------------------------------------------------------------------------

SIZES = (1000, 65_536, 65_836)  # 65,536 fills a level-1 tile; 65,836 adds level 2


@pytest.fixture(scope="module")
def big_log(tmp_path_factory) -> tuple[Path, list[Checkpoint], list[bytes]]:
    directory = tmp_path_factory.mktemp("biglog")
    data = [b"leaf %d" % i for i in range(SIZES[-1])]
    store, cps, done = MemoryHashStore(), [], 0
    for size in SIZES:
        for entry in data[done:size]:
            store.append(entry)
        write_tiles(directory, data, store, done, size)
        cp = Checkpoint("rempart.example/log", size, store.root())
        write_checkpoint(directory, sign_checkpoint(cp, [SIGNER_BIG]))
        cps.append(cp)
        done = size
    return directory, cps, data


SIGNER_BIG = Ed25519Signer("rempart.example/log", b"\x07" * 32)


def test_multi_level_log_proofs(big_log) -> None:
    directory, cps, data = big_log
    assert (directory / "tile/1/000").stat().st_size == 8192
    assert (directory / "tile/2/000.p/1").exists() and (directory / "tile/1/001.p/1").exists()
    client = LogClient(directory_fetcher(directory), "rempart.example/log", [SIGNER_BIG.verifier()])
    assert client.latest() == cps[-1]
    for cp in cps:
        for index in (0, 255, 256, 999, 65_535, 65_600, 65_835):
            if index < cp.size:
                client.inclusion_proof(cp, index)
        for old in cps:
            if old.size <= cp.size:
                client.consistency_proof(old, cp)
    assert client.entries(cps[-1], 65_530, 65_540) == data[65_530:65_540]


def test_tampered_full_tile_is_caught_by_the_tile_above(big_log, tmp_path: Path) -> None:
    directory, cps, _ = big_log
    log = tmp_path / "log"
    shutil.copytree(directory, log)
    _flip(log / "tile/0/100", at=64)
    client = LogClient(directory_fetcher(log), "rempart.example/log", [SIGNER_BIG.verifier()])
    with pytest.raises(VerificationError):
        client.inclusion_proof(cps[-1], 100 * 256 + 5)
    client.inclusion_proof(cps[-1], 99 * 256 + 5)  # other tiles are still fine


def test_writer_refuses_to_rewrite_history(big_log) -> None:
    directory, _, data = big_log
    forged = list(data)
    forged[3] = b"rewritten"
    store = MemoryHashStore()
    for entry in forged[:1000]:
        store.append(entry)
    with pytest.raises(InvariantViolation):
        write_tiles(directory, forged, store, 0, 1000)


# --- over HTTP ---------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


def test_log_read_over_http() -> None:
    handler = functools.partial(_QuietHandler, directory=str(TESSERA))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        client = LogClient(url_fetcher(url, timeout=5), TESSERA_ORIGIN, [LOG])
        latest = client.latest()
        assert client.entries(latest, 0, 15) == TESSERA_ENTRIES
        client.consistency_proof(client.open_checkpoint((TESSERA / "checkpoint.7").read_bytes()), latest)
        with pytest.raises(NotFound):
            url_fetcher(url)("tile/0/001")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    with pytest.raises(LogUnavailable):
        url_fetcher(url, timeout=2)("checkpoint")
    with pytest.raises(InvalidInput):
        url_fetcher("file:///etc/")
