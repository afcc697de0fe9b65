"""A strict reader of one JSON object that collects every error with its field path.

Used by ``orders.parse_order``: each accessor returns the field's value or None, appending
``(path, message)`` to the shared error list (paths such as ``targets[2].value``); ``done``
reports unknown fields. Nothing raises, so one pass lists every problem of an input.
"""

from __future__ import annotations

import datetime as dt

from rempart.errors import InvalidInput
from rempart.legal._common import parse_time, printable

MAX_NAME = 200


class Reader:
    """Reads one JSON object, collecting every error with its field path."""

    def __init__(self, data: object, path: str, errors: list[tuple[str, str]]) -> None:
        self.path, self.errors = path, errors
        self.data: dict = data if isinstance(data, dict) else {}
        self.ok = isinstance(data, dict)
        if not self.ok:
            self.error("", "want a JSON object")

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> None:
        self.errors.append((self.field(key) if key else (self.path or "(order)"), message))

    def done(self, known: set[str]) -> None:
        for key in sorted(set(self.data) - known):
            self.error(key, "unknown field")

    def value(self, key: str, required: bool) -> object:
        """The raw value of ``key`` (None if absent or null, noted if required)."""
        value = self.data.get(key)
        if value is None and required:
            self.error(key, "required")
        return value

    def text(self, key: str, *, required: bool = True, limit: int = MAX_NAME,
             multiline: bool = False) -> str | None:
        value = self.value(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(key, "want a non-empty string")
            return None
        if len(value) > limit:
            self.error(key, f"longer than {limit} characters")
            return None
        if value != value.strip() or not printable(value.replace("\n", "") if multiline else value):
            self.error(key, "control characters or surrounding spaces")
            return None
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.error(key, "want true or false")
            return default
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(key, f"want an integer from {low} to {high}")
            return None
        return value

    def choice(self, key: str, enum_type, *, required: bool = True):
        value = self.value(key, required)
        if value is None:
            return None
        try:
            return enum_type(value)
        except ValueError:
            self.error(key, f"want one of {', '.join(e.value for e in enum_type)}")
            return None

    def time(self, key: str, *, required: bool = True) -> dt.datetime | None:
        value = self.value(key, required)
        if value is None:
            return None
        try:
            return parse_time(value, self.field(key))
        except InvalidInput as exc:
            self.errors.append((self.field(key), str(exc).split(": ", 1)[1]))
            return None

    def child(self, key: str, *, required: bool = True) -> Reader | None:
        value = self.value(key, required)
        return None if value is None else Reader(value, self.field(key), self.errors)

    def items(self, key: str, limit: int, *, required: bool = True) -> list[Reader]:
        value = self.value(key, required)
        if value is None:
            return []
        if not isinstance(value, list) or (required and not value) or len(value) > limit:
            self.error(key, f"want a list of 1 to {limit} items" if required else f"want a list of at most {limit} items")
            return []
        return [Reader(v, f"{self.field(key)}[{i}]", self.errors) for i, v in enumerate(value)]
