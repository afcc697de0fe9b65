"""Investigation: the case view, the blast radius, bulk actions on confirmed entities, holds."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rempart.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rempart.moderation import (
    ActionKind, ActionRequest, Confirmation, DecisionStatus, HoldActive, blast_radius, bulk_act,
    case_view, claim, decide, delete_case_data, release_hold,
)
from rempart.moderation.models import Case, Decision, Hold
from rempart.scanning.models import ItemSignal
from tests.moderation.mod_helpers import upload


@pytest.fixture
def spread(banked):
    """A banked picture shared by three accounts in two spaces (exact and edited copies), and a
    fourth account that is only a member of the same space (an unrelated picture)."""
    src = upload(banked, 101, "acct-a", space="group-1").item_id
    upload(banked, 101, "acct-b", space="group-2", edit="resized")
    upload(banked, 101, "acct-c", space="group-1", edit="greyscale")
    upload(banked, 101, "acct-a", space="group-2", edit="recompressed")
    upload(banked, 999, "acct-d", space="group-1")
    with banked.db.session() as s:
        case_id = s.scalar(select(Case.id).where(Case.account == "acct-a"))
    return src, case_id


def _confirm(rt, people, cfg, case_id, kinds=(ActionKind.REMOVE_ITEM,)):
    with rt.db.session() as s:
        claim(s, people["cs"], case_id, cfg)
        decide(s, people["cs"], case_id, actions=[ActionRequest(k) for k in kinds],
               policy="csam", facts="Confirmed against the list.", config=cfg)


def test_blast_radius_follows_fingerprints_not_membership(banked, people, cfg, spread):
    src, _ = spread
    with banked.db.session() as s:
        radius = blast_radius(s, people["cs"], src)
    assert [a.name for a in radius.accounts][0] == "acct-a"
    assert {a.name for a in radius.accounts} == {"acct-a", "acct-b", "acct-c"}
    assert {sp.name for sp in radius.spaces} == {"group-1", "group-2"}
    a = radius.entity("account", "acct-a")
    assert a.items == 2 and a.min_distance == 0 and a.first_seen <= a.last_seen
    assert radius.entity("account", "acct-b").min_distance > 0  # an edited copy
    assert radius.entity("account", "acct-d") is None
    assert not radius.confirmed
    g = radius.graph()
    ids = {n["id"] for n in g["nodes"]}
    assert {"item:%d" % src, "account:acct-b", "space:group-2"} <= ids and "account:acct-d" not in ids
    assert {"source": "account:acct-b", "target": "space:group-2", "kind": "shared_in",
            "items": 1} in g["edges"]
    with banked.db.session() as s:
        narrow = blast_radius(s, people["cs"], src, threshold=0)
        assert all(e.min_distance == 0 for e in narrow.accounts)


def test_investigation_is_for_child_safety_roles(banked, people, spread):
    src, case_id = spread
    with banked.db.session() as s:
        for who in ("mod", "admin"):
            with pytest.raises(PermissionDenied):
                blast_radius(s, people[who], src)
        with pytest.raises(NotFound):
            blast_radius(s, people["cs"], 999_999)
        view = case_view(s, people["lead"], case_id)
        assert view.queue == "hash-review" and len(view.items) == 2
        assert view.items[0].fingerprints and view.items[0].matches[0].bank == "review-list"
        assert view.space_flagged and all(i.account != "acct-d" for i in view.space_flagged)
        with pytest.raises(PermissionDenied):
            case_view(s, people["mod"], case_id)


def test_case_view_shows_prior_decisions_of_the_account(banked, people, cfg, spread):
    src, case_id = spread
    _confirm(banked, people, cfg, case_id)
    upload(banked, 102, "acct-a", space="group-3")
    with banked.db.session() as s:
        new_case = s.scalar(select(Case.id).where(Case.account == "acct-a", Case.id != case_id))
        view = case_view(s, people["cs"], new_case)
        assert [d.case_id for d in view.prior_decisions] == [case_id]
        assert len(view.account_items) == 2
        assert all(not i.fingerprints for i in view.account_items)


def test_bulk_actions_only_on_confirmed_entities_of_the_radius(banked, people, cfg, spread):
    src, case_id = spread
    confirm_b = Confirmation("account", "acct-b", "csam",
                             (ActionRequest(ActionKind.REMOVE_ITEM),), "Shared a confirmed item.")
    with banked.db.session() as s, pytest.raises(Conflict):
        bulk_act(s, people["cs"], src, [confirm_b], cfg)  # the item is not confirmed yet
    _confirm(banked, people, cfg, case_id)
    member_only = Confirmation("account", "acct-d", "csam",
                               (ActionRequest(ActionKind.BAN_ACCOUNT),), "Member of group-1.")
    with banked.db.session() as s, pytest.raises(InvalidInput, match="membership"):
        bulk_act(s, people["cs"], src, [confirm_b, member_only], cfg)
    with banked.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)
                        .where(Case.source == "investigation")) == 0  # all or nothing
    space = Confirmation("space", "group-2", "csam", (ActionRequest(ActionKind.BAN_SPACE),),
                         "The group shared the item twice.")
    with banked.db.session() as s:
        decisions = bulk_act(s, people["cs"], src, [confirm_b, space], cfg)
        assert [d.status for d in decisions] == [DecisionStatus.FINAL.value,
                                                 DecisionStatus.PENDING_SECOND.value]
    with banked.db.session() as s:
        inv = list(s.scalars(select(Case).where(Case.source == "investigation").order_by(Case.id)))
        assert [(c.account, c.space) for c in inv] == [("acct-b", None), (None, "group-2")]
        assert len(inv[0].items) == 1
        with pytest.raises(PermissionDenied):
            bulk_act(s, people["mod"], src, [confirm_b], cfg)


def test_a_hold_blocks_deletion_until_released(banked, people, cfg, spread):
    src, case_id = spread
    _confirm(banked, people, cfg, case_id, kinds=(ActionKind.REMOVE_ITEM,
                                                  ActionKind.PRESERVATION_HOLD))
    with banked.db.session() as s:
        assert s.scalar(select(Decision)).status == DecisionStatus.FINAL.value
    with banked.db.session() as s, pytest.raises(HoldActive):
        delete_case_data(s, people["admin"], case_id)
    with banked.db.session() as s:
        hold_id = s.scalar(select(Hold.id))
        with pytest.raises(PermissionDenied):
            release_hold(s, people["cs"], hold_id, "done")
        release_hold(s, people["lead"], hold_id, "request closed")
    with banked.db.session() as s:
        with pytest.raises(PermissionDenied):
            delete_case_data(s, people["lead"], case_id)
        sha = s.scalar(select(ItemSignal.value).where(ItemSignal.item_id == src,
                                                      ItemSignal.signal_type == "sha256"))
        assert banked.evidence.get(sha) is not None
        assert delete_case_data(s, people["admin"], case_id, banked.evidence) > 0
        assert s.scalar(select(func.count()).select_from(ItemSignal)
                        .where(ItemSignal.item_id == src)) == 0
        assert banked.evidence.get(sha) is None
