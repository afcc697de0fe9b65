"""Reading a notice (pure): the one place that checks what a notice carries (DSA Art. 16).

A NOTICE (``POST /v1/notices``'s ``{"notices": [NOTICE, ...]}``; the form and the on-device
page build the same)::

    {"reference": "their ticket id", "category": "csam", "explanation": "...",
     "good_faith": true, "locations": [{"account": "a1", "space": "s1", "message": "m1"}],
     "hashes": [{"type": "pdq", "value": "<64 hex>"}], "contact": "analyst@example.org",
     "classification": "baseline"}

``category`` is a key of the policy taxonomy; ``locations`` or ``hashes`` or both (a location
names at least an account or a space, or is ``{"link": "<message link>"}`` in the platform's
format, ``links``); ``good_faith`` must be true (the Art. 16(2)(d) statement); ``reference``,
``contact`` and ``classification`` (``vocab.Classification``) are optional. Every error names
the offending field (``notices[1].hashes[0].value``): ``errors.InvalidNotice``.

The digest of a notice is SHA-256 over its canonical JSON (keys sorted, no spaces, UTF-8) after
reading, so the same notice always has the same digest, whatever its key order or spacing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from rempart.errors import InvalidInput
from rempart.hotline.errors import InvalidNotice
from rempart.hotline.links import LinkFormat
from rempart.hotline.vocab import HASH_TYPES, Classification

MAX_BATCH = 100
MAX_LOCATIONS = 50
MAX_HASHES = 50
MAX_EXPLANATION = 5000
MAX_ID = 200  # account, space, message ids and the reference
MAX_CONTACT = 300
MAX_LINK = 1000
NOTICE_KEYS = frozenset({"reference", "category", "explanation", "good_faith", "locations",
                         "hashes", "contact", "classification"})
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class LocationIn:
    account: str | None = None
    space: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class HashIn:
    type: str
    value: str


@dataclass(frozen=True)
class NoticeIn:
    category: str
    explanation: str
    good_faith: bool
    locations: tuple[LocationIn, ...] = ()
    hashes: tuple[HashIn, ...] = ()
    reference: str | None = None
    contact: str | None = None
    classification: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def digest(self) -> str:
        """SHA-256 (hex) of the notice's canonical JSON."""
        body = asdict(self)
        body.pop("extra")
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest()


def read_batch(body: object, categories: frozenset[str], links: LinkFormat, *,
               max_batch: int = MAX_BATCH) -> list[NoticeIn]:
    """``{"notices": [...]}`` read and checked whole: every notice, or ``InvalidNotice``."""
    if not isinstance(body, Mapping) or set(body) != {"notices"}:
        raise InvalidNotice("notices", 'the body is {"notices": [NOTICE, ...]}')
    items = body["notices"]
    if not isinstance(items, list) or not items:
        raise InvalidNotice("notices", "a non-empty list of notices")
    if len(items) > max_batch:
        raise InvalidNotice("notices", f"at most {max_batch} notices per request, not {len(items)}")
    return [read_notice(n, categories, links, where=f"notices[{i}]") for i, n in enumerate(items)]


def read_notice(raw: object, categories: frozenset[str], links: LinkFormat, *,
                where: str = "notice", require_good_faith: bool = True) -> NoticeIn:
    """One NOTICE, checked (see the module docstring)."""
    if not isinstance(raw, Mapping):
        raise InvalidNotice(where, "a notice is a JSON object")
    unknown = sorted(set(raw) - NOTICE_KEYS)
    if unknown:
        raise InvalidNotice(f"{where}.{unknown[0]}", "not a field of a notice")
    category = raw.get("category")
    if not isinstance(category, str) or category not in categories:
        raise InvalidNotice(f"{where}.category",
                            f"one of the policy taxonomy's keys: {', '.join(sorted(categories))}")
    explanation = _text(raw, "explanation", where, MAX_EXPLANATION, required=True)
    good_faith = raw.get("good_faith")
    if good_faith is not True and (require_good_faith or good_faith is not None):
        raise InvalidNotice(f"{where}.good_faith", "the good-faith statement must be true")
    locations = tuple(_location(x, links, f"{where}.locations[{i}]")
                      for i, x in enumerate(_list(raw, "locations", where, MAX_LOCATIONS)))
    hashes = tuple(_hash(x, f"{where}.hashes[{i}]")
                   for i, x in enumerate(_list(raw, "hashes", where, MAX_HASHES)))
    if not locations and not hashes:
        raise InvalidNotice(f"{where}.locations", "a notice names locations, hashes or both")
    if len(set(hashes)) != len(hashes):
        raise InvalidNotice(f"{where}.hashes", "the same hash twice")
    classification = raw.get("classification")
    if classification is not None and classification not in {c.value for c in Classification}:
        raise InvalidNotice(f"{where}.classification",
                            f"one of {', '.join(c.value for c in Classification)}")
    return NoticeIn(category=category, explanation=explanation, good_faith=True,
                    locations=locations, hashes=hashes,
                    reference=_text(raw, "reference", where, MAX_ID),
                    contact=_text(raw, "contact", where, MAX_CONTACT),
                    classification=classification)


def _text(raw: Mapping, key: str, where: str, cap: int, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidNotice(f"{where}.{key}", "a non-empty string" if required else "a string")
    if len(value) > cap:
        raise InvalidNotice(f"{where}.{key}", f"at most {cap} characters, not {len(value)}")
    return value.strip() or None


def _list(raw: Mapping, key: str, where: str, cap: int) -> list:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidNotice(f"{where}.{key}", "a list")
    if len(value) > cap:
        raise InvalidNotice(f"{where}.{key}", f"at most {cap}, not {len(value)}")
    return value


def _location(raw: object, links: LinkFormat, where: str) -> LocationIn:
    if not isinstance(raw, Mapping):
        raise InvalidNotice(where, "a location is a JSON object")
    unknown = sorted(set(raw) - {"account", "space", "message", "link"})
    if unknown:
        raise InvalidNotice(f"{where}.{unknown[0]}", "not a field of a location")
    values = {k: _text(raw, k, where, MAX_ID) for k in ("account", "space", "message")}
    link = _text(raw, "link", where, MAX_LINK)
    if link is not None:
        if any(values.values()):
            raise InvalidNotice(f"{where}.link", "a link or ids, not both")
        try:
            values.update(links.parse(link))
        except InvalidInput as exc:
            raise InvalidNotice(f"{where}.link", str(exc)) from None
    if not values["account"] and not values["space"]:
        raise InvalidNotice(where, "a location names an account or a space (or is a link)")
    return LocationIn(**values)


def _hash(raw: object, where: str) -> HashIn:
    if not isinstance(raw, Mapping) or set(raw) != {"type", "value"}:
        raise InvalidNotice(where, 'a hash is {"type", "value"}')
    kind, value = raw["type"], raw["value"]
    if kind not in HASH_TYPES:
        raise InvalidNotice(f"{where}.type", f"one of {', '.join(HASH_TYPES)}")
    if not isinstance(value, str):
        raise InvalidNotice(f"{where}.value", "a string of hex digits")
    value = value.strip().lower()
    if len(value) != HASH_TYPES[kind] or not _HEX.fullmatch(value):
        raise InvalidNotice(f"{where}.value", f"a {kind} hash is {HASH_TYPES[kind]} hex digits")
    return HashIn(kind, value)
