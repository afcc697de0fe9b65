"""The moderation part of the demo: reviewer accounts, and the demo's cases worked on.

By the time this runs, the after-scan hook has turned the demo's review and block verdicts
into cases (one per account and source). This creates demo reviewers (their one-time
credentials go into the summary), then works some cases the way a team would: decisions from
metadata, a reveal, dual review that agrees (an item banked into the platform's own bank) and
one that disagrees (escalated to the lead), a confirmed automatic block, an overturn waiting
for its second reviewer, an appeal, and a blast radius, so the console opens on real data.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from rempart.authz import Actor, Role, system_actor
from rempart.demo.pictures import EDITS, edited, picture
from rempart.moderation import (
    ActionKind, ActionRequest, CaseStatus, blast_radius, claim, decide, file_appeal, reveal,
    second_review,
)
from rempart.moderation.models import Case, CaseItem, Decision, Queue
from rempart.people import actor_of, bootstrap_user
from rempart.people.models import ConsoleUser
from rempart.runtime import Runtime
from rempart.scanning.models import ItemSignal

REVIEWERS = (("demo-cs1", Role.CHILD_SAFETY_MODERATOR), ("demo-cs2", Role.CHILD_SAFETY_MODERATOR),
             ("demo-lead", Role.LEAD), ("demo-mod", Role.MODERATOR), ("demo-admin", Role.ADMIN))
FACTS = ("Matched an entry of the demo NGO list (a benign stand-in) at a small Hamming distance; "
         "decided from the list, the distance and the account's history.")


@dataclass
class ModerationDemo:
    #: username -> {"role", "one_time_password", "totp_secret", "otpauth_uri"} (new users only)
    credentials: dict[str, dict] = field(default_factory=dict)
    cases_by_queue: dict[str, int] = field(default_factory=dict)
    decisions: Counter = field(default_factory=Counter)
    escalated: int = 0
    appeals: int = 0
    reveals: int = 0
    blast_item: int | None = None
    blast_accounts: int = 0
    blast_spaces: int = 0

    def to_json(self) -> dict:
        return {"credentials": self.credentials, "cases_by_queue": self.cases_by_queue,
                "decisions": dict(self.decisions), "escalated": self.escalated,
                "appeals": self.appeals, "reveals": self.reveals,
                "blast_radius": {"item": self.blast_item, "accounts": self.blast_accounts,
                                 "spaces": self.blast_spaces}}

    def render(self) -> list[str]:
        lines = ["  moderation console:",
                 "    cases by queue  " + ", ".join(f"{q} {n}" for q, n in
                                                    sorted(self.cases_by_queue.items())),
                 "    decisions       " + ", ".join(f"{k} {n}" for k, n in
                                                    sorted(self.decisions.items())),
                 f"    escalated {self.escalated}, appeals {self.appeals}, reveals {self.reveals}"]
        if self.blast_item is not None:
            lines.append(f"    blast radius of item {self.blast_item}: {self.blast_accounts} "
                         f"account(s), {self.blast_spaces} space(s)")
        if self.credentials:
            lines.append("    reviewer accounts (one-time passwords and TOTP secrets; demo only):")
            lines += [f"      {u:11} {c['role']:23} {c['one_time_password']}  totp {c['totp_secret']}"
                      for u, c in self.credentials.items()]
        return lines


def _users(rt: Runtime, out: ModerationDemo) -> dict[str, Actor]:
    actors = {}
    with rt.db.session() as s:
        for name, role in REVIEWERS:
            user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == name))
            if user is None:
                new = bootstrap_user(s, name, role)
                user = new.user
                out.credentials[name] = {"role": role.value,
                                         "one_time_password": new.one_time_password,
                                         "totp_secret": new.totp_secret,
                                         "otpauth_uri": new.totp_uri}
            actors[name] = actor_of(user)
    return actors


def _open_cases(rt: Runtime, source: str, n: int) -> list[int]:
    with rt.db.session() as s:
        return list(s.scalars(select(Case.id).where(Case.source == source,
                                                    Case.status == CaseStatus.OPEN.value,
                                                    Case.claimed_by.is_(None))
                              .order_by(Case.priority, Case.id).limit(n)))


def _decide(rt: Runtime, who: Actor, case_id: int, kinds, policy: str | None = "csam") -> int:
    cfg = rt.moderation
    with rt.db.session() as s:
        claim(s, who, case_id, cfg)
        d = decide(s, who, case_id, actions=[ActionRequest(k) for k in kinds], policy=policy,
                   facts=FACTS, config=cfg)
        return d.id


def _second(rt: Runtime, who: Actor, decision_id: int, agrees: bool) -> None:
    cfg = rt.moderation
    with rt.db.session() as s:
        case_id = s.get(Decision, decision_id).case_id
        claim(s, who, case_id, cfg)
        second_review(s, who, decision_id, agrees=agrees,
                      note="agree" if agrees else "the distance is high; a lead should look",
                      config=cfg)


def _store_evidence(rt: Runtime, seeds: Iterable[int]) -> int:
    """Keep the media of the demo's flagged uploads for the console (the demo scans fingerprints,
    so it regenerates its stand-in pictures ``seeds`` and their edits and keeps those that were
    flagged)."""
    with rt.db.session() as s:
        wanted = set(s.scalars(select(ItemSignal.value).join(
            CaseItem, CaseItem.item_id == ItemSignal.item_id).where(ItemSignal.signal_type == "sha256")))
    stored = 0
    for seed in seeds:
        img = picture(seed)
        for edit in EDITS:
            data = edited(img, edit)
            sha = hashlib.sha256(data).hexdigest()
            if sha in wanted:
                rt.evidence.put(sha, data)
                stored += 1
    return stored


def run_moderation_demo(rt: Runtime, seeds: Iterable[int],
                        log: Callable[[str], None] = print) -> ModerationDemo:
    """Create the demo reviewers and work some of the demo's cases (idempotent enough to rerun:
    existing users are kept, and only still-open cases are picked). ``seeds`` are the banked
    stand-in pictures, whose flagged copies are kept as evidence for the console."""
    out = ModerationDemo()
    _store_evidence(rt, seeds)
    people = _users(rt, out)
    cs1, cs2, lead = people["demo-cs1"], people["demo-cs2"], people["demo-lead"]
    cfg = rt.moderation
    log("moderation: working some of the demo's cases ...")
    review = _open_cases(rt, "hash_review", 4)
    block = _open_cases(rt, "hash_block", 3)
    banked_item = None
    if review:
        # metadata first, then one explicit reveal before banking (dual review: cs2 agrees)
        with rt.db.session() as s:
            case = claim(s, cs1, review[0], cfg)
            banked_item = case.items[0].item_id
            reveal(s, cs1, review[0], banked_item, cfg)
            out.reveals += 1
        did = _decide(rt, cs1, review[0], [ActionKind.REMOVE_ITEM, ActionKind.BANK_ITEM])
        _second(rt, cs2, did, agrees=True)
        out.decisions["removed+banked (dual review)"] += 1
        with rt.db.session() as s:
            file_appeal(s, system_actor("platform"), did, appellant=s.get(Case, review[0]).account,
                        statement="I did not upload this on purpose.", config=cfg)
            out.appeals += 1
    if len(review) > 1:
        did = _decide(rt, cs2, review[1], [ActionKind.REMOVE_ITEM, ActionKind.BAN_ACCOUNT])
        _second(rt, cs1, did, agrees=False)
        out.escalated += 1
    if len(review) > 2:
        _decide(rt, cs1, review[2], [ActionKind.REMOVE_ITEM, ActionKind.PRESERVATION_HOLD])
        out.decisions["removed+hold"] += 1
    for case_id in block[:2]:
        _decide(rt, cs2, case_id, [ActionKind.REMOVE_ITEM])
        out.decisions["block confirmed"] += 1
    if len(block) > 2:
        _decide(rt, cs1, block[2], [ActionKind.OVERTURN_BLOCK], policy=None)
        out.decisions["overturn awaiting second review"] += 1
    if banked_item is not None:
        with rt.db.session() as s:
            radius = blast_radius(s, lead, banked_item)
            out.blast_item = banked_item
            out.blast_accounts, out.blast_spaces = len(radius.accounts), len(radius.spaces)
    with rt.db.session() as s:
        out.cases_by_queue = {q: int(n) for q, n in s.execute(
            select(Queue.name, func.count(Case.id)).join(Case, Case.queue_id == Queue.id)
            .group_by(Queue.name))}
    return out


__all__ = ["ModerationDemo", "run_moderation_demo"]
