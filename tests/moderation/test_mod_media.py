"""Flagged media reach the console only blurred and greyscale, until an explicit reveal."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from rempart.errors import PermissionDenied
from rempart.moderation import NotClaimed, claim, reveal, set_prefs
from rempart.moderation.media import DirectoryMediaStore, review_media
from rempart.moderation.models import Case
from tests.moderation.mod_helpers import upload


def _decoded(data):
    return Image.open(io.BytesIO(data))


@pytest.fixture
def flagged(banked):
    upload(banked, 101, "acct-a")
    upload(banked, 999, "acct-z")  # allowed: not kept
    with banked.db.session() as s:
        case = s.scalar(select(Case))
        return case.id, case.items[0].item_id


def test_only_flagged_uploads_are_kept(banked, flagged):
    files = [p for p in (banked.settings.home / "evidence").rglob("*") if p.is_file()]
    assert len(files) == 1


def test_blurred_greyscale_until_revealed(banked, people, cfg, flagged):
    case_id, item_id = flagged
    with banked.db.session() as s:
        with pytest.raises(NotClaimed):
            review_media(s, people["cs"], case_id, item_id, banked.evidence, cfg)
        claim(s, people["cs"], case_id, cfg)
        hidden = review_media(s, people["cs"], case_id, item_id, banked.evidence, cfg)
        assert hidden.content_type == "image/jpeg" and _decoded(hidden.data).mode == "L"
        assert not hidden.display.revealed and hidden.display.blur > 0
        thumb = review_media(s, people["cs"], case_id, item_id, banked.evidence, cfg,
                             thumbnail=True)
        assert max(_decoded(thumb.data).size) <= 256
        reveal(s, people["cs"], case_id, item_id, cfg)
        shown = review_media(s, people["cs"], case_id, item_id, banked.evidence, cfg)
        assert _decoded(shown.data).mode == "RGB" and shown.display.revealed
        assert shown.data != hidden.data
        set_prefs(s, people["cs"], thumbnails=False)
        assert review_media(s, people["cs"], case_id, item_id, banked.evidence, cfg,
                            thumbnail=True).data is None


def test_nobody_else_gets_media(banked, people, cfg, flagged):
    case_id, item_id = flagged
    with banked.db.session() as s:
        claim(s, people["lead"], case_id, cfg)
        for who in ("lead", "mod", "admin"):
            with pytest.raises(PermissionDenied):
                review_media(s, people[who], case_id, item_id, banked.evidence, cfg)


def test_the_store_refuses_bad_keys_and_tampered_files(tmp_path):
    import hashlib

    store = DirectoryMediaStore(tmp_path)
    data = b"benign bytes"
    sha = hashlib.sha256(data).hexdigest()
    store.put(sha, data)
    assert store.get(sha) == data
    (tmp_path / sha[:2] / sha).write_bytes(b"changed")
    assert store.get(sha) is None
    from rempart.errors import InvalidInput
    with pytest.raises(InvalidInput):
        store.get("../../etc/passwd")
    assert store.delete(sha) and not store.delete(sha)
