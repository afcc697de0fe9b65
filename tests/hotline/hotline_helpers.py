"""Helpers for the hotline tests: an organisation with its key, uploads the ledger knows, a
reviewer deciding a notice's case, notices built the way organisations send them."""

from __future__ import annotations

from rempart.authz import Role
from rempart.hotline.models import Notice
from rempart.hotline.orgs import create_org
from rempart.moderation import claim, decide
from rempart.moderation.actions import ActionRequest
from rempart.moderation.vocab import ActionKind
from rempart.scanning.service import ScanContext
from tests.factories import image_bytes
from tests.web.web_helpers import make_users


def org(runtime, name: str = "Hotline A", kind: str = "hotline") -> tuple[int, str]:
    with runtime.db.session() as s:
        new = create_org(s, name, kind, "FR")
        return new.org.id, new.key


def posted(runtime, seed: int, account: str, message: str, space: str = "group-1"):
    """An allowed upload in the ledger (what a notice points at)."""
    return runtime.scan_media(image_bytes(seed), ScanContext(account=account, space=space,
                                                              message=message))


def notice(account: str = "acct-1", message: str | None = "m-1", **extra) -> dict:
    loc = {"account": account, "space": "group-1"}
    if message:
        loc["message"] = message
    return {"reference": "T-1", "category": "csam", "explanation": "stand-in test notice",
            "good_faith": True, "locations": [loc], **extra}


def auth(key: str, idem: str | None = None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {key}"}
    if idem:
        h["Idempotency-Key"] = idem
    return h


def reviewer(runtime):
    return make_users(runtime, {"csm": Role.CHILD_SAFETY_MODERATOR})["csm"]


def decide_notice(runtime, notice_id: int, actor, kinds: list[ActionKind], policy="csam"):
    """Claim the notice's case and decide it with ``kinds``."""
    with runtime.db.session() as s:
        case_id = s.get(Notice, notice_id).case_id
        claim(s, actor, case_id, runtime.moderation)
        return decide(s, actor, case_id, actions=[ActionRequest(k) for k in kinds],
                      policy=policy if kinds != [ActionKind.DISMISS] else None,
                      facts="stand-in", config=runtime.moderation)


def tune(runtime, **changes):
    """Change the hotline settings of a running runtime (what the TOML's [hotline] sets)."""
    import dataclasses

    runtime.hotline = dataclasses.replace(
        runtime.hotline, config=dataclasses.replace(runtime.hotline.config, **changes))
    return runtime.hotline.config
