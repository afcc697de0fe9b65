"""The public's way in (``/report``, ``/report/hash``): a form that works without JavaScript,
with a CAPTCHA-free check in place of a proof of work, and one rate per source.

The check: every form is served with a challenge ``v1.<unix time>.<nonce>.<mac>`` (HMAC-SHA256
under a key kept in ``$REMPART_HOME/keys/report.key``, 0600). A submission is accepted only with
a challenge this server issued, at least ``form_min_seconds`` and at most an hour old, and never
used before (its digest is inserted with the notice, unique): scripts that post at machine
speed or replay one form are refused, and a person filling in the form notices nothing. Sources
are salted digests of the client's address (no address is stored); each may send
``public_reports_per_hour`` reports.

Anonymous reports are allowed for child sexual abuse only (DSA Art. 16(2)): any other category
needs the reporter's name and e-mail address.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from rempart.errors import Conflict
from rempart.hotline.desk import Desk
from rempart.hotline.errors import InvalidNotice
from rempart.hotline.models import UsedChallenge
from rempart.hotline.notices import NoticeIn, read_notice
from rempart.hotline.service import Accepted, accept, take_rate, with_receipts
from rempart.hotline.vocab import Channel

MAX_AGE = 3600
KEY_FILE = "report.key"


def load_or_create_key(home: Path) -> bytes:
    """The challenge key (32 random bytes, created on first use, mode 0600)."""
    path = Path(home) / "keys" / KEY_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text().strip())


class Gate:
    """Issues and checks challenges, and names sources, with one key."""

    def __init__(self, key: bytes, clock=time.time) -> None:
        self.key, self.clock = key, clock

    def _mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def challenge(self) -> str:
        body = f"v1.{int(self.clock())}.{secrets.token_hex(8)}"
        return f"{body}.{self._mac(body)}"

    def check(self, challenge: str, min_seconds: float) -> str:
        """The challenge's digest (to insert once), or ``InvalidNotice("challenge", ...)``."""
        parts = (challenge or "").split(".")
        if len(parts) != 4 or parts[0] != "v1" or not parts[1].isdigit() or not hmac.compare_digest(
                self._mac(".".join(parts[:3])), parts[3]):
            raise InvalidNotice("challenge", "this form was not served here: reload the page")
        age = self.clock() - int(parts[1])
        if age < min_seconds:
            raise InvalidNotice("challenge", "sent too fast: please check the form and send again")
        if age > MAX_AGE:
            raise InvalidNotice("challenge", "this form has expired: reload the page")
        return hashlib.sha256(challenge.encode()).hexdigest()

    def source(self, address: str) -> str:
        """A salted digest of a client address (what the rate counts; never the address)."""
        return self._mac(f"source:{address}")[:32]


def read_report(desk: Desk, form: dict, hashes: list[dict] | None = None) -> NoticeIn:
    """A report from the form fields: ``category``, ``link`` or ``account``/``space``/``message``,
    ``explanation``, ``good_faith``, ``name``, ``email``; or the on-device ``hashes``."""
    taxonomy = desk.moderation().taxonomy
    location = {k: form[k] for k in ("account", "space", "message", "link") if form.get(k)}
    name, email = (form.get("name") or "").strip(), (form.get("email") or "").strip()
    contact = f"{name} <{email}>" if name or email else None
    raw = {"category": form.get("category"), "good_faith": form.get("good_faith") == "yes",
           "explanation": (form.get("explanation") or "").strip() or "(no explanation given)",
           "locations": [location] if location else [], "contact": contact}
    if hashes is not None:
        raw["hashes"] = hashes
    notice = read_notice(raw, taxonomy.keys(), desk.config.message_link, where="report")
    if not taxonomy.get(notice.category).child_safety and (not name or "@" not in email):
        raise InvalidNotice("report.contact", "your name and e-mail address are needed, except "
                                              "for child sexual abuse (DSA Art. 16(2))")
    return notice


def submit_report(desk: Desk, gate: Gate, notice: NoticeIn, channel: Channel, challenge: str,
                  address: str) -> Accepted:
    """Accept a public report: the challenge once, the source's rate, then the notice (one
    transaction: a refused report leaves nothing behind, not even a used challenge)."""
    digest = gate.check(challenge, desk.config.form_min_seconds)
    try:
        with desk.db.session() as s:
            s.add(UsedChallenge(digest=digest))
            s.flush()
            take_rate(s, f"public:{gate.source(address)}", 1,
                       desk.config.public_reports_per_hour, "report")
            return with_receipts(s, desk, [accept(s, desk, notice, None, channel, "report")])[0]
    except IntegrityError:
        raise Conflict("this form was already sent: your first report was received") from None



