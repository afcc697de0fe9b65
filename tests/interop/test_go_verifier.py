"""Independent verification: rempart's published log, checked by Go's own implementation.

``go_verifier/main.go`` verifies a published directory with ``golang.org/x/mod/sumdb/note``
(C2SP signed notes are Go notes) and ``golang.org/x/mod/sumdb/tlog`` (RFC 6962 hashing, tiles,
inclusion and consistency proofs): the checkpoint signature, the tree hash from the tiles,
every entry bundle and leaf, and consistency with every older checkpoint. It shares no code
with rempart. Notes are also exchanged both ways: Go opens notes rempart signed, rempart opens
notes Go signed, and the two sign byte-identically with the same key (Ed25519 is deterministic).

Needs the Go toolchain and x/mod's source, offline; nothing is downloaded. On Debian::

    apt-get install -y golang-go golang-golang-x-mod-dev

which puts x/mod under /usr/share/gocode/src (another GOPATH holding
src/golang.org/x/mod can be named with REMPART_GOPATH). Without them the tests skip.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.transparency import (
    Checkpoint,
    Ed25519Signer,
    Ed25519Verifier,
    format_checkpoint,
    format_tile_index,
    generate_key,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
)
from rempart.transparency.db.service import BLOCK_FIELDS
from rempart.transparency.note import Signature, parse_signature_line
from rempart.transparency.witness import Witness, add_signatures, init_witness
from tests.transparency.log_fixtures import DAY1, Uploads, bank_known, set_day, upload
from tests.witness.witness_helpers import MemoryLog

GO_SOURCE = Path(__file__).resolve().parent / "go_verifier"
DEBIAN_GOPATH = "/usr/share/gocode"
INSTALL = "apt-get install -y golang-go golang-golang-x-mod-dev"
BULK = 300  # leaves on the third day: the log passes 256, so full tiles and a level-1 tile exist


def _gopath() -> Path | None:
    """A GOPATH whose src holds x/mod's sumdb/note and sumdb/tlog."""
    for root in filter(None, (os.environ.get("REMPART_GOPATH"), DEBIAN_GOPATH)):
        xmod = Path(root) / "src" / "golang.org" / "x" / "mod" / "sumdb"
        if (xmod / "note" / "note.go").is_file() and (xmod / "tlog" / "tile.go").is_file():
            return Path(root)
    return None


@pytest.fixture(scope="module")
def go_verifier(tmp_path_factory) -> Path:
    """Build go_verifier once, offline, in GOPATH mode against the installed x/mod source."""
    go = shutil.which("go")
    if go is None:
        pytest.skip(f"the Go toolchain is not installed ({INSTALL})")
    gopath = _gopath()
    if gopath is None:
        pytest.skip(f"golang.org/x/mod source not found under {DEBIAN_GOPATH}/src ({INSTALL}, or set REMPART_GOPATH)")
    out = tmp_path_factory.mktemp("go_verifier")
    env = {
        **os.environ,
        "GO111MODULE": "off",  # GOPATH mode: imports resolve from $GOPATH/src, no module downloads
        "GOPATH": str(gopath),
        "GOCACHE": str(out / "cache"),
        "GOFLAGS": "",
        "GOENV": "off",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",  # Go >= 1.21 would otherwise fetch a toolchain a go.mod asks for
        "CGO_ENABLED": "0",
    }
    exe = out / "go_verifier"
    r = subprocess.run([go, "build", "-o", str(exe), "."], cwd=GO_SOURCE, env=env,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, f"go build failed:\n{r.stdout}{r.stderr}"
    return exe


def _go(exe: Path, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *map(str, args)], input=stdin, capture_output=True, timeout=60)


def _go_verify(exe: Path, pub: Path, vkey: str | None = None, olds=()) -> tuple[int, dict]:
    args = ["verify", "-log", pub, "-vkey", vkey or f"@{pub / 'vkey'}"]
    for old in olds:
        args += ["-old", old]
    r = _go(exe, *args)
    lines = r.stdout.decode().strip().splitlines()
    assert lines, r.stderr.decode()
    return r.returncode, json.loads(lines[-1])


def _history(pub: Path) -> list[Path]:
    return sorted((pub / "checkpoints").iterdir(), key=lambda p: int(p.name))


@pytest.fixture
def published(runtime, cli_env, tmp_path) -> Path:
    """A log published with ``rempart transparency publish`` four times: empty, then after each of
    two days of uploads (blocks, reviews, allows), then after a day of 300 more decisions."""
    runner = CliRunner()
    pub = tmp_path / "pub"

    def publish() -> None:
        r = runner.invoke(app, ["transparency", "publish", str(pub), "--json"], catch_exceptions=False)
        assert r.exit_code == 0, r.output

    publish()  # the empty log: a size-0 checkpoint
    bank_known(runtime)
    uploads, n = Uploads(), 0
    plans = [[(1, "greyscale"), (50, "exact"), (2, "exact"), (10_001, "exact")],
             [(2, "resized"), (10_002, "exact"), (1, "exact")]]
    for offset, plan in enumerate(plans):
        day = DAY1 + dt.timedelta(days=offset)
        set_day(runtime, day)
        for seed, edit in plan:
            n += 1
            upload(runtime, seed, edit, n, uploads)
        set_day(runtime, day + dt.timedelta(days=1))
        with runtime.db.session() as s:
            runtime.transparency.close_day(s, day)
        publish()
    day3 = DAY1 + dt.timedelta(days=2)
    set_day(runtime, day3)
    with runtime.db.session() as s:
        for k in range(BULK):
            commitment_input = hashlib.sha256(b"benign interop leaf %d" % k).digest()
            runtime.transparency.record_decision(s, {**BLOCK_FIELDS, "content_type": "image"},
                                                 commitment_input, ("case", k))
    set_day(runtime, day3 + dt.timedelta(days=1))
    with runtime.db.session() as s:
        runtime.transparency.close_day(s, day3)
    publish()
    return pub


def _size(pub: Path) -> int:
    return parse_checkpoint(parse_note((pub / "checkpoint").read_bytes())[0]).size


def test_go_verifies_the_published_log(go_verifier, published):
    pub = published
    size = _size(pub)
    assert size > 256 + 7
    history = _history(pub)
    assert history[0].name == "0" and len(history) >= 4
    code, out = _go_verify(go_verifier, pub, olds=history)
    assert code == 0 and out["ok"], out
    assert out["origin"] == "rempart.local/log" and out["size"] == size
    assert out["leaves_checked"] == size and out["bundles_checked"] == -(-size // 256)
    assert out["consistent_with"] == [p.name for p in history]
    # every hash tile rempart published (for every signed size) was checked by Go
    levels = [p.relative_to(pub / "tile").parts[0] for p in (pub / "tile").rglob("*") if p.is_file()]
    hash_tiles = [level for level in levels if level != "entries"]
    assert out["tiles_checked"] == len(hash_tiles) and set(hash_tiles) == {"0", "1"}
    # the same with the key given as a string, and on the oldest non-empty checkpoint alone
    vkey = (pub / "vkey").read_text().strip()
    assert _go_verify(go_verifier, pub, vkey=vkey, olds=[history[1]])[0] == 0


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _right_edge(pub: Path, level: int) -> Path:
    """The partial hash tile (or entry bundle, level -1) at the right edge of the latest tree."""
    size = _size(pub) >> (8 * max(level, 0))
    name = "entries" if level < 0 else str(level)
    return pub / "tile" / name / f"{format_tile_index(size // 256)}.p" / str(size % 256)


def _tamper_entry_byte(pub: Path) -> None:
    _flip(pub / "tile" / "entries" / "000", 10)  # a byte inside the first leaf, not a length


def _tamper_bundle_tail(pub: Path) -> None:
    bundle = _right_edge(pub, -1)
    bundle.write_bytes(bundle.read_bytes() + b"\x00")


def _tamper_full_tile(pub: Path) -> None:
    _flip(pub / "tile" / "0" / "000", 32 * 5 + 7)  # leaf 5's hash, a node of leaf 0's inclusion proof


def _tamper_right_edge_tile(pub: Path) -> None:
    _flip(_right_edge(pub, 1), 3)  # the level-1 tile that holds the hash of tile/0/000


def _tamper_old_tile(pub: Path) -> None:
    first = int(_history(pub)[1].name)  # the first day's tree, a partial level-0 tile of its own
    _flip(pub / "tile" / "0" / f"000.p/{first}", 0)


def _tamper_missing_tile(pub: Path) -> None:
    (pub / "tile" / "0" / "000").unlink()


def _tamper_checkpoint_text(pub: Path) -> None:
    path = pub / "checkpoint"
    text, sigs = parse_note(path.read_bytes())
    cp = parse_checkpoint(text)
    forged = format_checkpoint(Checkpoint(cp.origin, cp.size - 1, cp.root))
    path.write_bytes(forged.encode() + b"\n" + "".join(s.line() for s in sigs).encode())


def _tamper_checkpoint_key(pub: Path) -> None:
    path = pub / "checkpoint"
    cp = parse_checkpoint(parse_note(path.read_bytes())[0])
    other = Ed25519Signer(cp.origin, hashlib.sha256(b"another key").digest())  # same name, other key
    path.write_bytes(sign_checkpoint(cp, [other]))


TAMPERING = {
    "entry bundle byte": (_tamper_entry_byte, "is not the tile's leaf hash"),
    "entry bundle trailing byte": (_tamper_bundle_tail, "truncated length prefix"),
    "full hash tile": (_tamper_full_tile, "invalid transparency proof"),
    "right-edge hash tile": (_tamper_right_edge_tile, "downloaded inconsistent tile"),
    "older checkpoint's tile": (_tamper_old_tile, "old checkpoint"),
    "missing tile": (_tamper_missing_tile, "no such file"),
    "checkpoint text": (_tamper_checkpoint_text, "invalid signature"),
    "checkpoint signed by another key": (_tamper_checkpoint_key, "no verifiable signatures"),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_go_rejects_a_tampered_log(go_verifier, published, tmp_path, what):
    bad = tmp_path / "tampered"
    shutil.copytree(published, bad)
    tamper, reason = TAMPERING[what]
    tamper(bad)
    code, out = _go_verify(go_verifier, bad, vkey=(published / "vkey").read_text().strip(),
                           olds=_history(published))
    assert code == 1 and not out["ok"], out
    assert reason in out["error"], out


def test_go_verifies_an_empty_log(go_verifier, cli_env, tmp_path):
    """RFC 6962's empty tree hashes to SHA-256(""), which rempart signs; Go's tlog.TreeHash(0)
    returns 32 zero bytes instead, so the Go verifier checks size 0 against SHA-256("") itself."""
    pub = tmp_path / "pub"
    r = CliRunner().invoke(app, ["transparency", "publish", str(pub)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    cp = parse_checkpoint(parse_note((pub / "checkpoint").read_bytes())[0])
    assert (cp.size, cp.root) == (0, hashlib.sha256(b"").digest())
    code, out = _go_verify(go_verifier, pub, olds=_history(pub))
    assert code == 0 and out["size"] == 0 and out["consistent_with"] == ["0"], out


def test_go_rejects_another_log_key(go_verifier, published):
    other = Ed25519Signer("rempart.local/log", hashlib.sha256(b"another key").digest()).verifier().vkey()
    code, out = _go_verify(go_verifier, published, vkey=other)
    assert code == 1 and "no verifiable signatures" in out["error"]


def test_go_opens_notes_rempart_signed(go_verifier):
    skey, vkey = generate_key("example.org/rempart-interop")
    text = "A benign note for the interop test.\nSecond line — with a non-ASCII dash.\n"
    msg = sign_note(text, [Ed25519Signer.from_skey(skey)])
    r = _go(go_verifier, "open", "-vkey", vkey, stdin=msg)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == {"ok": True, "text": text, "signatures": 1, "unverified": 0}
    # Go signs byte for byte what rempart signs, with rempart's secret key encoding
    assert _go(go_verifier, "sign", "-skey", skey, stdin=text.encode()).stdout == msg
    # and refuses the note once its text changed
    r = _go(go_verifier, "open", "-vkey", vkey, stdin=msg.replace(b"benign", b"Benign"))
    assert r.returncode == 1 and "invalid signature" in json.loads(r.stdout)["error"]


def test_rempart_opens_notes_go_signed(go_verifier):
    keys = _go(go_verifier, "keygen", "rempart.local/log")
    assert keys.returncode == 0, keys.stderr
    skey, vkey = keys.stdout.decode().split()
    verifier = Ed25519Verifier.from_vkey(vkey)  # rempart accepts Go's key encodings
    signer = Ed25519Signer.from_skey(skey)
    assert signer.verifier().vkey() == vkey and signer.skey() == skey

    text = "A benign note signed by Go.\n"
    msg = _go(go_verifier, "sign", "-skey", skey, stdin=text.encode()).stdout
    note = open_note(msg, [verifier])
    assert note.text == text and [s.name for s in note.sigs] == ["rempart.local/log"]
    assert sign_note(text, [signer]) == msg  # rempart signs byte for byte what Go signs

    # a checkpoint Go signed opens as a checkpoint
    cp = Checkpoint("rempart.local/log", 3, hashlib.sha256(b"benign root").digest())
    msg = _go(go_verifier, "sign", "-skey", skey, stdin=format_checkpoint(cp).encode()).stdout
    assert open_checkpoint(msg, "rempart.local/log", [verifier])[0] == cp


def _cosigned_by(witnesses, log) -> bytes:
    """``log``'s checkpoint with the cosignature line each witness's add-checkpoint returned."""
    lines = [w.add_checkpoint(log.request(0)).decode() for w in witnesses]
    return add_signatures(log.signed(), [parse_signature_line(line) for line in lines])


def test_go_verifies_rempart_witness_cosignatures(go_verifier, tmp_path):
    """cosignature/v1 is Ed25519 over a defined message: Go's crypto/ed25519 checks what
    rempart's witnesses return, and refuses a cosignature whose checkpoint or time changed."""
    log = MemoryLog.new("example.org/interop-log")
    log.append(*(f"benign entry {i}".encode() for i in range(7)))
    witnesses = []
    for i in (1, 2, 3):
        init_witness(tmp_path / f"w{i}", f"witness.example/w{i}")
        witnesses.append(Witness.open(tmp_path / f"w{i}", [log.vkey]))
    keys = [w.vkey() for w in witnesses]
    cosigned = _cosigned_by(witnesses[:2], log)

    def go(msg: bytes, k: int, *wkeys: str):
        args = ["cosigned", "-vkey", log.vkey, "-k", str(k)]
        for key in wkeys:
            args += ["-witness", key]
        r = _go(go_verifier, *args, stdin=msg)
        return r.returncode, json.loads(r.stdout.decode().strip().splitlines()[-1])

    code, out = go(cosigned, 2, *keys)
    assert code == 0 and out["cosigned"] == ["witness.example/w1", "witness.example/w2"], out
    assert all(t > 1_700_000_000 for t in out["timestamps"].values())
    code, out = go(cosigned, 3, *keys)  # the third witness never cosigned: no 3-of-3
    assert code == 1 and "2 witness cosignature(s), 3 needed" in out["error"]

    # another root under the same signatures: the log's own signature fails first
    text, sigs = parse_note(cosigned)
    forged = text.replace(text.splitlines()[2], base64.b64encode(b"\x01" * 32).decode())
    code, out = go((forged + "\n" + "".join(s.line() for s in sigs)).encode(), 1, *keys)
    assert code == 1
    # a cosignature whose timestamp changed no longer verifies
    w1 = next(s for s in sigs if s.name == "witness.example/w1")
    moved = Signature(w1.name, w1.key_id, (int.from_bytes(w1.signature[:8], "big") + 1).to_bytes(8, "big")
                      + w1.signature[8:])
    lines = "".join((moved if s is w1 else s).line() for s in sigs)
    code, out = go((text + "\n" + lines).encode(), 1, *keys)
    assert code == 1 and "cosignature of witness.example/w1 does not verify" in out["error"]
