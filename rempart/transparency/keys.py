"""The log's signing key: generated on first use, kept outside the database.

File ``$REMPART_HOME/keys/transparency-log.skey`` (directory mode 0700, file mode 0600), one
line: the signer key in Go's sumdb/note encoding (see ``note``)::

    PRIVATE+KEY+<origin>+<key ID, 8 hex digits>+<base64(0x01 || 32-byte seed)>

The key name is the log's origin (``REMPART_LOG_ORIGIN``, default ``rempart.local/log``), as
C2SP checkpoints require. A key file whose name is another origin, or that others can read,
is refused rather than used.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rempart.errors import Conflict, InvalidInput, shown
from rempart.transparency.note import Ed25519Signer, generate_key, is_valid_name

DEFAULT_ORIGIN = "rempart.local/log"
KEY_FILE = "transparency-log.skey"


def key_path(home: Path) -> Path:
    return Path(home) / "keys" / KEY_FILE


def load_or_create_signer(home: Path, origin: str = DEFAULT_ORIGIN) -> Ed25519Signer:
    """Return the log signer for ``origin``, creating its key file on first use."""
    if not is_valid_name(origin):
        raise InvalidInput(f"log origin {shown(origin)} cannot be a key name (no spaces, no '+')")
    path = key_path(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        skey, _ = generate_key(origin)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "w") as f:
                f.write(skey + "\n")
                f.flush()
                os.fsync(f.fileno())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise Conflict(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    signer = Ed25519Signer.from_skey(path.read_text().strip())
    if signer.name != origin:
        raise Conflict(f"{path} holds the key of log {shown(signer.name)}, not of {shown(origin)} "
                       "(REMPART_LOG_ORIGIN); a log keeps one origin for life")
    return signer


class HomeKeySigner:
    """Mixin for what signs with the key of ``origin`` kept under ``home``: the log, the legal desk.

    The key is read (or created) on first use, not at construction, so that commands which never
    sign never touch the key file.
    """

    home: Path
    origin: str
    _signer: Ed25519Signer | None = None

    @property
    def signer(self) -> Ed25519Signer:
        if self._signer is None:
            self._signer = load_or_create_signer(self.home, self.origin)
        return self._signer

    def vkey(self) -> str:
        """The verifier key of what this signs: publish it, give it to whoever checks."""
        return self.signer.verifier().vkey()
