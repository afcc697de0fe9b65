"""The demo: banks of benign stand-in pictures, a simulated upload stream, a summary.

1. Three banks: ``demo-known`` (block; stands in for an NGO list), ``demo-review`` (review) and
   ``demo-safelist`` (one known benign collision).
2. Stand-in pictures are banked straight from their media ("bank this confirmed item").
3. A stream of uploads from simulated accounts and groups: mostly new pictures, plus edited
   copies (resized, recompressed, greyscale, flipped, padded, exact) of the banked ones.
4. A picture that was uploaded (and allowed) earlier is banked afterwards: retro-scan finds
   every past upload of it.
5. Copies PDQ misses (caption, crop + turn, screenshot) of a banked picture: which stage caught
   each and why (``rempart.demo.stages``); the one only local features catch goes to review.
6. Banks synced from local NCMEC, ThreatExchange and StopNCII servers (``rempart.demo.exchanges``).
The summary compares verdicts with the ground truth the scenario knows.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rempart.api.permissions import Scope
from rempart.api.tokens import issue_token
from rempart.banks import service as banks
from rempart.errors import Conflict
from rempart.demo.exchanges import ExchangeDemo, run_exchange_demo
from rempart.demo.hotline import HotlineDemo, run_hotline_demo
from rempart.demo.legal import LegalDemo, run_legal_demo
from rempart.demo.moderation import ModerationDemo, run_moderation_demo
from rempart.demo.pictures import EDITS, edited, jpeg, picture
from rempart.demo.stages import StagesDemo, run_stages_demo
from rempart.demo.transparency import DemoLog, close_demo_day
from rempart.demo.big_bank import BigBankDemo, run_big_bank_demo
from rempart.runtime import Runtime
from rempart.scanning.service import ScanContext
from rempart.signals import DEFAULT_THRESHOLD, hamming
from rempart.workers.service import get_request

KNOWN, REVIEW, SAFE = "demo-known", "demo-review", "demo-safelist"
N_KNOWN, N_REVIEW = 24, 6
SAFE_SEED = 1  # a banked picture that is also safelisted: a known benign collision
SEED = 20261129
#: the banked stand-in whose edited copies show the second matching stage
STAGES_SEED = 2


@dataclass
class DemoSummary:
    uploads: int = 0
    verdicts: Counter = field(default_factory=Counter)
    expected: Counter = field(default_factory=Counter)
    correct: int = 0
    by_edit: dict[str, Counter] = field(default_factory=dict)
    seconds: float = 0.0
    retro_matches: int = 0
    banked_entries: int = 0
    safelisted: int = 0
    #: API tokens issued for exploring the demo with `rempart serve` (scope -> secret)
    tokens: dict[str, str] = field(default_factory=dict)
    #: the transparency log after the demo day was closed (see ``rempart.demo.transparency``)
    log: DemoLog | None = None
    #: reviewer accounts and worked cases (see ``rempart.demo.moderation``)
    moderation: ModerationDemo | None = None
    #: the demo NGO's notices, a public report and an on-device submission
    hotline: HotlineDemo | None = None
    #: the law-enforcement desk: agency, officer, orders, a signed package, a CyberTipline report
    legal: LegalDemo | None = None
    #: banks synced from local NCMEC / ThreatExchange / StopNCII servers, feedback, the feed
    exchanges: ExchangeDemo | None = None
    #: a big list streamed in, its background retro-scan, a snapshot and a start from it
    big_bank: BigBankDemo | None = None
    #: asynchronous scans (``POST /v1/scan?mode=async``): verdicts equal to the synchronous ones
    async_scans: int = 0
    async_agree: int = 0
    #: copies PDQ misses, and the stage that caught each (issue 12)
    stages: StagesDemo | None = None
    #: a 12-megapixel stand-in photo on the scan path and the banking path (see ``_photo_hashing``)
    photo: dict = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.uploads / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        return {"uploads": self.uploads, "verdicts": dict(self.verdicts),
                "expected": dict(self.expected), "correct": self.correct,
                "by_edit": {k: dict(v) for k, v in self.by_edit.items()},
                "seconds": round(self.seconds, 2), "uploads_per_second": round(self.per_second, 1),
                "safelisted": self.safelisted, "retro_matches": self.retro_matches,
                "tokens": self.tokens, "banked_entries": self.banked_entries,
                "transparency_log": self.log.to_json() if self.log else None,
                "moderation": self.moderation.to_json() if self.moderation else None,
                "hotline": self.hotline.to_json() if self.hotline else None,
                "exchanges": self.exchanges.to_json() if self.exchanges else None,
                "legal": self.legal.to_json() if self.legal else None,
                "big_bank": self.big_bank.to_json() if self.big_bank else None,
                "async_scans": {"scanned": self.async_scans, "agree": self.async_agree},
                "stages": self.stages.to_json() if self.stages else None,
                "photo_hashing": self.photo}

    def render(self) -> str:
        v = self.verdicts
        lines = [
            "rempart demo summary",
            f"  uploads scanned   {self.uploads} in {self.seconds:.1f} s "
            f"({self.per_second:.1f} uploads/s, fingerprint + match + ledger)",
            f"  blocked           {v['block']}",
            f"  sent to review    {v['review']}",
            f"  allowed           {v['allow']}",
            f"  as expected       {self.correct}/{self.uploads}",
            "  edited copies of banked pictures, by edit:",
        ]
        for edit, c in sorted(self.by_edit.items()):
            lines.append(f"    {edit:13} " + ", ".join(f"{k} {n}" for k, n in sorted(c.items())))
        lines.append(f"  safelisted        {self.safelisted} copies of a known benign collision, "
                     "allowed by the safelist")
        lines.append(f"  retro-scan        {self.retro_matches} past upload(s) matched a picture "
                     "banked after they were allowed")
        lines.append(f"  async scans       {self.async_agree}/{self.async_scans} gave the synchronous "
                     "verdict (scale-out mode: REMPART_NATS_URL + `rempart worker`, see README)")
        if self.stages:
            lines += self.stages.render()
        if self.photo:
            p = self.photo
            lines.append(f"  12 MP photo       scan path {p['scan_ms']} ms, banking path "
                         f"{p['bank_ms']} ms (full resolution, bit-exact); "
                         f"{p['bits_apart']} PDQ bits apart, matched: {p['matched']}")
        if self.log:
            lines += self.log.render()
        if self.moderation:
            lines += self.moderation.render()
        if self.hotline:
            lines += self.hotline.render()
        if self.legal:
            lines += self.legal.render()
        if self.exchanges:
            lines += self.exchanges.render()
        if self.big_bank:
            lines += self.big_bank.render()
        if self.tokens:
            lines.append("  API tokens for `rempart serve` (shown once; demo data only):")
            lines += [f"    {scope:9} {secret}" for scope, secret in self.tokens.items()]
            lines.append("  try: curl -H 'Authorization: Bearer <curator token>' "
                         "http://127.0.0.1:8080/v1/banks")
        return "\n".join(lines)


def _ensure_bank(rt: Runtime, name: str, **kw) -> None:
    with rt.db.session() as s:
        try:
            banks.create_bank(s, name, **kw)
        except Conflict:
            pass


def _bank_pictures(rt: Runtime, bank: str, seeds: list[int]) -> int:
    added = 0
    for seed in seeds:
        fp = rt.fingerprint(jpeg(picture(seed)), exact=True)
        added += len(rt.bank_media(bank, fp, external_id=f"demo-{seed}",
                                   added_by="demo").result.added)
    return added


def _plan(uploads: int, rng: random.Random) -> list[tuple[int, str, str]]:
    """(seed, edit, expected verdict) for each upload."""
    plan = []
    fresh = 10_000
    for _ in range(uploads):
        r = rng.random()
        if r < 0.20:
            seed, expect = rng.choice([s for s in range(N_KNOWN) if s != SAFE_SEED]), "block"
        elif r < 0.27:
            seed, expect = rng.randrange(N_KNOWN, N_KNOWN + N_REVIEW), "review"
        elif r < 0.29:
            seed, expect = SAFE_SEED, "allow"
        else:
            fresh += 1
            plan.append((fresh, "exact", "allow"))
            continue
        plan.append((seed, rng.choice(EDITS), expect))
    return plan


def run_demo(rt: Runtime, uploads: int = 400, log: Callable[[str], None] = print) -> DemoSummary:
    rng = random.Random(SEED)
    summary = DemoSummary()
    _ensure_bank(rt, KNOWN, source="ngo:demo", legal_basis="Demo stand-in for an NGO hash list",
                 action="block")
    _ensure_bank(rt, REVIEW, source="local", legal_basis="Demo: items that need a human decision",
                 action="review")
    _ensure_bank(rt, SAFE, source="local", legal_basis="Demo: known benign collisions",
                 safelist=True)
    log(f"banking {N_KNOWN + N_REVIEW} benign stand-in pictures ...")
    summary.banked_entries += _bank_pictures(rt, KNOWN, list(range(N_KNOWN)))
    summary.banked_entries += _bank_pictures(rt, REVIEW, list(range(N_KNOWN, N_KNOWN + N_REVIEW)))
    summary.banked_entries += _bank_pictures(rt, SAFE, [SAFE_SEED])

    plan = _plan(uploads, rng)
    late_seed = next(seed for seed, edit, expect in plan if expect == "allow" and seed >= 10_000)
    plan += [(late_seed, e, "allow") for e in ("flipped", "greyscale")]  # shared again, still allowed
    log(f"scanning {len(plan)} simulated uploads ...")

    def make(item):
        seed, edit, _ = item
        return rt.fingerprint(edited(picture(seed), edit))

    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        for (seed, edit, expect), fp in zip(plan, pool.map(make, plan)):
            context = ScanContext(account=f"acct-{rng.randrange(60):03d}",
                                  space=f"group-{rng.randrange(12):02d}")
            outcome = rt.scan_fingerprint(fp, context)
            summary.uploads += 1
            summary.verdicts[outcome.verdict] += 1
            summary.expected[expect] += 1
            summary.correct += outcome.verdict == expect
            if seed == SAFE_SEED:
                summary.safelisted += 1
            elif seed < 10_000:
                summary.by_edit.setdefault(edit, Counter())[outcome.verdict] += 1
    summary.seconds = time.perf_counter() - start

    log("hashing a 12-megapixel photo on the scan path and the banking path ...")
    summary.photo = _photo_hashing(rt)
    log("banking a picture that was allowed earlier; retro-scan looks back ...")
    fp = rt.fingerprint(jpeg(picture(late_seed)), exact=True)
    summary.retro_matches = len(rt.bank_media(KNOWN, fp, external_id=f"demo-late-{late_seed}",
                                              added_by="demo").retro)
    summary.tokens = _issue_tokens(rt)
    summary.moderation = run_moderation_demo(rt, range(N_KNOWN + N_REVIEW), log)
    summary.hotline = run_hotline_demo(rt, log)
    summary.stages = run_stages_demo(rt, STAGES_SEED, KNOWN, log)
    summary.legal = run_legal_demo(rt, log)
    summary.exchanges = run_exchange_demo(rt, KNOWN, log)
    summary.big_bank = run_big_bank_demo(rt, log)
    log("closing the demo day in the transparency log ...")
    summary.log = close_demo_day(rt)
    if rt.bus is None:  # in scale-out mode the workers scan, and may not be running yet
        log("scanning uploads asynchronously (202, then the verdict) ...")
        summary.async_scans, summary.async_agree = _async_scans(rt)
    return summary


def _photo_hashing(rt: Runtime) -> dict:
    """A stand-in picture resized to 12 megapixels: uploads are scanned on the fast path (the
    JPEG decoded at 1/8 scale), banked items hashed at full resolution, bit-exact with Meta's
    reference; the two PDQ hashes are a few bits apart and match."""
    data = jpeg(picture(SEED % 1000).resize((4000, 3000)))
    rt.fingerprint(data)  # the PDQ kernels compile (or load from numba's cache) on first use
    start = time.perf_counter()
    scanned = rt.fingerprint(data)
    middle = time.perf_counter()
    banked = rt.fingerprint(data, exact=True)
    end = time.perf_counter()
    bits = hamming(scanned.pdq().pdq, banked.pdq().pdq)
    return {"scan_ms": round(1000 * (middle - start), 1), "bank_ms": round(1000 * (end - middle), 1),
            "bits_apart": bits, "matched": bits <= DEFAULT_THRESHOLD}


def _async_scans(rt: Runtime) -> tuple[int, int]:
    """Uploads never banked, scanned asynchronously by this process's threads: their verdicts
    against the synchronous path's (allow, with no case or log leaf either way)."""
    agree = 0
    seeds = (20_001, 20_002)
    ids = [rt.scans.submit("upload", {"account": "acct-async", "space": None, "message": None,
                                      "uploaded_at": None}, media=jpeg(picture(seed)))
           for seed in seeds]
    for seed, scan_id in zip(seeds, ids):
        sync = rt.scan_media(jpeg(picture(seed)), ScanContext(account="acct-async"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with rt.db.session() as s:
                request = get_request(s, scan_id)
                status, result = request.status, request.result
            if status != "queued":
                break
            time.sleep(0.05)
        agree += status == "done" and result.get("verdict") == sync.verdict
    return len(ids), agree


def _issue_tokens(rt: Runtime) -> dict[str, str]:
    out = {}
    with rt.db.session() as s:
        for scope in (Scope.PLATFORM, Scope.CURATOR):
            out[scope.value] = issue_token(s, f"demo-{scope.value}", frozenset({scope}))[1]
    return out
