"""``ExactIndex``: equality lookup of cryptographic hashes (sha256, md5, sha1) to ids.

Pure (standard library). Values are validated and normalised by the signal type
(``rempart.signals.types``) and stored as raw bytes; several ids may share one value
(the same file in two banks), and each id has at most one value (adding an id that is
present replaces its value), mirroring ``PDQIndex``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from rempart.errors import InvalidInput, shown
from rempart.signals.types import EXACT_TYPES, signal_type


class ExactIndex:
    """Map hex digests of one exact signal type to the ids that carry them."""

    def __init__(self, signal_type_name: str = "sha256") -> None:
        t = signal_type(signal_type_name)
        if t.name not in EXACT_TYPES:
            raise InvalidInput(f"{t.name} is not an exact signal type ({', '.join(EXACT_TYPES)})")
        self.signal_type = t
        self._ids_by_value: dict[bytes, set[int]] = {}
        self._value_by_id: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def _key(self, value: str, i: int) -> bytes:
        try:
            return bytes.fromhex(self.signal_type.validate(value))
        except InvalidInput as e:
            raise type(e)(f"value #{i}: {e}") from None

    def add(self, ids: Iterable[int], values: Iterable[str]) -> None:
        """Insert or replace (id -> value) pairs; all are checked before any is stored."""
        ids, values = list(ids), list(values)
        if len(ids) != len(values):
            raise InvalidInput(f"got {len(ids)} ids for {len(values)} values")
        for id_ in ids:
            _check_id(id_)
        keys = [self._key(v, i) for i, v in enumerate(values)]
        with self._lock:
            for id_, key in zip(map(int, ids), keys):
                self._discard(id_)
                self._value_by_id[id_] = key
                self._ids_by_value.setdefault(key, set()).add(id_)

    def remove(self, ids: Iterable[int]) -> int:
        """Remove these ids (absent ones are ignored); return how many were removed."""
        ids = [int(_check_id(i)) for i in ids]
        with self._lock:
            return sum(self._discard(i) for i in ids)

    def query(self, values: Iterable[str]) -> list[list[int]]:
        """For each value, the sorted ids stored under it (empty when none)."""
        keys = [self._key(v, i) for i, v in enumerate(values)]
        with self._lock:
            return [sorted(self._ids_by_value.get(k, ())) for k in keys]

    def value_of(self, id_: int) -> str:
        """The hex value stored for ``id_`` (``KeyError`` when absent)."""
        with self._lock:
            return self._value_by_id[int(id_)].hex()

    def values(self) -> set[str]:
        """Every distinct hex value held."""
        with self._lock:
            return {k.hex() for k in self._ids_by_value}

    def items(self) -> tuple[list[int], list[bytes]]:
        """(ids, raw values) of every row, for a snapshot."""
        with self._lock:
            return list(self._value_by_id), list(self._value_by_id.values())

    def __len__(self) -> int:
        return len(self._value_by_id)

    def __contains__(self, id_: object) -> bool:
        return id_ in self._value_by_id

    def _discard(self, id_: int) -> bool:
        key = self._value_by_id.pop(id_, None)
        if key is None:
            return False
        holders = self._ids_by_value[key]
        holders.discard(id_)
        if not holders:
            del self._ids_by_value[key]
        return True


def _check_id(id_: object) -> object:
    if isinstance(id_, bool) or not hasattr(id_, "__index__"):
        raise InvalidInput(f"ids must be integers, got {shown(id_)}")
    if not -2**63 <= int(id_) < 2**63:
        raise InvalidInput(f"id {id_} does not fit in a signed 64-bit integer")
    return id_
