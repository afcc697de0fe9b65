"""Detect the media type from the leading bytes ("magic"), never from a file name.

    format  kind   signature
    ------  -----  ---------------------------------------------------------------------------
    jpeg    image  FF D8 FF
    png     image  89 50 4E 47 0D 0A 1A 0A
    gif     image  "GIF87a" | "GIF89a"
    webp    image  "RIFF" <4-byte size> "WEBP"
    bmp     image  "BM" <4-byte file size> <4 reserved bytes> (reserved bytes zero)
    tiff    image  "II" 2A 00 | "MM" 00 2A
    mp4     video  <4-byte size> "ftyp" <major brand other than "qt  ">
    mov     video  <4-byte size> "ftyp" "qt  ", or a classic QuickTime file starting with a
                   "moov" / "mdat" / "wide" / "free" / "skip" atom
    webm    video  1A 45 DF A3 (EBML) with DocType "webm" in the header

Matroska files whose DocType is not "webm" are unsupported (rempart accepts WebM only).
"""

from __future__ import annotations

from dataclasses import dataclass

from rempart.errors import UnsupportedMedia

#: how many leading bytes ``sniff`` needs at most
SNIFF_BYTES = 64

IMAGE_FORMATS = ("jpeg", "png", "gif", "webp", "bmp", "tiff")
VIDEO_FORMATS = ("mp4", "mov", "webm")

_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip")


@dataclass(frozen=True)
class MediaType:
    kind: str  # "image" | "video"
    format: str  # one of IMAGE_FORMATS or VIDEO_FORMATS


def sniff(head: bytes) -> MediaType:
    """Return the media type that ``head`` (the file's first bytes) starts with.

    Raises ``UnsupportedMedia`` for empty input and for anything not in the table above.
    """
    if not head:
        raise UnsupportedMedia("empty file")
    fmt = _image_format(head)
    if fmt:
        return MediaType("image", fmt)
    fmt = _video_format(head)
    if fmt:
        return MediaType("video", fmt)
    raise UnsupportedMedia(f"unrecognised media type (first bytes {head[:8].hex()})")


def _image_format(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) >= 14 and head[6:10] == b"\0\0\0\0":
        return "bmp"
    if head[:4] in (b"II*\0", b"MM\0*"):
        return "tiff"
    return None


def _video_format(head: bytes) -> str | None:
    box = head[4:8]
    if box == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if box in _QUICKTIME_ATOMS:
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        if b"webm" in head[:SNIFF_BYTES]:
            return "webm"
        raise UnsupportedMedia("Matroska file that is not WebM")
    return None
