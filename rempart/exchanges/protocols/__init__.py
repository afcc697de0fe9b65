"""The exchanges' wire protocols (pure): what to ask for next, and what an answer means.

A protocol turns a checkpoint (its own small JSON object, stored in ``exchange_checkpoints``)
into the ``Request`` for the next page, and the answer's bytes into a ``Page``: the upstream
records, the records it had to refuse (with their reason), the checkpoint after this page and
whether the sync is caught up. Parsing never talks to the network or the database; the transport
(``rempart.exchanges.transport``) fetches, retries and authenticates, the service applies.

An answer that cannot be read as a whole page (truncated, not the expected document, a bad
signature) raises ``BadPage``: the transport fetches it again. One bad record in a good page is
refused alone (``Rejected``), the rest of the page applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from rempart.exchanges.errors import BadPage

#: caps on what one page may hold, whatever the upstream says
MAX_PAGE_BYTES = 64 << 20
MAX_RECORDS = 100_000
MAX_ID = 200
MAX_LABELS = 32
MAX_LABEL = 200


@dataclass(frozen=True)
class Upstream:
    """One upstream record: ``op`` add / update (its hashes and labels replace what the record
    had) or delete (withdrawn upstream: its entries are disabled here)."""

    upstream_id: str
    op: str
    hashes: tuple[tuple[str, str], ...] = ()
    labels: tuple[str, ...] = ()
    #: what feedback needs to name the record upstream (NCMEC media type, TE descriptor ids)
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    upstream_id: str
    reason: str


@dataclass(frozen=True)
class Request:
    method: str
    #: a path under the exchange's base URL (always starting with "/")
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Page:
    records: tuple[Upstream, ...]
    rejected: tuple[Rejected, ...]
    checkpoint: dict
    done: bool


class Wire(Protocol):
    """One exchange protocol (see the module doc)."""

    kind: str

    def request(self, checkpoint: Mapping, now: int) -> tuple[Request, dict]:
        """The next page's request, and the window it asks for (handed back to ``parse``)."""

    def parse(self, body: bytes, headers: Mapping[str, str], window: Mapping) -> Page: ...

    def feedback(self, upstream_id: str, extra: Mapping, opinion: str, signal_type: str,
                 reason: str | None = None) -> Request | None:
        """The request that tells the exchange a reviewer's opinion on the record's hash of
        ``signal_type`` (None: not supported); ``reason``: NCMEC's negative feedback reason."""


def clean_id(value: object) -> str:
    """An upstream id as text: 1 to ``MAX_ID`` printable characters, else ``BadRecord``."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text or len(text) > MAX_ID or not text.isprintable():
        raise BadRecord("missing or invalid id")
    return text


def clean_labels(values) -> tuple[str, ...]:
    out = []
    for v in values:
        text = str(v).strip()
        if text and text.isprintable():
            out.append(text[:MAX_LABEL])
    return tuple(sorted(set(out)))[:MAX_LABELS]


class BadRecord(Exception):
    """One record a parser refuses (it becomes a ``Rejected``)."""


def check_size(body: bytes) -> None:
    if len(body) > MAX_PAGE_BYTES:
        raise BadPage(f"page of {len(body)} bytes is over {MAX_PAGE_BYTES}")


def as_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadPage(f"{what} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise BadPage(f"{what} is not an integer") from None
