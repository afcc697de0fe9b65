"""Benign synthetic pictures for the demo: procedural landscapes and still lifes.

Every picture is drawn from a seed (the same seed gives the same picture), so the demo needs no
downloaded data. Edits (resize, recompress, greyscale, flip, pad) are the evasions the matcher
must see through.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageOps

SIZE = (480, 360)


def _colour(rng: random.Random, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return tuple(rng.randint(lo, hi) for _ in range(3))  # type: ignore[return-value]


def landscape(seed: int) -> Image.Image:
    """A sky gradient, a sun, layered hills, a few houses and trees."""
    rng = random.Random(seed)
    w, h = SIZE
    img = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(img)
    top, bottom = _colour(rng, 40, 200), _colour(rng, 120, 255)
    for y in range(h):
        f = y / h
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * f) for a, b in zip(top, bottom)))
    sx, sy, r = rng.randint(30, w - 30), rng.randint(20, h // 3), rng.randint(15, 45)
    draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=_colour(rng, 180, 255))
    for layer in range(rng.randint(2, 4)):
        base = h // 2 + layer * rng.randint(15, 40)
        points = [(0, h)]
        for x in range(0, w + 40, 40):
            points.append((x, base + rng.randint(-50, 30)))
        points.append((w, h))
        draw.polygon(points, fill=_colour(rng, 20, 160))
    for _ in range(rng.randint(2, 7)):
        x, y = rng.randint(0, w - 60), rng.randint(h // 2, h - 50)
        bw, bh = rng.randint(20, 60), rng.randint(20, 50)
        draw.rectangle([x, y, x + bw, y + bh], fill=_colour(rng))
        draw.polygon([(x - 5, y), (x + bw // 2, y - bh // 2), (x + bw + 5, y)], fill=_colour(rng))
    for _ in range(rng.randint(3, 12)):
        x, y = rng.randint(0, w), rng.randint(h // 2, h)
        r = rng.randint(6, 22)
        draw.rectangle([x - 2, y, x + 2, y + r * 2], fill=(90, 60, 30))
        draw.ellipse([x - r, y - r * 2, x + r, y + r // 2], fill=_colour(rng, 0, 140))
    return img.filter(ImageFilter.SMOOTH)


def still_life(seed: int) -> Image.Image:
    """A table top with cups, books and fruit drawn as simple shapes."""
    rng = random.Random(seed + 1_000_003)
    w, h = SIZE
    img = Image.new("RGB", SIZE, _colour(rng, 60, 230))
    draw = ImageDraw.Draw(img)
    table = rng.randint(h // 2, 2 * h // 3)
    draw.rectangle([0, table, w, h], fill=_colour(rng, 40, 180))
    for _ in range(rng.randint(4, 10)):
        kind = rng.choice(("cup", "book", "fruit", "stripe"))
        x, y = rng.randint(0, w - 80), rng.randint(table - 120, table)
        c = _colour(rng)
        if kind == "cup":
            draw.rectangle([x, y, x + 40, y + 60], fill=c)
            draw.ellipse([x + 30, y + 15, x + 55, y + 40], outline=c, width=5)
        elif kind == "book":
            draw.rectangle([x, y + 30, x + rng.randint(60, 120), y + 50], fill=c)
        elif kind == "fruit":
            r = rng.randint(12, 30)
            draw.ellipse([x, y + 40 - r, x + 2 * r, y + 40 + r], fill=c)
        else:
            y0 = rng.randint(0, table - 10)
            draw.rectangle([0, y0, w, y0 + rng.randint(4, 30)], fill=c)
    return img.filter(ImageFilter.SMOOTH_MORE)


def _texture(seed: int) -> Image.Image:
    """Soft random light and shade at the scale PDQ sees, so no picture is flat."""
    rng = random.Random(seed + 7_000_001)
    small = Image.new("RGB", (12, 9))
    small.putdata([_colour(rng) for _ in range(12 * 9)])
    return small.resize(SIZE, Image.BICUBIC)


def picture(seed: int) -> Image.Image:
    base = landscape(seed) if seed % 2 == 0 else still_life(seed)
    return Image.blend(base, _texture(seed), 0.35)


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


EDITS = ("resized", "recompressed", "greyscale", "flipped", "padded", "exact")


def edited(img: Image.Image, edit: str) -> bytes:
    """The picture after one of the common evasions, as file bytes."""
    if edit == "resized":
        return jpeg(img.resize((img.width * 2 // 3, img.height * 2 // 3), Image.LANCZOS))
    if edit == "recompressed":
        return jpeg(img, quality=35)
    if edit == "greyscale":
        return png(ImageOps.grayscale(img))
    if edit == "flipped":
        return jpeg(ImageOps.mirror(img))
    if edit == "padded":
        return jpeg(ImageOps.expand(img, border=(0, 60, 0, 60), fill=(0, 0, 0)))
    if edit == "exact":
        return jpeg(img)
    raise ValueError(f"unknown edit {edit!r}")
