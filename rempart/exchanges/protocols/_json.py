"""Reading a JSON page (pure): the whole document or ``BadPage``."""

from __future__ import annotations

import json

from rempart.exchanges.errors import BadPage
from rempart.exchanges.protocols import check_size


def load_object(body: bytes) -> dict:
    check_size(body)
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadPage(f"not a complete JSON document ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise BadPage("the page is not a JSON object")
    return doc


def records_of(doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise BadPage(f"{key} is not a list")
    return value
