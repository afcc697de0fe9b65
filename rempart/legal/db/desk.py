"""The legal desk over one runtime: its settings, signing key, folders and hooks.

The evidence key (Ed25519) signs disclosure packages; it is not the log's key (a package
signature says "this platform sent these bytes", a checkpoint "this is the log"). It lives in
``$REMPART_HOME/legal/keys`` and its verifier key is published (``rempart legal vkey``, the
officers' portal) so that anyone can check a package offline with ``rempart verify package``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy.orm import Session

from rempart.authz import Actor
from rempart.legal.config import LegalConfig
from rempart.legal.db import answer, ledger, orders, stats, tipline
from rempart.legal.db.models import Delivery, LegalOrder
from rempart.moderation.holds import expire_holds
from rempart.moderation.media import DirectoryMediaStore
from rempart.store.db import utcnow
from rempart.transparency.db.receipts import make_receipt
from rempart.transparency.db.service import TransparencyLog
from rempart.transparency.keys import HomeKeySigner


#: how often ``follow_up`` tries the pending CyberTipline reports
TIPLINE_EVERY = dt.timedelta(seconds=30)


class LegalDesk(HomeKeySigner):
    """Signs disclosure packages with the key of ``<log host>/evidence`` (``vkey()``: give it to authorities)."""

    def __init__(self, home: Path, config: LegalConfig, log: TransparencyLog, evidence) -> None:
        self.home = Path(home) / "legal"
        self.config = config
        self.log = log
        self.evidence = evidence
        self.origin = f"{log.origin.split('/')[0]}/evidence"
        log.answers = stats.answers_of_day  # daily reports carry the desk's answer times
        self._tipline_at: dt.datetime | None = None

    @property
    def attachments_dir(self) -> Path:
        return self.home / "attachments"

    def package_path(self, row: LegalOrder, number: int) -> Path:
        return self.home / "packages" / str(row.id) / f"delivery-{number}.zip"

    def media_file(self, sha256: str) -> Path | None:
        if isinstance(self.evidence, DirectoryMediaStore):
            return self.evidence.file(sha256)
        return None

    def receipt(self, session: Session, index: int) -> bytes:
        return (json.dumps(make_receipt(session, self.log, index), sort_keys=True, indent=1) + "\n").encode()

    def receive(self, session: Session, actor: Actor, body: object, attachments, *,
                now: dt.datetime | None = None) -> LegalOrder:
        return orders.receive_order(session, actor, body, attachments, attachments_dir=self.attachments_dir,
                                    log_order=ledger.log_order(self.log), now=now)

    def follow_up(self, db, now: dt.datetime | None = None) -> int:
        """Background work of ``rempart serve``: end expired holds (audited) and, at most every
        ``TIPLINE_EVERY``, send pending CyberTipline reports. Returns how much was done."""
        with db.session() as s:
            done = expire_holds(s)
        now = now or utcnow()
        if self.config.cybertipline_url and (self._tipline_at is None or now - self._tipline_at >= TIPLINE_EVERY):
            self._tipline_at = now
            done += sum(r.status == "finished" for r in tipline.send_pending(db, self.config, self.media_file, self.log))
        return done

    def produce(self, session: Session, actor: Actor, row: LegalOrder, dest: Path | None = None, *,
                now: dt.datetime | None = None) -> Delivery:
        """The next delivery, written to ``dest`` or to the desk's own store (for download)."""
        dest = dest or self.package_path(row, len(answer.deliveries_of(session, row.id)) + 1)
        delivery = answer.produce(session, actor, row, dest, signer=self.signer, receipt=self.receipt,
                                  media_file=self.media_file, now=now)
        ledger.reveal(session, actor, row, now)  # a non-confidential order, once answered
        return delivery
