"""A witness: its key, the logs it follows, its state directory, and ``add-checkpoint`` end to end.

Directory (``rempart witness init DIR --name NAME``)::

    DIR/witness.skey   PRIVATE+KEY+<name>+<key ID>+base64(0x04 || seed)   (mode 0600)
    DIR/witness.vkey   <name>+<key ID>+base64(0x04 || public key): hand it to verifiers
    DIR/state.db       the latest checkpoint cosigned per log, and fork evidence (``state``)

The logs a witness follows are given when it runs (``--log VKEY``): each log's origin is its
key's name (C2SP checkpoints are signed by a key named after the origin), and an origin may
have several keys.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rempart.errors import Conflict, InvalidInput, NotFound, shown
from rempart.transparency.cosignature import CosignatureSigner
from rempart.transparency.note import Ed25519Verifier
from rempart.transparency.witness.protocol import (
    Cosigned,
    InconsistentCheckpoint,
    advance,
    check_submission,
    cosign,
    origin_hash,
)
from rempart.transparency.witness.state import WitnessState

SKEY_FILE = "witness.skey"
VKEY_FILE = "witness.vkey"
STATE_FILE = "state.db"


def init_witness(directory: Path, name: str) -> CosignatureSigner:
    """Create a witness directory with a new key named ``name``; refuse one that has a key."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    signer = CosignatureSigner.generate(name)
    try:
        fd = os.open(directory / SKEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{directory} already holds a witness key ({SKEY_FILE})") from None
    with os.fdopen(fd, "w") as f:
        f.write(signer.skey() + "\n")
        f.flush()
        os.fsync(f.fileno())
    (directory / VKEY_FILE).write_text(signer.verifier().vkey() + "\n")
    WitnessState(directory / STATE_FILE)
    return signer


def load_signer(directory: Path) -> CosignatureSigner:
    """The witness key of ``directory``; refused when missing or readable by others."""
    path = Path(directory) / SKEY_FILE
    if not path.is_file():
        raise NotFound("witness key", str(path))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise Conflict(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    return CosignatureSigner.from_skey(path.read_text().strip())


def read_log_keys(vkeys: Iterable[str]) -> dict[str, list[Ed25519Verifier]]:
    """The logs to follow, by origin, from verifier keys (each a key string or a file holding one)."""
    logs: dict[str, list[Ed25519Verifier]] = {}
    for given in vkeys:
        text = given.strip()
        if "+" not in text or Path(text).is_file():
            try:
                text = Path(text).read_text().strip().splitlines()[0]
            except (OSError, IndexError):
                raise InvalidInput(f"--log: neither a verifier key nor a key file: {shown(given)}") from None
        key = Ed25519Verifier.from_vkey(text)
        if any(k.key_id == key.key_id for k in logs.get(key.name, [])):
            raise InvalidInput(f"--log: the key of {shown(key.name)} is given twice")
        logs.setdefault(key.name, []).append(key)
    if not logs:
        raise InvalidInput("a witness needs at least one log to follow (--log VKEY)")
    return logs


class Witness:
    """Answers ``add-checkpoint`` and the monitoring read for the logs it follows."""

    def __init__(self, signer: CosignatureSigner, logs: Mapping[str, Sequence[Ed25519Verifier]],
                 state: WitnessState) -> None:
        self.signer = signer
        self.logs = {origin: tuple(keys) for origin, keys in logs.items()}
        self.state = state
        self._by_hash = {origin_hash(o): o for o in self.logs}

    @classmethod
    def open(cls, directory: Path, log_vkeys: Iterable[str]) -> Witness:
        directory = Path(directory)
        return cls(load_signer(directory), read_log_keys(log_vkeys), WitnessState(directory / STATE_FILE))

    def vkey(self) -> str:
        return self.signer.verifier().vkey()

    def add_checkpoint(self, body: bytes) -> bytes:
        """Cosign the submitted checkpoint, or raise the refusal (a ``WitnessRefusal``).

        Returns the response body: the witness's cosignature line.
        """
        sub = check_submission(body, self.logs)
        lines: list[bytes] = []

        def decide(latest: Cosigned | None) -> Cosigned:
            advance(sub, latest)  # the same checkpoint again passes, and is cosigned anew
            signature, record = cosign(sub, self.signer)
            lines.append(signature.line().encode())
            return record

        try:
            self.state.advance(sub.checkpoint.origin, decide)
        except InconsistentCheckpoint as exc:
            self.state.keep_evidence(sub.checkpoint.origin, body, str(exc))
            raise
        return lines[0]

    def checkpoint(self, hashed_origin: str) -> bytes:
        """The latest cosigned checkpoint of the log whose origin hashes to ``hashed_origin``."""
        origin = self._by_hash.get(hashed_origin)
        latest = None if origin is None else self.state.latest(origin)
        if latest is None:
            raise NotFound("cosigned checkpoint for", hashed_origin)
        return latest.note
