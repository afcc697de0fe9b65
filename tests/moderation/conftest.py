"""Fixtures for moderation tests: people of every role, banks of benign stand-ins, and scans
that have become cases through the after-scan hook."""

from __future__ import annotations

import pytest

from rempart.authz import Actor, Role
from rempart.banks import service as banks
from rempart.people import actor_of, bootstrap_user
from tests.factories import image_bytes

REVIEW_SEEDS = (101, 102)
BLOCK_SEEDS = (201,)


@pytest.fixture
def people(runtime) -> dict[str, Actor]:
    """Actors by name: mod, cs, cs2, cs3, lead, lead2, admin."""
    roles = {"mod": Role.MODERATOR, "cs": Role.CHILD_SAFETY_MODERATOR,
             "cs2": Role.CHILD_SAFETY_MODERATOR, "cs3": Role.CHILD_SAFETY_MODERATOR,
             "lead": Role.LEAD, "lead2": Role.LEAD, "admin": Role.ADMIN}
    out = {}
    with runtime.db.session() as s:
        for name, role in roles.items():
            out[name] = actor_of(bootstrap_user(s, f"{name}-user", role).user)
    return out


@pytest.fixture
def cfg(runtime):
    return runtime.moderation


@pytest.fixture
def banked(runtime):
    """A review list and a block list, each holding benign stand-in pictures."""
    with runtime.db.session() as s:
        banks.create_bank(s, "review-list", action="review")
        banks.create_bank(s, "block-list", action="block")
    for seed in REVIEW_SEEDS:
        runtime.bank_media("review-list", runtime.fingerprint(image_bytes(seed)))
    for seed in BLOCK_SEEDS:
        runtime.bank_media("block-list", runtime.fingerprint(image_bytes(seed)))
    return runtime

