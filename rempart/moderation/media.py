"""Flagged media for review: where it is kept, and how it is shown (blurred until revealed).

``MediaStore`` keeps the bytes of flagged uploads (evidence), addressed by SHA-256; the runtime
stores every upload whose verdict is not ``allow``. ``review_media`` is the only way the console
gets media: it needs ``MEDIA_REVEAL`` (child-safety moderators) and a live claim, and renders
images server-side, so no unblurred pixel reaches a browser before an explicit reveal: blurred
(the reviewer's blur radius) and greyscale by default, the original after a reveal. Videos are
never sent before a reveal (the page shows a placeholder, or the frame strip once revealed) and
carry ``autoplay False, muted True``.

The one module of the moderation domain that imports Pillow; its errors become ``CorruptMedia``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageFilter
from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require
from rempart.errors import CorruptMedia, InvalidInput, NotFound
from rempart.moderation.cases import load_case
from rempart.moderation.claims import require_claim
from rempart.moderation.config import ModerationConfig
from rempart.moderation.models import CaseItem
from rempart.moderation.wellness import DisplaySettings, display_settings
from rempart.scanning.models import ItemSignal, ScannedItem
from rempart.signals import DEFAULT_LIMITS, Limits, MemoryBudget
from rempart.signals.budget import UNLIMITED
from rempart.signals.decode import decode_frames
from rempart.signals.limits import Deadline
from rempart.signals.sniff import sniff
from rempart.store.db import utcnow

SHA256 = re.compile(r"^[0-9a-f]{64}$")
THUMBNAIL = 256
VIDEO_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime",
               "mkv": "video/x-matroska"}


class MediaStore(Protocol):
    def put(self, sha256: str, data: bytes) -> None: ...
    def get(self, sha256: str) -> bytes | None: ...
    def delete(self, sha256: str) -> bool: ...


class DirectoryMediaStore:
    """Files under ``root/<2 hex>/<sha256>``, written atomically; contents are checked on read."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if not SHA256.match(sha256 or ""):
            raise InvalidInput("a media key is a lowercase SHA-256")
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def file(self, sha256: str) -> Path | None:
        """The file holding ``sha256``'s media, unchecked (to stream it into a package, whose
        manifest then records the hash of what was actually read), or None."""
        path = self._path(sha256)
        return path if path.is_file() else None

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        if not path.exists():
            return None
        data = path.read_bytes()
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def delete(self, sha256: str) -> bool:
        path = self._path(sha256)
        if path.exists():
            path.unlink()
            return True
        return False


@dataclass(frozen=True)
class ReviewMedia:
    item_id: int
    kind: str | None
    display: DisplaySettings
    content_type: str | None = None
    data: bytes | None = None  # None: nothing to show (not stored, or a video not revealed)


def render_image(data: bytes, *, blur: int, greyscale: bool, max_side: int | None,
                 limits: Limits = DEFAULT_LIMITS, budget: MemoryBudget = UNLIMITED) -> bytes:
    """The first frame as JPEG, decoded within ``limits`` and ``budget``, resized, greyscale
    and blurred."""
    media = sniff(data[:64])
    if media.kind != "image":
        raise InvalidInput("not an image")
    frames = decode_frames(data, media.format, limits, Deadline(limits.decode_seconds),
                           budget=budget)
    with closing(frames):
        frame = next(frames)
    try:
        im = Image.fromarray(frame.rgb)
        if max_side:
            im.thumbnail((max_side, max_side))
        if greyscale:
            im = im.convert("L")
        if blur:
            im = im.filter(ImageFilter.GaussianBlur(blur))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85)
        return out.getvalue()
    except (OSError, ValueError) as exc:
        raise CorruptMedia(f"cannot render the item: {exc}") from None


def review_media(session: Session, actor: Actor, case_id: int, item_id: int, store: MediaStore,
                 config: ModerationConfig, *, thumbnail: bool = False,
                 limits: Limits = DEFAULT_LIMITS, budget: MemoryBudget = UNLIMITED) -> ReviewMedia:
    """An item of a claimed case, as this reviewer may see it now. Needs ``MEDIA_REVEAL``."""
    require(actor, P.MEDIA_REVEAL)
    case = load_case(session, actor, case_id)
    require_claim(session, actor, case, utcnow())
    if not session.scalar(select(CaseItem.id).where(CaseItem.case_id == case_id,
                                                    CaseItem.item_id == item_id)):
        raise NotFound("item of the case", item_id)
    item = session.get(ScannedItem, item_id)
    shown = display_settings(session, actor, case_id, item_id)
    record(session, actor, AuditEvent.MEDIA_VIEWED, case_id=case_id, subject=f"item:{item_id}",
           detail={"revealed": shown.revealed, "thumbnail": thumbnail})
    if thumbnail and not shown.thumbnails:
        return ReviewMedia(item_id, item.kind, shown)
    sha = session.scalar(select(ItemSignal.value).where(ItemSignal.item_id == item_id,
                                                        ItemSignal.signal_type == "sha256"))
    data = store.get(sha) if sha else None
    if data is None:
        return ReviewMedia(item_id, item.kind, shown)
    if item.kind == "video":
        if not shown.revealed:
            return ReviewMedia(item_id, item.kind, shown)
        return ReviewMedia(item_id, item.kind, shown, VIDEO_TYPES.get(item.media_format or "",
                                                                      "application/octet-stream"), data)
    rendered = render_image(data, blur=shown.blur, greyscale=shown.greyscale,
                            max_side=THUMBNAIL if thumbnail else None, limits=limits,
                            budget=budget)
    return ReviewMedia(item_id, item.kind, shown, "image/jpeg", rendered)
