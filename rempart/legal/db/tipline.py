"""CyberTipline reports from the console's "Refer to NCMEC" referrals.

A reviewer's decision with the ``refer_ncmec`` action records a ``mod_referrals`` row (one per
case, and a case is about one account). ``send_pending`` turns each pending referral into one
CyberTipline report (``rempart.legal.cybertipline``): the incident, the platform as reporter,
the reported account and the group it shared in, and the case's files with their original
hashes and the facts the console recorded (``fileViewedByEsp``: a reviewer revealed the item,
audited in ``mod_reveals``; ``publiclyAvailable``: what a reviewer recorded on the case page,
``rempart.moderation.facts``, audited; false for a private service until recorded). It is submitted with the
documented sequence against ``[legal] cybertipline_url``.

No duplicate report: the submission's state (``legal_tipline_reports.state``, unique per
referral) is saved in its own transaction after every step, and a run resumes where the last
stopped (a lost /submit answer stops as "uncertain" for a person to reconcile, never resent).
When NCMEC acknowledges the finish: the report id and file ids are stored, a one-year hold is
placed on the case (18 U.S.C. 2258A(h)), and a leaf of the transparency log commits to the
report (its opening names the report id, privately).
"""

from __future__ import annotations

import hashlib
import threading

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, system_actor
from rempart.errors import InvalidInput, NotFound
from rempart.legal.cybertipline.client import CyberTiplineClient, Reconcile, submit_report
from rempart.legal.cybertipline.client import reconcile as reconcile_submission
from rempart.legal.cybertipline.report import CyberTipReport, IncidentType, ReportedUser, ReportFile, Reporter
from rempart.legal.cybertipline.state import PRESERVATION_AFTER_REPORT, Phase, Submission
from rempart.legal.config import LegalConfig
from rempart.legal.db.models import TiplineReport
from rempart.legal.errors import CyberTiplineError
from rempart.moderation.facts import publicly_available
from rempart.moderation.holds import place_hold
from rempart.moderation.models import Case, CaseItem, Referral, Reveal
from rempart.scanning.models import ItemSignal, ScannedItem
from rempart.store.db import utcnow

ACTOR = system_actor("cybertipline")
#: reports that wait for a person (``reconcile``): a lost /submit, a report NCMEC refused
WAITING = frozenset({Phase.UNCERTAIN.value, Phase.RETRACTED.value})
#: one sender at a time in a process (the desk's button and the 30 s loop of ``rempart serve``)
_RUN = threading.RLock()
#: the leaf that refers to a finished report (no action on anything: a report was made)
LEAF_FIELDS = {"kind": "moderation_decision", "decision": "no_action", "target": "account",
               "ground": "illegal_content", "category": "protection_of_minors",
               "keyword": "child_sexual_abuse_material", "content_type": "other",
               "source_type": "own_initiative_hash_match", "automated_detection": "yes",
               "automated_decision": "not_automated", "time_to_action": "immediate"}


def build(session, referral: Referral, config: LegalConfig, media_file) -> tuple[CyberTipReport, dict]:
    """The report of one referral and its files (key -> path or bytes)."""
    case = session.get(Case, referral.case_id)
    items = list(session.scalars(select(ScannedItem).join(CaseItem, CaseItem.item_id == ScannedItem.id)
                                 .where(CaseItem.case_id == case.id).order_by(ScannedItem.id)))
    viewed = set(session.scalars(select(Reveal.item_id).where(Reveal.case_id == case.id)))
    public = publicly_available(case.detail)  # recorded on the case page (audited)
    files, sources = [], {}
    for item in items:
        sig = dict(session.execute(select(ItemSignal.signal_type, ItemSignal.value).where(
            ItemSignal.item_id == item.id, ItemSignal.variant == "original")).all())
        path = media_file(sig["sha256"]) if sig.get("sha256") else None
        if path is None:
            continue
        key = f"item-{item.id}"
        hashes = tuple((t.upper(), sig[t]) for t in ("md5", "sha1", "sha256") if sig.get(t))
        files.append(ReportFile(key, f"{key}.{(item.media_format or 'bin').lower()}", item.id in viewed,
                                public, hashes, uploaded_at=item.uploaded_at or item.scanned_at))
        sources[key] = path
    account = case.account or (items[0].account if items else None) or f"case-{case.id}"
    report = CyberTipReport(
        IncidentType.CHILD_PORNOGRAPHY, case.created_at, Reporter(config.reporter_email),
        ReportedUser(account, group_identifier=case.space or (items[0].space if items else None)),
        tuple(files), additional_info=f"rempart case {case.id}")
    return report, sources


def _row(db, referral: Referral, keys: list[str]) -> int:
    """The report row of a referral, created once (a unique referral: never two reports)."""
    with db.session() as s:
        existing = s.scalar(select(TiplineReport.id).where(TiplineReport.referral_id == referral.id))
        if existing:
            return existing
        row = TiplineReport(referral_id=referral.id, case_id=referral.case_id,
                            state=Submission.new(f"referral-{referral.id}", keys).to_json())
        try:
            s.add(row)
            s.flush()
            return row.id
        except IntegrityError:
            s.rollback()
    with db.session() as s:
        return s.scalar(select(TiplineReport.id).where(TiplineReport.referral_id == referral.id))


def send(db, referral_id: int, client: CyberTiplineClient, config: LegalConfig, media_file, log,
         run=submit_report) -> TiplineReport:
    """Submit (or resume) the report of one referral; returns its row (status ``finished``,
    or the error it stopped on, saved). ``run`` drives the state (``submit_report``, or a
    person's ``reconcile``)."""
    with db.session() as s:
        referral = s.get(Referral, referral_id)
        report, sources = build(s, referral, config, media_file)
    row_id = _row(db, referral, [f.key for f in report.files])
    with db.session() as s:
        state = Submission.from_json(s.get(TiplineReport, row_id).state)
    if state.phase is Phase.FINISHED:
        with db.session() as s:
            return s.get(TiplineReport, row_id)

    def save(new: Submission) -> None:
        with db.session() as s2:
            r = s2.get(TiplineReport, row_id)
            r.state, r.status, r.report_id = new.to_json(), new.phase.value, new.report_id

    try:
        state = run(client, state, report, sources, save=save, now=utcnow)
    except CyberTiplineError as exc:
        with db.session() as s:
            r = s.get(TiplineReport, row_id)
            r.attempts, r.last_error = r.attempts + 1, str(exc)[:2000]
            r.status = Submission.from_json(r.state).phase.value
            record(s, ACTOR, AuditEvent.TIPLINE_FAILED, case_id=r.case_id, subject=f"referral:{referral_id}",
                   detail={"error": str(exc)[:300], "phase": r.status})
            return r
    if state.phase is not Phase.FINISHED:  # retracted: it waits for a person (``reconcile``)
        with db.session() as s:
            return s.get(TiplineReport, row_id)
    with db.session() as s:
        r = s.get(TiplineReport, row_id)
        r.attempts += 1
        r.status, r.report_id, r.finished_at, r.last_error = "finished", state.report_id, state.finished_at, ""
        hold = place_hold(s, ACTOR, r.case_id, f"cybertipline:{state.report_id}")
        hold.expires_at = state.finished_at + PRESERVATION_AFTER_REPORT
        r.hold_id = hold.id
        r.leaf_index = log.record_decision(s, LEAF_FIELDS, hashlib.sha256(f"cybertipline:{state.report_id}".encode()).digest(),
                                           ("cybertipline_report", r.id), subject="report",
                                           event=f"cybertipline:{r.id}")
        s.get(Referral, referral_id).status = "submitted"
        record(s, ACTOR, AuditEvent.TIPLINE_SUBMITTED, case_id=r.case_id, subject=f"referral:{referral_id}",
               detail={"report_id": state.report_id, "files": len(state.file_ids)})
        return r


def pending(db) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(Referral.id).where(Referral.target == "ncmec",
                                                        Referral.status == "pending_submission")
                              .order_by(Referral.id)))


def _client(config: LegalConfig) -> CyberTiplineClient:
    return CyberTiplineClient(config.cybertipline_url, config.cybertipline_username,
                              config.cybertipline_password, retries=config.cybertipline_attempts - 1,
                              backoff=0.2, max_backoff=2.0, timeout=10.0)


def reconcile(db, actor: Actor, tipline_id: int, how: str, *, report_id: str | None = None, note: str,
              config: LegalConfig, media_file, log,
              client: CyberTiplineClient | None = None) -> TiplineReport:
    """A person of the legal team settles a report that stopped for them: a lost /submit
    (``uncertain``: ``continue`` with the report id NCMEC gave, ``retract`` that report and
    submit afresh, or ``not_opened`` on NCMEC's word) or a ``retracted`` report, fixed
    (``resubmit``). ``note`` says what NCMEC said and who said it. Audited; never a second
    live report (``rempart.legal.cybertipline.client.reconcile``); bad input changes nothing."""
    require(actor, P.LEGAL_DESK)
    try:
        how = Reconcile(how)
    except ValueError:
        raise InvalidInput(f"how must be one of {', '.join(r.value for r in Reconcile)}") from None
    note = (note or "").strip()
    if not note or len(note) > 2000:
        raise InvalidInput("say what NCMEC told you, and who (a note of up to 2000 characters)")
    if config.cybertipline_url is None and client is None:
        raise InvalidInput("no CyberTipline endpoint is configured ([legal] cybertipline_url)")
    with _RUN:
        with db.session() as s:
            row = s.get(TiplineReport, tipline_id)
            if row is None:
                raise NotFound("CyberTipline report", tipline_id)
            referral_id, case_id, before, before_state = row.referral_id, row.case_id, row.status, row.state
            phase = Submission.from_json(row.state).phase
        allowed = (Phase.RETRACTED,) if how is Reconcile.RESUBMIT else (Phase.UNCERTAIN, Phase.SUBMITTING)
        if phase not in allowed:
            raise InvalidInput(f"report {tipline_id} is {phase.value}: {how.value} does not apply")
        own = client is None
        client = client or _client(config)

        def run(c, state, report, sources, *, save, now):
            return reconcile_submission(c, state, report, sources, how, report_id, save=save, now=now)

        try:
            try:  # an id NCMEC does not know raises InvalidInput and changes nothing
                row = send(db, referral_id, client, config, media_file, log, run=run)
            finally:
                with db.session() as s:
                    r = s.get(TiplineReport, tipline_id)
                    if r.state != before_state:  # something was settled: who, how, on what word
                        record(s, actor, AuditEvent.TIPLINE_RECONCILED, case_id=case_id,
                               subject=f"referral:{referral_id}",
                               detail={"how": how.value, "report_id": report_id, "note": note[:500],
                                       "from": before, "to": r.status})
        finally:
            if own:
                client.close()
    return row


def send_pending(db, config: LegalConfig, media_file, log, *,
                 client: CyberTiplineClient | None = None) -> list[TiplineReport]:
    """Send (or resume) every pending referral's report, except one that waits for a person to
    reconcile a lost /submit. Nothing without ``cybertipline_url``."""
    if config.cybertipline_url is None and client is None:
        return []
    own = client is None
    client = client or _client(config)
    out = []
    try:
        with _RUN:
            for referral_id in pending(db):
                with db.session() as s:
                    r = s.scalar(select(TiplineReport).where(TiplineReport.referral_id == referral_id))
                    if r is not None and r.status in WAITING:
                        continue
                out.append(send(db, referral_id, client, config, media_file, log))
    finally:
        if own:
            client.close()
    return out


def reports(db) -> list[TiplineReport]:
    with db.session() as s:
        return list(s.scalars(select(TiplineReport).order_by(TiplineReport.id.desc())))


