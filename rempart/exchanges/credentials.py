"""Exchange credentials: referenced (a file, an environment variable) or stored encrypted.

A reference is kept as ``file:<absolute path>`` or ``env:<VARIABLE>`` and read each time a sync
needs it; ``stored`` keeps the credential in the database encrypted (Fernet: AES-128-CBC with an
HMAC-SHA256 tag) with the key in ``$REMPART_HOME/keys/exchanges.key`` (directory 0700, file
0600, created on first use), so a copy of the database alone does not reveal it. A credential is
never printed: ``describe`` says where it is, not what it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from rempart.errors import InvalidConfig, InvalidInput, shown

KEY_FILE = "exchanges.key"
MAX_CREDENTIAL = 4096
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def key_path(home: Path) -> Path:
    return Path(home) / "keys" / KEY_FILE


def _fernet(home: Path) -> Fernet:
    path = key_path(home)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created meanwhile by another process
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key() + b"\n")
    try:
        return Fernet(path.read_bytes().strip())
    except (OSError, ValueError) as exc:
        raise InvalidConfig(str(path), f"not a usable exchange key ({exc.__class__.__name__})") from None


def encrypt(home: Path, secret: str) -> str:
    return _fernet(home).encrypt(secret.encode()).decode()


def decrypt(home: Path, token: str) -> str:
    try:
        return _fernet(home).decrypt(token.encode()).decode()
    except InvalidToken:
        raise InvalidConfig(str(key_path(home)), "this key does not open a stored credential") from None


def read_file(path: Path) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the credential file {shown(str(path))}: "
                           f"{getattr(exc, 'strerror', None) or exc.__class__.__name__}") from None
    if not text or len(text) > MAX_CREDENTIAL or "\n" in text:
        raise InvalidInput(f"the credential file {shown(str(path))} must hold one line")
    return text


def reference(*, file: Path | None, env: str | None) -> str:
    """The reference kept for ``--credential-file`` or ``--credential-env`` (checked now)."""
    if file is not None and env:
        raise InvalidInput("give --credential-file or --credential-env, not both")
    if file is not None:
        path = Path(file).expanduser().resolve()
        read_file(path)
        return f"file:{path}"
    if env:
        if not _VARIABLE.match(env):
            raise InvalidInput(f"{shown(env)} is not an environment variable name")
        return f"env:{env}"
    return ""


def resolve(home: Path, ref: str, stored: str | None, read_secret: Callable[[str], str | None]) -> str:
    """The credential a source uses now ("" when it has none)."""
    if ref == "stored" and stored:
        return decrypt(home, stored)
    if ref.startswith("file:"):
        return read_file(Path(ref[5:]))
    if ref.startswith("env:"):
        value = read_secret(ref[4:])
        if not value:
            raise InvalidInput(f"the environment variable {ref[4:]} holding the credential is not set")
        return value.strip()
    return ""


def describe(ref: str) -> str:
    if ref == "stored":
        return "stored (encrypted)"
    if ref.startswith("file:"):
        return f"file {ref[5:]}"
    if ref.startswith("env:"):
        return f"environment variable {ref[4:]}"
    return "none"
