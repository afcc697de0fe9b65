"""The verifier: checks a published log from its files alone (a directory or a URL), no server.

Pure (standard library, ``cryptography``, the pure transparency modules): usable as a library
by anyone. Each check returns a ``Verdict``: ``ok``, the checks that passed in order, and on
failure the check that failed and why. Nothing fetched is trusted before it is verified: report
JSON only names a leaf index; everything else is recomputed from the authenticated log.

- ``verify_published_report``: the latest checkpoint is signed by the log key; the report leaf for the
  day is in that tree; the day's decision leaves recount to the report's counts; the report's
  range is exactly the leaves since the previous report, which is the report of the day
  before (a dropped day breaks this); the checkpoint published with the report is signed and
  the latest tree extends it (a fork breaks this); the report JSON and the statements of
  reasons are exactly what the leaves say — every number in the JSON, the banned items,
  spaces and accounts and the time-to-action distribution and median included, is recomputed
  (``reports.report_summary``) and compared.
- ``verify_published_consistency``: two signed checkpoints of the log, the new tree extends the old.
- ``verify_receipt``: a receipt's tlog-proof is signed and includes its decision leaf; with the
  private opening, the leaf's commitment opens to it; with the content, it is this content.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rempart.errors import InvalidInput, NotFound, RempartError, shown
from rempart.transparency.errors import VerificationError
from rempart.transparency.leaves import (
    Decision, check_commitment, check_report, parse_day_leaf, parse_report_leaf,
)
from rempart.transparency.merkle import leaf_hash
from rempart.transparency.cosignature import WitnessPolicy
from rempart.transparency.note import Ed25519Verifier, open_note
from rempart.transparency.proof import parse_tlog_proof, verify_tlog_proof
from rempart.transparency.reports import report_document, report_summary, statements_for
from rempart.transparency.tiledlog import (
    MAX_FETCH_BYTES, Fetch, LogClient, directory_fetcher, http_get, url_fetcher,
)

RECEIPT_FORMAT = "rempart/receipt/v1"
_SITE_PATH = re.compile(r"reports/\d{4}-\d{2}-\d{2}(\.sor)?\.json|reports/index\.json|openings\.json|vkey|"
                        r"checkpoints/\d{1,19}")


@dataclass
class Verdict:
    """The outcome of one verification: what passed, and what failed and why."""

    subject: str
    ok: bool = True
    passed: list[str] = field(default_factory=list)
    failed: str | None = None
    reason: str | None = None
    details: dict = field(default_factory=dict)
    _current: str = ""

    def check(self, name: str) -> Verdict:
        """Name the check about to run (recorded as failed if the next step raises)."""
        self._close()
        self._current = name
        return self

    def _close(self) -> None:
        if self._current:
            self.passed.append(self._current)
            self._current = ""

    def to_json(self) -> dict:
        return {"subject": self.subject, "ok": self.ok, "passed": self.passed, "failed": self.failed,
                "reason": self.reason, "details": self.details}


def _run(subject: str, body: Callable[[Verdict], None]) -> Verdict:
    v = Verdict(subject)
    try:
        body(v)
        v._close()
    except RempartError as exc:
        v.ok, v.failed, v.reason = False, v._current or "input", str(exc)
        v._current = ""
    except (ValueError, TypeError, KeyError) as exc:  # malformed published data: a failure, not a crash
        v.ok, v.failed, v.reason = False, v._current or "input", f"malformed input: {exc}"
        v._current = ""
    return v


# --- reading published files --------------------------------------------------------------


class Site:
    """A published log: a directory or an http(s) URL. ``log`` fetches C2SP paths, ``file`` the rest."""

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        if self.location.startswith(("http://", "https://")):
            self.log: Fetch = url_fetcher(self.location)
            self._base = self.location.rstrip("/") + "/"
            self._dir: Path | None = None
        else:
            self._dir = Path(location).resolve()
            if not self._dir.is_dir():
                raise NotFound("published log directory", str(location))
            self.log = directory_fetcher(self._dir)

    def file(self, path: str) -> bytes:
        """Fetch a non-tile file of the publication (reports, vkey, archived checkpoints)."""
        if not _SITE_PATH.fullmatch(path):
            raise InvalidInput(f"not a published file path: {shown(path[:80])}")
        if self._dir is not None:
            target = self._dir / path
            if not target.is_file():
                raise NotFound("published file", path)
            if target.stat().st_size > MAX_FETCH_BYTES:
                raise InvalidInput(f"{path} is larger than {MAX_FETCH_BYTES} bytes")
            return target.read_bytes()
        return http_get(self._base, path, "published file")


def load_verifier(vkey: str) -> Ed25519Verifier:
    """A verifier from a vkey string, or from a file holding one on its first line."""
    text = vkey.strip()
    if "+" not in text or Path(text).is_file():
        try:
            text = Path(text).read_text().strip().splitlines()[0]
        except (OSError, IndexError) as exc:
            raise InvalidInput("--vkey: neither a verifier key nor a readable key file: "
                               f"{shown(vkey, 80)}") from exc
    return Ed25519Verifier.from_vkey(text)


def _json(data: bytes, what: str) -> dict:
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise InvalidInput(f"{what} is not a JSON object")
    return obj


def _field(doc: dict, key: str, kind: type, what: str):
    value = doc.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidInput(f"{what}: {shown(key)} is missing or not a {kind.__name__}")
    return value


# --- the checks ---------------------------------------------------------------------------


def _witnessed(v: Verdict, signed: bytes, verifier: Ed25519Verifier,
               policy: WitnessPolicy | None) -> None:
    """With a policy, require its witnesses' cosignatures on the signed checkpoint."""
    if policy is None:
        return
    v.check("witness cosignatures")
    v.details["witnesses"] = policy.check(open_note(signed, [verifier, *policy.witnesses]))


def verify_published_report(location: str | Path, day: str, vkey: str,
                            policy: WitnessPolicy | None = None) -> Verdict:
    """Verify the published daily report of ``day`` against the log at ``location``; with a
    ``policy``, the log's current checkpoint must also carry enough witness cosignatures."""

    def body(v: Verdict) -> None:
        v.check("verifier key")
        verifier = load_verifier(vkey)
        site = Site(location)
        client = LogClient(site.log, verifier.name, [verifier])
        v.check("checkpoint signature")
        signed_latest = site.log("checkpoint")
        latest = client.open_checkpoint(signed_latest)
        _witnessed(v, signed_latest, verifier, policy)
        v.details["checkpoint_size"] = latest.size
        v.check("report file")
        doc = _json(site.file(f"reports/{day}.json"), f"reports/{day}.json")
        index = _field(doc, "leaf_index", int, "report file")
        if not 0 <= index < latest.size:
            raise VerificationError(f"report leaf {index} is not in the signed tree of size {latest.size}")
        v.check("report leaf inclusion")
        client.inclusion_proof(latest, index)
        report = parse_report_leaf(client.entries(latest, index, index + 1)[0])
        if report.day != day:
            raise VerificationError(f"leaf {index} is the report of {report.day}, not {day}")
        v.details.update(leaf_index=index, previous=report.previous)
        v.check("recount of the day's decisions")
        leaves = [] if report.first is None else client.entries(latest, report.first, report.last + 1)
        check_report(report, leaves)
        decisions = [parse_day_leaf(x) for x in leaves]
        v.details["decisions"] = sum(isinstance(d, Decision) for d in decisions)
        if report.notices:
            v.details["notices"] = len(decisions) - v.details["decisions"]
        v.check("chain to the previous report")
        start = 0 if report.previous is None else report.previous + 1
        if (report.first is None and index != start) or (
                report.first is not None and (report.first != start or report.last != index - 1)):
            raise VerificationError(f"the report does not cover exactly the leaves [{start}, {index}) "
                                    "since the previous report")
        if report.previous is not None:
            prev = parse_report_leaf(client.entries(latest, report.previous, report.previous + 1)[0])
            want = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
            if prev.day != want:
                raise VerificationError(f"the previous report is for {prev.day}, not {want}: a day is missing")
            v.details["previous_day"] = prev.day
        v.check("report checkpoint and consistency")
        signed = _field(doc, "checkpoint", str, "report file").encode()
        rc = client.open_checkpoint(signed)
        if rc.size <= index:
            raise VerificationError(f"the report's checkpoint (size {rc.size}) does not hold leaf {index}")
        client.consistency_proof(rc, latest)
        v.check("report JSON matches the log")
        expected = report_document(report_summary(verifier.name, index, report, decisions), signed)
        if doc != expected:
            bad = sorted(k for k in set(doc) | set(expected) if doc.get(k) != expected.get(k))
            raise VerificationError(f"reports/{day}.json differs from the log in: {', '.join(bad)}")
        v.check("statements of reasons match the log")
        sor = _json(site.file(f"reports/{day}.sor.json"), f"reports/{day}.sor.json")
        if sor != statements_for(verifier.name, report.first or 0, decisions):
            raise VerificationError(f"reports/{day}.sor.json differs from the day's decision leaves")

    return _run(f"report {day}", body)


def verify_published_consistency(old: bytes, new: bytes, location: str | Path, vkey: str,
                                 policy: WitnessPolicy | None = None) -> Verdict:
    """Verify that signed checkpoint ``new`` extends ``old`` (proof computed from the log's tiles);
    with a ``policy``, ``new`` must also carry enough witness cosignatures."""

    def body(v: Verdict) -> None:
        v.check("verifier key")
        verifier = load_verifier(vkey)
        client = LogClient(Site(location).log, verifier.name, [verifier])
        v.check("old checkpoint signature")
        a = client.open_checkpoint(old)
        v.check("new checkpoint signature")
        b = client.open_checkpoint(new)
        _witnessed(v, new, verifier, policy)
        v.details.update(old_size=a.size, new_size=b.size)
        v.check("consistency")
        if a.size > b.size:
            raise VerificationError(f"the old checkpoint (size {a.size}) is larger than the new ({b.size})")
        client.consistency_proof(a, b)

    return _run("consistency", body)


def verify_published_opening(location: str | Path, index: int, vkey: str, content: bytes | None = None) -> Verdict:
    """Check a revealed opening (``openings.json``) against leaf ``index`` of the log at
    ``location``: the leaf is in the signed tree, and its commitment, made when the leaf was
    appended, opens to the published salt and digest; with ``content`` (e.g. the order's
    canonical JSON), that the digest is its SHA-256."""

    def body(v: Verdict) -> None:
        v.check("verifier key")
        verifier = load_verifier(vkey)
        site = Site(location)
        client = LogClient(site.log, verifier.name, [verifier])
        v.check("checkpoint signature")
        latest = client.open_checkpoint(site.log("checkpoint"))
        v.check("published opening")
        doc = _json(site.file("openings.json"), "openings.json")
        found = [o for o in _field(doc, "openings", list, "openings.json")
                 if isinstance(o, dict) and o.get("leaf_index") == index]
        if not found:
            raise VerificationError(f"no opening of leaf {index} is published")
        v.check("leaf inclusion")
        if not 0 <= index < latest.size:
            raise VerificationError(f"leaf {index} is not in the signed tree of size {latest.size}")
        client.inclusion_proof(latest, index)
        leaf = parse_day_leaf(client.entries(latest, index, index + 1)[0])
        if not isinstance(leaf, Decision):
            raise VerificationError(f"leaf {index} is not a decision leaf")
        v.check("commitment opens")
        salt = _b64(_field(found[0], "salt", str, "opening"))
        sha = _hex32(_field(found[0], "content_sha256", str, "opening"))
        check_commitment(leaf.commitment, salt, sha)
        v.details.update(index=index, day=leaf.day, kind=leaf.kind, content_sha256=sha.hex())
        if content is not None:
            v.check("content matches")
            if hashlib.sha256(content).digest() != sha:
                raise VerificationError("this content is not what the leaf committed to")

    return _run(f"opening {index}", body)


def verify_receipt(receipt: bytes, content: bytes | None = None, vkey: str | None = None) -> Verdict:
    """Verify a receipt (``rempart transparency receipt``); with ``content``, that it is about it."""

    def body(v: Verdict) -> None:
        v.check("receipt file")
        doc = _json(receipt, "receipt")
        if doc.get("format") != RECEIPT_FORMAT:
            raise InvalidInput(f"receipt format is not {RECEIPT_FORMAT}")
        proof = _field(doc, "tlog_proof", str, "receipt").encode()
        v.check("verifier key")
        if vkey is None:
            log = _field(doc, "log", dict, "receipt")
            verifier = load_verifier(_field(log, "vkey", str, "receipt log"))
        else:
            verifier = load_verifier(vkey)
        v.details["key_pinned"] = vkey is not None
        v.check("inclusion in a signed checkpoint")
        p = parse_tlog_proof(proof)
        if p.extra is None:
            raise InvalidInput("the receipt's tlog-proof carries no entry")
        _, cp = verify_tlog_proof(proof, leaf_hash(p.extra), verifier.name, [verifier])
        decision = parse_day_leaf(p.extra)
        if isinstance(decision, Decision):
            v.details.update(index=p.index, checkpoint_size=cp.size, day=decision.day,
                             kind=decision.kind, decision=decision.decision)
        else:
            v.details.update(index=p.index, checkpoint_size=cp.size, day=decision.day,
                             kind="notice", event=decision.event, outcome=decision.outcome)
        opening = doc.get("private_opening")
        if opening is None:
            if content is not None:
                raise VerificationError("the receipt has no private opening: it cannot be tied to content")
            return
        v.check("commitment opens")
        if not isinstance(opening, dict) or opening.get("leaf_index") != p.index:
            raise InvalidInput("the private opening is not for this leaf")
        salt = _b64(_field(opening, "salt", str, "opening"))
        sha = _hex32(_field(opening, "content_sha256", str, "opening"))
        check_commitment(decision.commitment, salt, sha)
        if content is not None:
            v.check("content matches")
            if hashlib.sha256(content).digest() != sha:
                raise VerificationError("this content is not the content the decision is about")

    return _run("receipt", body)


def _b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("opening salt is not base64") from exc
    if len(raw) != 32:
        raise InvalidInput("opening salt is not 32 bytes")
    return raw


def _hex32(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise InvalidInput("opening content_sha256 is not hex") from exc
    if len(raw) != 32:
        raise InvalidInput("opening content_sha256 is not 32 bytes")
    return raw
