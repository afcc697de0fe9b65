"""The shape of every API response, declared once: what ``/openapi.json`` publishes and what the
routes are held to.

Field names are a contract with platforms' code (some are in the README): never rename one.
Every model forbids undeclared fields, so a route that returns a key its model does not declare
fails (a 500 and a failing test) instead of publishing an undocumented shape. Fields a response
carries only sometimes have a default and are left out when absent (the routes serialise with
``exclude_unset``). Timestamps are ISO 8601 strings in UTC without an offset, as stored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

Verdict = Literal["block", "review", "allow"]
BankAction = Literal["block", "review"]
Timestamp = str  # naive UTC, ISO 8601 (e.g. 2024-05-01T12:00:00.123456)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors ---------------------------------------------------------------------------------


class RequestError(Out):
    loc: list[str | int]
    msg: str


class Problem(Out):
    """Every error: a stable ``type``, a readable ``title``, the HTTP ``status`` and the id of the
    request (quoted in the server's logs). ``errors``: the line-numbered errors of a hash list
    (``[line, message]``), the fields of a law-enforcement order (``[field, message]``) or the
    malformed fields of a request; ``limit``: the safety limit hit."""

    type: str
    title: str
    status: int
    request_id: str
    errors: list[tuple[int, str]] | list[tuple[str, str]] | list[RequestError] | SkipJsonSchema[None] = None
    limit: str | SkipJsonSchema[None] = None
    field: str | SkipJsonSchema[None] = Field(None, description="the offending field of a notice "
                                               "(``notices[1].hashes[0].value``)")


_DESCRIPTIONS = {
    400: "Malformed input", 401: "Missing, unknown or revoked token",
    403: "The token lacks the permission", 404: "No such bank, entry, token or decision",
    409: "The state forbids it (exists already, window closed...)",
    413: "Over a size or safety limit (``limit`` says which), or a body over the route's limit",
    415: "Not a supported media type",
    429: "Too many requests from this source (``Retry-After``); nothing was accepted",
    422: "A request, media file or hash list that does not parse", 500: "Internal error",
    503: "Busy decoding other uploads: retry after ``Retry-After`` seconds",
}


def problems(*codes: int) -> dict[int | str, dict]:
    """``responses=`` for these error statuses, each a ``Problem``."""
    return {code: {"model": Problem, "description": _DESCRIPTIONS[code]} for code in codes}


#: what any route behind a token can answer
AUTHENTICATED = problems(401, 403, 422, 500)


# --- health -----------------------------------------------------------------------------------


class Health(Out):
    status: Literal["ok"]


class Ready(Out):
    status: Literal["ready"]
    entries: int = Field(description="Active bank entries in this node's matcher")
    bank_seq: int = Field(description="The last bank change this node has applied")


class NotReady(Out):
    status: Literal["unavailable"]
    database: Literal["unreachable"] | None = Field(None, description="Present when it is")
    kernels: Literal["warming"] | None = Field(
        None, description="Present while the scan path's kernels compile, at start-up")


# --- scanning -----------------------------------------------------------------------------------


class MatchTransform(Out):
    scale: float
    rotation: float = Field(description="degrees, counter-clockwise")
    shift: list[float] = Field(description="translation, as shares of the query's width, height")


class MatchProvenance(Out):
    """Where a matched entry came from: the exchange that shared it and its upstream records."""

    exchange: str = Field(description="the source's name (`rempart exchange list`)")
    kind: Literal["ncmec", "threatexchange", "stopncii", "rempart"]
    upstream_ids: list[str] = Field(description="the upstream records vouching for the entry")
    labels: list[str] = Field(description="their labels (classification, tags, member...)")


class ScanMatch(Out):
    """One counted match. Never carries the banked hash itself."""

    bank: str
    entry: int
    signal: str = Field(description="which stage matched: sha256, md5, sha1, pdq, pdq-peeled "
                                    "(stage 1: a normalised query or the banked peeled hash), "
                                    "vpdq, or orb (stage 2: local features)")
    distance: int
    variant: str = Field(description="the query variant that matched (original, rot90, trim, "
                                     "peel, box, straight...)")
    action: BankAction
    low_quality: bool = Field(False, description="present (true) when the query hash had quality < 50")
    detail: str = Field("", description="present when there is more to say (e.g. video coverage)")
    inliers: int | SkipJsonSchema[None] = Field(
        None, description="orb: correspondences that agree with the fitted transform")
    transform: MatchTransform | SkipJsonSchema[None] = Field(
        None, description="orb: the similarity from the banked picture to the query")
    area_covered: float | SkipJsonSchema[None] = Field(
        None, description="orb: share of the banked picture visible in the query")
    region: list[float] | SkipJsonSchema[None] = Field(
        None, description="orb: left, top, right, bottom of the matched picture in the query, "
                          "as shares of its width and height")
    exchange: MatchProvenance | SkipJsonSchema[None] = Field(
        None, description="present when the entry came from a hash-sharing exchange")


class ScanMedia(Out):
    kind: Literal["image", "video"]
    format: str
    width: int
    height: int
    sha256: str


class ScanResult(Out):
    item: int = Field(description="the scan's id in the ledger")
    verdict: Verdict
    matches: list[ScanMatch]
    media: ScanMedia | SkipJsonSchema[None] = Field(
        None, description="present when media was scanned (not for precomputed signals)")


class ScanAccepted(Out):
    """``POST /v1/scan?mode=async``: the scan is queued; its verdict comes by webhook
    (``rempart.scan.completed`` / ``rempart.scan.failed``) and at ``GET /v1/scans/{scan_id}``."""

    scan_id: str = Field(description="32 hex characters")


class ScanProblem(Out):
    type: str
    title: str
    status: int
    limit: str | SkipJsonSchema[None] = None


class ScanStatus(Out):
    scan_id: str
    status: Literal["queued", "done", "failed"]
    mode: Literal["sync", "async"]
    result: ScanResult | SkipJsonSchema[None] = Field(
        None, description="when done: the answer a synchronous scan gives")
    problem: ScanProblem | SkipJsonSchema[None] = Field(
        None, description="when failed: why the media could not be scanned")


# --- banks ------------------------------------------------------------------------------------


class Bank(Out):
    name: str
    source: str
    legal_basis: str
    threshold: int
    action: BankAction
    safelist: bool
    enabled: bool
    created_at: Timestamp
    feature_action: BankAction = Field(
        description="what a match by local features alone (signal orb) does: review unless "
                    "the bank says block")


class BankListed(Bank):
    active_entries: int


class Entry(Out):
    id: int
    type: str
    value: str
    external_id: str | None
    metadata: dict[str, str]
    added_at: Timestamp
    added_by: str
    disabled: bool
    disabled_until: Timestamp | None
    disabled_reason: str
    removed: bool
    frames: int = Field(description="banked video frames (0 for single hashes)")


class EntriesPage(Out):
    bank: str
    offset: int
    entries: list[Entry]


class RetroMatch(Out):
    """A past upload that a newly banked (or re-enabled) entry matches."""

    item_id: int
    account: str | None
    space: str | None
    message: str | None
    scanned_at: Timestamp
    bank: str
    entry_id: int
    signal: str
    distance: int
    variant: str


class EntryEnabled(Entry):
    retro_matches: list[RetroMatch]


class Banking(Out):
    added: int
    already_present: int
    notes: list[str]
    entries: list[int] = Field(description="ids of the entries added")
    retro_matches: list[RetroMatch]
    retro_job: int | None = Field(None, description="a big import's retro-scan runs in the "
                                  "background: GET /v1/retro-scans/{id} follows it")


class RetroScanJob(Out):
    """A background retro-scan of a big import, and how far it went."""

    id: int
    bank: str
    state: str = Field(description="pending, running, done or failed")
    entries: int = Field(description="entries looked for")
    examined: int = Field(description="ledger signals examined so far")
    total: int = Field(description="ledger signals to examine")
    matches: int = Field(description="past items found (when done)")
    error: str | None
    created_at: str
    finished_at: str | None


class MatchListed(Out):
    item: int
    account: str | None
    space: str | None
    message: str | None
    bank: str
    entry: int
    signal: str
    distance: int
    variant: str
    status: str
    found_by: Literal["upload", "retro"]
    found_at: Timestamp


class MatchesPage(Out):
    matches: list[MatchListed]


#: the export download: the hash list file itself, in the requested format
EXPORT_CONTENT = {"content": {media: {"schema": {"type": "string"}}
                              for media in ("text/plain", "text/csv", "application/xml")},
                  "description": "The hash list (te: text/plain, csv: text/csv, ncmec: application/xml)"}


# --- tokens and appeals -------------------------------------------------------------------------


class Token(Out):
    id: int
    name: str
    scopes: list[str]
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked: bool


class NewToken(Token):
    token: str = Field(description="the secret, shown this once")


class Appeal(Out):
    appeal: int
    decision: int
    status: str
    filed_at: Timestamp
    window_closes_at: Timestamp


# --- notices (hotline) --------------------------------------------------------------------------


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str | None = Field(None, max_length=200)
    space: str | None = Field(None, max_length=200)
    message: str | None = Field(None, max_length=200)
    link: str | None = Field(None, max_length=1000, description="a message link in the platform's "
                             "format, instead of the ids")


class HashIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["pdq", "md5", "sha256"]
    value: str = Field(description="hex: 64 digits (pdq, sha256) or 32 (md5)")


class NoticeIn(BaseModel):
    """One notice (DSA Art. 16): locations or hashes or both; ``category`` a policy key."""

    model_config = ConfigDict(extra="forbid")
    reference: str | None = Field(None, max_length=200)
    category: str
    explanation: str = Field(max_length=5000)
    good_faith: bool
    locations: list[LocationIn] = []
    hashes: list[HashIn] = []
    contact: str | None = Field(None, max_length=300)
    classification: Literal["baseline", "nationally_illegal", "not_illegal"] | None = None


class NoticesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notices: list[NoticeIn]


class NoticeReceipt(Out):
    """What was received and the proof that it is in the transparency log: a C2SP tlog-proof
    whose entry is the notice's leaf, and the private opening of its commitment to ``digest``
    (``rempart verify receipt`` checks both)."""

    model_config = ConfigDict(extra="forbid")
    received_at: Timestamp
    digest: str = Field(description="SHA-256 of the notice's canonical JSON as received")
    format: str
    log: dict[str, str]
    tlog_proof: str
    private_opening: dict[str, str | int]


class NoticeAccepted(Out):
    id: int
    status: str
    receipt: NoticeReceipt


class NoticesAccepted(Out):
    notices: list[NoticeAccepted]


class NoticeStatus(Out):
    id: int
    reference: str | None
    category: str
    status: Literal["received", "in_review", "actioned", "no_action", "forwarded"]
    received_at: Timestamp
    decided_at: Timestamp | None
    removed_at: Timestamp | None = Field(description="when the content was removed (actioned)")
    banked: bool
    referred: bool
    digest: str
    log_index: int | None
