"""Helpers shared by the moderation tests."""

from __future__ import annotations

import dataclasses

from rempart.scanning.service import ScanContext
from tests.factories import image_bytes


def set_config(runtime, **changes):
    runtime.moderation = dataclasses.replace(runtime.moderation, **changes)
    return runtime.moderation


def upload(runtime, seed: int, account: str, space: str = "group-1", edit: str = "exact"):
    return runtime.scan_media(image_bytes(seed, edit), ScanContext(account=account, space=space))
