"""The demo's hash-sharing exchanges: local NCMEC, ThreatExchange and StopNCII servers (real
HTTP on 127.0.0.1, ``rempart.exchanges.testservers``) share benign stand-in pictures' PDQ.

1. Each server holds a few records and one malformed record; each meets a rate limit (429) and
   a truncated page on the way. Three sources are added (credentials from files; the StopNCII
   one stored encrypted) and synced: every good record banked once, the bad ones skipped and
   reported.
2. An upload of a picture on NCMEC's list is blocked, with the record's provenance.
3. NCMEC withdraws it; after the next sync the same upload is allowed.
4. A reviewer's confirmation of a ThreatExchange match is queued and delivered as a reaction.
5. A partner rempart is given the demo's known bank: one signed page of the feed, checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from rempart.banks import service as banks
from rempart.exchanges import credentials, feed, service
from rempart.exchanges.feedback import queue_feedback
from rempart.exchanges.models import Exchange, ExchangeEntry, ExchangeFeedback
from rempart.exchanges.protocols.feed import SIGNATURE_HEADER, RempartWire
from rempart.exchanges.testservers import UpstreamServer
from rempart.exchanges.transport import RetryPolicy
from rempart.demo.pictures import jpeg, picture
from rempart.runtime import Runtime
from rempart.scanning.service import ScanContext

SEEDS = {"ncmec": (600, 601, 602), "threatexchange": (610, 611), "stopncii": (620, 621)}
MALFORMED = {
    "ncmec": "<image><id>demo-bad</id><fingerprints><md5>not-hex</md5></fingerprints></image>",
    "threatexchange": {"id": "6999", "indicator": "x", "type": "HASH_PDQ", "last_updated": 0,
                       "descriptors": {"data": []}},
    "stopncii": {"signalType": "ImagePDQ", "hashValue": "short", "hashStatus": "Active"},
}
BANKS = {"ncmec": ("demo-ncmec", "block"), "threatexchange": ("demo-threatexchange", "review"),
         "stopncii": ("demo-stopncii", "block")}
PARTNER = "demo-partner"


@dataclass
class ExchangeDemo:
    synced: dict[str, dict] = field(default_factory=dict)
    blocked_with: dict | None = None
    after_withdrawal: str = ""
    feedback_sent: int = 0
    feed_items: int = 0
    feed_verified: bool = False

    def to_json(self) -> dict:
        return dict(self.__dict__)

    def render(self) -> list[str]:
        lines = ["  hash-sharing exchanges (local NCMEC, ThreatExchange and StopNCII servers):"]
        for name, r in self.synced.items():
            lines.append(f"    {name:19} {r['live']} shared entries ({r['added']} new), {r['skipped']} "
                         f"malformed record(s) skipped, {r['retries']} retried (429, truncated page)")
        if self.blocked_with:
            p = self.blocked_with
            lines.append(f"    an upload on NCMEC's list: blocked, shared by {p['exchange']} as "
                         f"{', '.join(p['upstream_ids'])} ({', '.join(p['labels'])})")
        lines.append(f"    withdrawn upstream, synced again: the same upload is {self.after_withdrawal}")
        lines.append(f"    a reviewer's confirmation, sent back to ThreatExchange: {self.feedback_sent} reaction(s)")
        lines.append(f"    partner feed for {PARTNER}: {self.feed_items} entries, signature "
                     + ("verified" if self.feed_verified else "NOT verified"))
        return lines


def _pdq(rt: Runtime, seed: int) -> str:
    return rt.fingerprint(jpeg(picture(seed))).pdq().pdq


def _ensure_source(rt: Runtime, server: UpstreamServer, name: str, log: Callable[[str], None]) -> None:
    home = rt.settings.ensure_home()
    folder = home / "demo-credentials"
    folder.mkdir(mode=0o700, exist_ok=True)
    cred = folder / f"{name}.credential"
    cred.write_text(server.credential + "\n")
    cred.chmod(0o600)
    bank, action = BANKS[server.kind]
    options = {"privacy_group": server.privacy_group} if server.kind == "threatexchange" else {}
    with rt.db.session() as s:
        existing = s.scalar(select(Exchange).where(Exchange.name == name))
        if existing is not None:  # a demo run before: the servers listen on new ports now
            existing.url = server.url
            return
        banks.ensure_bank(s, bank, source=server.kind, action=action)
        store = server.credential if server.kind == "stopncii" else None
        service.add_exchange(s, home, name, kind=server.kind, bank=bank, url=server.url,
                             credential_ref="" if store else f"file:{cred}", store=store, options=options)
    log(f"  exchange {name}: {server.kind} at {server.url} -> bank {bank}")


def run_exchange_demo(rt: Runtime, known_bank: str, log: Callable[[str], None]) -> ExchangeDemo:
    out = ExchangeDemo()
    log("syncing hash-sharing exchanges from local NCMEC, ThreatExchange and StopNCII servers ...")
    options = service.SyncOptions(policy=RetryPolicy(backoff=0.05, max_wait=2.0))
    servers = {kind: UpstreamServer(kind, page_size=2, retry_after=0.2).start() for kind in SEEDS}
    try:
        for kind, server in servers.items():
            for seed in SEEDS[kind]:
                uid = f"ImagePDQ:{_pdq(rt, seed)}" if kind == "stopncii" else (
                    f"demo-{seed}" if kind == "ncmec" else str(6000 + seed))
                server.put(uid, [("pdq", _pdq(rt, seed))],
                           ["classification:A1"] if kind == "ncmec" else ["demo-tag"])
            server.put_raw("demo-bad", MALFORMED[kind])
            server.inject("429")
            server.inject("truncate")
            server.settle()
            _ensure_source(rt, server, f"demo-{kind}", log)
            result = rt.sync_exchange(f"demo-{kind}", options)
            out.synced[f"demo-{kind}"] = {"added": result.added, "skipped": result.skipped,
                                          "retries": len(result.retries), "status": result.status}
        with rt.db.session() as s:
            for listed in service.list_exchanges(s):
                if listed.name in out.synced:
                    out.synced[listed.name]["live"] = listed.live_records

        upload = jpeg(picture(SEEDS["ncmec"][0]))
        outcome = rt.scan_media(upload, ScanContext(account="acct-exchange-demo", space="group-x"))
        out.blocked_with = outcome.match_json()[0].get("exchange") if outcome.verdict == "block" else None
        servers["ncmec"].withdraw(f"demo-{SEEDS['ncmec'][0]}")
        servers["ncmec"].settle()
        rt.sync_exchange("demo-ncmec", options)
        again = rt.scan_media(upload, ScanContext(account="acct-exchange-demo"))
        still = any(m["bank"] == BANKS["ncmec"][0] for m in again.match_json())
        out.after_withdrawal = ("still matched by the NCMEC list" if still else
                                f"no longer matched by the NCMEC list (verdict {again.verdict})")

        # a reviewer confirmed the ThreatExchange match (the moderation demo shows deciding)
        te_pdq = _pdq(rt, SEEDS["threatexchange"][0])
        with rt.db.session() as s:
            entry_ids = [e for (e,) in s.execute(
                select(ExchangeEntry.entry_id).join(Exchange, Exchange.id == ExchangeEntry.exchange_id)
                .where(Exchange.name == "demo-threatexchange"))]
            ids = [i for i in entry_ids if banks.get_entry(s, i).value == te_pdq]
            queue_feedback(s, None, ids, "confirmed")
        rt.deliver_exchange_feedback()
        with rt.db.session() as s:
            out.feedback_sent = len(s.scalars(select(ExchangeFeedback.id).join(
                Exchange, Exchange.id == ExchangeFeedback.exchange_id).where(
                Exchange.name == "demo-threatexchange", ExchangeFeedback.state == "sent")).all())
    finally:
        for server in servers.values():
            server.stop()

    with rt.db.session() as s:
        if PARTNER not in {p.name for p in feed.list_partners(s)}:
            _, key = feed.add_partner(s, rt.settings.home, PARTNER, [known_bank])
        else:
            partner_row = next(p for p in feed.list_partners(s) if p.name == PARTNER)
            key = credentials.decrypt(rt.settings.home, partner_row.key_enc)
        partner = feed.authenticate_partner(s, rt.settings.home, key)
        body, sig = feed.feed_page(s, partner, 0, 1000)
    wire = RempartWire({}, key)
    page = wire.parse(body, {SIGNATURE_HEADER: sig}, wire.request({}, 0)[1])
    out.feed_items, out.feed_verified = len(page.records), True
    return out
