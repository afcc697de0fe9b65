"""Benign media for tests: the demo's synthetic pictures and their edits, as file bytes."""

from __future__ import annotations

from rempart.demo.pictures import edited, jpeg, picture


def image_bytes(seed: int, edit: str = "exact") -> bytes:
    return edited(picture(seed), edit) if edit != "exact" else jpeg(picture(seed))
