"""One running rempart: settings, database, and the live matcher, with the cross-domain workflows.

The CLI and the HTTP API both drive rempart through a ``Runtime``:
- scanning (fingerprint outside the transaction, then sync the matcher, match, record);
- banking (add / import / bank media, then sync, then retro-scan the ledger for the new entries).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO

from sqlalchemy import func, select

from rempart.banks import retro_jobs
from rempart.banks import service as banks
from rempart.banks.entries import ConfirmedItem
from rempart.banks.formats import StreamedImport
from rempart.banks.replica import Replica
from rempart.banks.snapshots import Identity, SnapshotStore, Written, load_or_rebuild
from rempart.config import Settings, secret_from_environment
from rempart.exchanges import service as exchanges
from rempart.exchanges.feedback import (
    Delivered, deliver_feedback, feedback_hook, provenance_hook, retro_provenance_hook,
)
from rempart.hotline.desk import Desk
from rempart.hotline.outcomes import outcome_hook, retro_confirmed
from rempart.legal.db.desk import LegalDesk
from rempart.matching.matcher import Matcher
from rempart.moderation import after_retro_hook, after_scan_hook
from rempart.moderation.media import DirectoryMediaStore, MediaStore
from rempart.moderation.to_log import log_decision_hook
from rempart.scanning.models import ItemSignal
from rempart.scanning.retro import RetroMatch, retro_scan
from rempart.scanning.service import (
    AfterScan, ScanContext, ScanOutcome, in_one_statement, match_rows, record_rows,
)
from rempart.scanning.signals import rows_from_signals, signal_rows
from rempart.signals import Fingerprint, Limits, MemoryBudget, fingerprint, return_freed_memory
from rempart.store.db import Database
from rempart.store.migrate import current_revision, require_current, upgrade
from rempart.observe import metrics
from rempart.transparency.db.service import TransparencyLog
from rempart.workers import node
from rempart.workers.bus import Bus
from rempart.workers.dispatch import LocalScans, StreamScans


#: the exchange worker of ``rempart serve`` rests as long as each page took (half the CPU and
#: database time to the scans: ``bench/exchange_sync.py``)
SERVE_REST = 1.0
#: how long an upload waits for decode memory before it is answered 503 (a client retries later)
DECODE_WAIT_SECONDS = 10.0


@dataclass
class BankingOutcome:
    result: banks.AddResult | banks.BulkResult
    retro: list[RetroMatch]
    #: the background retro-scan of a big import (``rempart.banks.retro_jobs``), if any
    retro_job: int | None = None


class Runtime:
    def __init__(self, settings: Settings, *, migrate: bool = True,
                 limits: Limits | None = None, node_name: str = "rempart") -> None:
        """``migrate``: bring the schema up to date first; otherwise refuse (``SchemaNotCurrent``)
        a database whose schema is not exactly this version's."""
        self.settings = settings
        if migrate and settings.database_url.startswith("sqlite"):
            settings.ensure_home()
        self.db = Database(settings.database_url)
        if migrate:
            upgrade(self.db)
        else:
            require_current(self.db)
        self.limits = settings.limits if limits is None else limits
        #: the memory every decode in this process shares (``REMPART_DECODE_MEMORY``)
        self.decode_budget = MemoryBudget(settings.decode_memory, wait_seconds=DECODE_WAIT_SECONDS)
        return_freed_memory()
        #: what follows a recorded scan in the same transaction (see ``scanning.service.AfterScan``)
        self.after_scan: list[AfterScan] = []
        #: the transparency log (signing key loaded or created on first use): it records every
        #: automatic block and every reviewer's enforcement decision and reversal
        self.transparency = TransparencyLog(settings.home, settings.log_origin,
                                            settings.log_region)
        #: moderation settings (queues, routes, dual review, exposure budget, platform bank)
        self.moderation = replace(
            settings.moderation, on_decision=(
                log_decision_hook(self.transparency.record_decision),
                outcome_hook(self.transparency.record_notice, lambda: self.settings.hotline,
                             lambda key: self.moderation.taxonomy.get(key).dsa_category),
                feedback_hook()),
            region=self.transparency.region, media=lambda sha256: self.evidence.get(sha256))
        #: the hotline's intake (notices, receipts) over this runtime
        self.hotline = Desk(self.db, self.transparency, lambda: self.moderation, settings.hotline)
        self.after_scan.append(after_scan_hook(lambda: self.moderation))
        #: what follows a retro-scan in its transaction: hook(session, matches)
        self.after_retro: list[Callable] = [after_retro_hook(lambda: self.moderation)]
        #: media of flagged uploads (verdict block or review), for review in the console
        self.evidence: MediaStore = DirectoryMediaStore(settings.home / "evidence")
        self.after_scan.append(self.transparency.after_scan)
        #: the in-memory matcher and its place in the bank change feed: loaded on first use
        #: (``replica``), so commands that do not match never pay for it
        self._replica: Replica | None = None
        self._replica_lock = threading.Lock()
        #: where the replica came from ("snapshot ..." or "database (why)") and how long it took
        self.replica_source = ""
        self.replica_seconds = 0.0
        # (seq of the last snapshot written or used, the replica's ``applied`` then, when)
        self._snapshot_at = (-1, 0, 0.0)
        #: the law-enforcement desk: orders, packages and their evidence key, CyberTipline
        self.legal = LegalDesk(settings.home, settings.legal, self.transparency, self.evidence)
        # first: the provenance of matches on exchanges' entries, which the hooks after it read
        self.after_scan.insert(0, provenance_hook)
        self.after_retro.insert(0, retro_provenance_hook)
        #: scale-out mode (``REMPART_NATS_URL``): the stream to the workers; bank changes
        #: announced to and heard from every node (``rempart.workers.node``)
        self.bus: Bus | None = node.attach(self, node_name) if settings.nats_url else None
        self._scans: StreamScans | LocalScans | None = None

    @property
    def scans(self) -> StreamScans | LocalScans:
        """Where scans that do not run in the caller go: the stream, or this process's threads."""
        if self._scans is None:
            if self.bus is not None:
                cfg = self.settings.scaleout
                self._scans = StreamScans(self, self.bus, max_pending=cfg.max_pending,
                                          sync_timeout=cfg.sync_timeout)
            else:
                self._scans = LocalScans(self)
        return self._scans

    @classmethod
    def from_env(cls, **kw) -> "Runtime":
        return cls(Settings.from_env(), **kw)

    @property
    def replica(self) -> Replica:
        """The replica, loaded on first use (once, also when threads ask together)."""
        if self._replica is None:
            with self._replica_lock:
                if self._replica is None:
                    self._replica = self._load_replica()
        return self._replica

    @property
    def replica_loaded(self) -> bool:
        return self._replica is not None

    def _load_replica(self) -> Replica:
        """From the newest usable snapshot plus the later changes, else from the database
        (``rempart.banks.snapshots``); ``replica_source`` says which, and why."""
        started = time.monotonic()
        with self.db.session() as s:
            replica, self.replica_source = load_or_rebuild(s, self.snapshot_store())
        self.replica_seconds = time.monotonic() - started
        self._snapshot_at = (replica.seq if self.replica_source.startswith("snapshot") else -1,
                             0, time.monotonic())
        return replica

    def snapshot_store(self) -> SnapshotStore:
        st = self.settings
        return SnapshotStore(st.snapshots, Identity.of(st.database_url, current_revision(self.db)),
                             st.snapshot_keep)

    def write_snapshot(self) -> Written:
        """Write a snapshot of the replica now (loading it first if needed)."""
        self.sync()
        written = self.snapshot_store().write(self.replica)
        self._snapshot_at = (written.seq, self.replica.applied, time.monotonic())
        return written

    def snapshot_round(self) -> Written | None:
        """One round of the background writer (``rempart serve``): sync, then write a snapshot
        when ``snapshot_changes`` changes were applied since the last one (an entry of a bulk
        import counts as one: ``Replica.applied``), or when
        ``snapshot_minutes`` have passed and anything changed (or none could be used at start).
        Scans go on meanwhile: only the capture holds the replica, briefly."""
        if self._replica is None:
            return None
        self.sync()
        last_seq, last_applied, last_at = self._snapshot_at
        seq = self._replica.seq
        st = self.settings
        if last_seq < 0 or self._replica.applied - last_applied >= st.snapshot_changes or (
                seq != last_seq and time.monotonic() - last_at >= 60 * st.snapshot_minutes):
            return self.write_snapshot()
        return None

    @property
    def matcher(self) -> Matcher:
        return self.replica.matcher

    @property
    def max_upload_bytes(self) -> int:
        return max(self.limits.max_image_bytes, self.limits.max_video_bytes)

    def close(self) -> None:
        if isinstance(self._scans, LocalScans):
            self._scans.close()
        if self.bus is not None:
            self.bus.close()
        self.db.dispose()

    def sync(self) -> int:
        """Apply the bank changes made since the last sync (nothing to do before first use:
        the replica then loads what is current)."""
        if self._replica is None:
            return 0
        with self.db.session() as s:
            return self.replica.sync(s)

    def sync_for_scan(self, session) -> None:
        """Before a scan: apply the bank changes committed since the last sync, so that each
        counts for this scan. While another thread applies a backlog of more than a page
        (``replica.PAGE`` changes: an import of many entries; the scan that met it), a scan
        does not wait for it: it goes on with what is applied so far (each change whole: an
        entry of the import matches once its page is in). The import's retro-scan job syncs
        fully before it reads the ledger, so it finds what those scans missed."""
        replica = self.replica
        if not replica.catching_up:
            replica.sync(session, defer_to_catch_up=True)

    # -- scanning -----------------------------------------------------------------------------

    def fingerprint(self, data: bytes, timings: dict[str, float] | None = None, *,
                    exact: bool = False) -> Fingerprint:
        """Fingerprint an upload within the limits and the shared decode memory budget.

        Uploads are scanned on the default (fast) path; ``exact`` decodes at full resolution,
        PDQ bit-exact with the reference, and adds what a bank keeps of the local features
        (``fingerprint(bank=True)``): what is banked (and may be shared) uses it.
        """
        return fingerprint(data, limits=self.limits, budget=self.decode_budget, timings=timings,
                           **({"jpeg_draft": None, "bank": True} if exact else {}))

    def scan_media(self, data: bytes, context: ScanContext = ScanContext()) -> ScanOutcome:
        timings: dict[str, float] = {}
        fp = self.fingerprint(data, timings)
        outcome = self.scan_fingerprint(fp, context, size_bytes=len(data), timings=timings)
        if outcome.verdict != "allow":
            self.evidence.put(fp.sha256, data)
        return outcome

    def scan_fingerprint(self, fp: Fingerprint, context: ScanContext = ScanContext(),
                         size_bytes: int | None = None,
                         timings: dict[str, float] | None = None) -> ScanOutcome:
        timings = {} if timings is None else timings
        outcome = self._scan(signal_rows(fp), kind=fp.kind, context=context, source="upload",
                             fp=fp, size_bytes=size_bytes, timings=timings)
        metrics.observe_stages(timings)
        metrics.count_scan("inline", "upload", outcome.verdict)
        return outcome

    def scan_signals(self, signals: Iterable[tuple[str, str]],
                     context: ScanContext = ScanContext()) -> ScanOutcome:
        timings: dict[str, float] = {}
        outcome = self._scan(rows_from_signals(signals), kind=None, context=context,
                             source="signals", timings=timings)
        metrics.observe_stages(timings)
        metrics.count_scan("inline", "signals", outcome.verdict)
        return outcome

    def _scan(self, rows, *, kind: str | None, context: ScanContext, source: str,
              timings: dict[str, float], fp: Fingerprint | None = None,
              size_bytes: int | None = None) -> ScanOutcome:
        """Sync, match, record. On PostgreSQL the sync's reads and, for a scan that matched
        nothing (most), its one-statement record (``in_one_statement``) run without a
        transaction: two round trips, the record durable when it returns; any other scan is
        recorded, with what follows from it, in a transaction of its own."""
        record = dict(kind=kind, context=context, source=source, fp=fp, size_bytes=size_bytes,
                      after=self.after_scan, timings=timings)
        with self.db.session(autocommit=True) as s:
            self.sync_for_scan(s)
            result = match_rows(self.matcher, rows, kind=kind, fp=fp, timings=timings)
            if self.db.is_sqlite or in_one_statement(self.db.engine.dialect.name, result, rows):
                return record_rows(s, result, rows, **record)  # SQLite: in a transaction
        with self.db.session() as s:
            return record_rows(s, result, rows, **record)

    # -- banking ------------------------------------------------------------------------------

    def _bank_then_retro(self, change: Callable, progress=None) -> BankingOutcome:
        with self.db.session() as s:
            result = change(s)
            added = result.added_ids()
        return BankingOutcome(result, self.retro_scan_entries(added, progress))

    def add_entries(self, bank_name: str, entries: Sequence[banks.NewEntry], *,
                    added_by: str = "", progress=None) -> BankingOutcome:
        return self._bank_then_retro(
            lambda s: banks.add_entries(s, banks.get_bank(s, bank_name), entries, added_by),
            progress)

    def bank_items(self, bank_name: str, items: Sequence[ConfirmedItem], *, added_by: str = "",
                   progress=None) -> BankingOutcome:
        """Bank confirmed items (what each banks: ``rempart.banks.entries``) in one change."""
        return self._bank_then_retro(
            lambda s: banks.add_items(s, banks.get_bank(s, bank_name), items, added_by),
            progress)

    def bank_media(self, bank_name: str, fp: Fingerprint, *, external_id: str | None = None,
                   metadata: dict[str, str] | None = None, added_by: str = "",
                   progress=None) -> BankingOutcome:
        return self.bank_items(bank_name, [ConfirmedItem.from_fingerprint(fp, external_id, metadata)],
                               added_by=added_by, progress=progress)

    def retro_scan_entries(self, entry_ids: Sequence[int], progress=None) -> list[RetroMatch]:
        """Retro-scan the ledger for entries already in a bank (synced first), with the
        after-retro hooks, in one transaction. With nothing in the ledger there is nothing to
        find, and the matcher is not even loaded."""
        if not entry_ids:
            return []
        with self.db.session() as s:
            if s.scalar(select(ItemSignal.id).limit(1)) is None:
                return []
        with self.db.session() as s:
            self.replica.sync(s)
            retro = retro_scan(s, self.matcher, list(entry_ids), progress)
            for hook in self.after_retro:
                hook(s, retro)
        return retro

    # -- hash-sharing exchanges ---------------------------------------------------------------

    def sync_exchange(self, name: str, options: exchanges.SyncOptions = exchanges.SyncOptions(),
                      *, retro: bool = True) -> exchanges.SyncResult:
        """Sync one exchange source (``rempart.exchanges.service``), then run the retro-scan job
        of the entries it added (unless ``retro`` is False: a runner will, ``run_retro_jobs``)."""
        result = exchanges.sync_exchange(self.db, self.settings.home, name,
                                         secret_from_environment, options)
        if retro and result.retro_job is not None:
            self.run_retro_jobs(result.retro_job)
        return result

    def deliver_exchange_feedback(self) -> Delivered:
        """Send reviewers' queued opinions back to the exchanges."""
        return deliver_feedback(self.db, self.settings.home, secret_from_environment)

    def exchange_round(self) -> None:
        """One round of the exchange worker in ``rempart serve``: sync every due source, then
        deliver queued feedback."""
        with self.db.session() as s:
            due = exchanges.due_exchanges(s)
        for name in due:
            self.sync_exchange(name, exchanges.SyncOptions(rest=SERVE_REST))
        self.deliver_exchange_feedback()

    def follow_up(self) -> int:
        """Work that follows a commit: the retro-scan of fingerprints confirmed from notices; the
        legal desk's expired holds and pending CyberTipline reports; the background retro-scans
        of big imports."""
        return (retro_confirmed(self.db, self.retro_scan_entries) + self.legal.follow_up(self.db)
                + self.run_retro_jobs())

    def enable_entry(self, entry_id: int, progress=None) -> BankingOutcome:
        """Let a disabled entry match again, and retro-scan what was uploaded meanwhile (only
        when this call enabled it: enabling an enabled entry finds nothing new)."""
        def change(s):
            entry, changed = banks.enable_entry(s, entry_id)
            return banks.AddResult(added=[entry] if changed else [])

        return self._bank_then_retro(change, progress)

    def import_list(self, bank_name: str, data: bytes | BinaryIO, fmt: str, *, added_by: str = "",
                    progress=None, stats: StreamedImport | None = None) -> BankingOutcome:
        """Import a hash list (bytes, or a binary file read in batches: memory does not grow
        with it), all or nothing. The retro-scan for the entries added follows at once, or, when
        they are at least ``retro_jobs.BACKGROUND_ENTRIES``, is recorded as a job in the same
        transaction (``retro_job``) for ``run_retro_jobs``."""
        source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        with self.db.session() as s:
            bank = banks.get_bank(s, bank_name)
            result = banks.import_stream(s, bank, source, fmt, added_by, stats=stats)
            if result.n_added >= retro_jobs.BACKGROUND_ENTRIES:
                job = retro_jobs.create_job(s, bank, result.first_seq, result.last_seq,
                                            result.n_added)
                return BankingOutcome(result, [], job.id)
            added = result.added_ids()
        return BankingOutcome(result, self.retro_scan_entries(added, progress))

    def run_retro_jobs(self, job_id: int | None = None,
                       progress: Callable[[int, int], None] | None = None) -> int:
        """Run background retro-scans until none is left to claim (or only ``job_id``); returns
        how many ran. ``progress(examined, total)`` follows the ledger signals examined."""
        ran = 0
        while True:
            with self.db.session() as s:
                job = retro_jobs.claim(s, job_id)
                if job is None:
                    return ran
                jid, ids = job.id, retro_jobs.entry_ids(s, job)
                total = s.scalar(select(func.count()).select_from(ItemSignal)
                                 .where(ItemSignal.signal_type == "pdq")) or 0
            examined = 0

            def step(n: int, jid=jid, total=total) -> None:
                nonlocal examined
                examined += n
                with self.db.session() as s:
                    retro_jobs.report(s, jid, examined, total)
                if progress:
                    progress(examined, total)

            try:
                found = self.retro_scan_entries(ids.tolist(), step)
            except Exception as exc:
                with self.db.session() as s:
                    retro_jobs.finish(s, jid, 0, f"{type(exc).__name__}: {exc}")
                raise
            with self.db.session() as s:
                retro_jobs.report(s, jid, total, total)
                retro_jobs.finish(s, jid, len(found))
            ran += 1
            if job_id is not None:
                return ran
