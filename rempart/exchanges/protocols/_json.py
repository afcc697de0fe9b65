"""Reading a JSON page (pure): the whole document or ``BadPage``."""

from __future__ import annotations

import json
from typing import Callable

from rempart.exchanges.errors import BadPage
from rempart.exchanges.protocols import MAX_RECORDS, BadRecord, Rejected, check_size


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


def split_records(doc: dict, key: str, parse: Callable, label: Callable[[object], str]) -> tuple[list, list]:
    """The page's records under ``key`` parsed one by one: (records, rejected), a malformed
    record rejected with ``label(raw)`` and its reason, never half-kept."""
    data = records_of(doc, key)
    if len(data) > MAX_RECORDS:
        raise BadPage(f"more than {MAX_RECORDS} records in one page")
    records, rejected = [], []
    for raw in data:
        try:
            records.append(parse(raw))
        except BadRecord as exc:
            rejected.append(Rejected(label(raw), str(exc)))
    return records, rejected


def record_label(raw: object, name: str, *, keep_falsy: bool = False) -> str:
    """A rejected record's ``name`` field, cut to 200 characters ("" when absent; falsy values
    too unless ``keep_falsy``)."""
    value = raw.get(name) if isinstance(raw, dict) else None
    shown = value is not None if keep_falsy else bool(value)
    return str(value)[:200] if shown else ""
