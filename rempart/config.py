"""Every setting of a running rempart, read in one place: the environment and an optional TOML file.

Environment (the deployment: where data lives, how to connect, which log this is):

    REMPART_HOME          directory for the embedded default (SQLite file, evidence, log key);
                          default ./.rempart
    REMPART_DATABASE_URL  SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...);
                          default sqlite:///$REMPART_HOME/rempart.db
    REMPART_CONFIG        the TOML file; default $REMPART_HOME/rempart.toml when it exists
    REMPART_LOG_ORIGIN    the transparency log's origin (its key name); default rempart.local/log
    REMPART_LOG_REGION    territorial scope of decisions (EU, GLOBAL or an EEA country code); EU
    REMPART_NATS_URL      scale-out mode: the NATS server (JetStream) between API nodes, scan
                          workers and every node's index replica, e.g. nats://127.0.0.1:4222;
                          default unset (the embedded default: everything in one process)
    REMPART_DECODE_MEMORY bytes a server may hold at once for decoding uploads, all requests
                          together: a number with an optional K, M or G suffix (powers of 1024:
                          "1G", "768MiB"); default 1G, sized for a 2-core, 4 GB node. Past it,
                          uploads wait briefly, then get 503 with Retry-After

The TOML file (what a platform tunes; every key optional, an unknown key is an error; the
environment wins over ``[log]``)::

    [log]
    origin = "example.org/rempart"
    region = "DE"

    [limits]                       # safety limits on untrusted media (rempart.signals.Limits)
    max_image_bytes = 67108864     # and max_video_bytes, max_pixels, max_frames,
                                   # max_video_seconds, decode_seconds

    [moderation]
    daily_reveal_limit = 40        # reveals per reviewer per UTC day
    claim_ttl_minutes = 20
    platform_bank = "platform-confirmed"
    group_by_account = true
    list_ranks = { ncmec = 0, iwf = 1 }   # hash lists' priority rank (0 = most urgent)

    [moderation.queues.urgent]     # change a queue (any of its fields), or add one (sla_hours
    sla_hours = 2                  # required): warn_fraction, child_safety, description
    [[moderation.routes]]          # when given, these routes replace the default routing
    queue = "urgent"               # source (a case source), bank, child_safety: conditions
    source = "emergency"
    [moderation.policies.csam]     # change a policy of the taxonomy, or add one (title and
    legal_ground = "..."           # dsa_category required): keywords, illegal, child_safety

    [hotline]                      # notices (rempart.hotline.config.HotlineConfig)
    message_link = "https://chat.example/{space}/{message}"
    max_batch = 100                # and org_notices_per_hour, public_reports_per_hour,
                                   # form_min_seconds, bank

    [legal]                        # the law-enforcement desk (rempart.legal.config.LegalConfig)
    max_attachment_bytes = 5242880 # and max_attachments, cybertipline_url, cybertipline_username,
                                   # cybertipline_password, cybertipline_attempts, reporter_email

    [scaleout]                     # with REMPART_NATS_URL (rempart.workers)
    max_pending = 10000            # events waiting or in progress; past it scans get 503
    sync_timeout_seconds = 30      # how long a synchronous scan waits for its worker
    ack_wait_seconds = 30          # an event not acknowledged by then is delivered again

    [witnesses]                    # the log's witnesses (which ones, and the quorum: the database)
    timeout_seconds = 10           # one add-checkpoint request
    retry_seconds = 60             # `rempart serve` asks for missing cosignatures this often

    [replica]                      # the in-memory matcher's snapshots (rempart.banks.snapshots)
    snapshot_dir = "/var/lib/rempart/snapshots"   # default $REMPART_HOME/snapshots; shared by
                                   # the nodes and workers of one database
    snapshot_changes = 10000       # `rempart serve` writes one after this many bank changes,
    snapshot_minutes = 10          # or this long after the last one when anything changed
    snapshot_keep = 2              # files kept (the newest)

A bad value anywhere raises ``InvalidConfig`` naming the variable or the file and key, before
anything starts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rempart.errors import InvalidConfig, InvalidInput, shown
from rempart.hotline.config import HotlineConfig
from rempart.hotline.links import LinkFormat
from rempart.legal.config import LegalConfig
from rempart.moderation.clocks import Sla
from rempart.moderation.config import DEFAULT_QUEUES, ModerationConfig, QueueSpec, Route
from rempart.moderation.policy import DEFAULT_TAXONOMY, Policy, Taxonomy
from rempart.moderation.priority import MAX_RANK
from rempart.moderation.vocab import CaseSource
from rempart.signals.limits import DEFAULT_LIMITS, Limits
from rempart.transparency.keys import DEFAULT_ORIGIN
from rempart.transparency.leaves import VOCABULARY
from rempart.transparency.note import is_valid_name

#: every environment variable rempart reads (nothing else in the package reads the environment)
ENVIRONMENT = {
    "REMPART_HOME": "./.rempart",
    "REMPART_DATABASE_URL": "sqlite:///$REMPART_HOME/rempart.db",
    "REMPART_CONFIG": "$REMPART_HOME/rempart.toml (when it exists)",
    "REMPART_LOG_ORIGIN": DEFAULT_ORIGIN,
    "REMPART_LOG_REGION": "EU",
    "REMPART_DECODE_MEMORY": "1G",
    "REMPART_NATS_URL": "(unset: embedded)",
}
CONFIG_FILE_NAME = "rempart.toml"
DEFAULT_DECODE_MEMORY = 1 << 30
DEFAULT_WITNESS_TIMEOUT = 10.0
DEFAULT_WITNESS_RETRY = 60.0
_SIZE = re.compile(r"\s*(\d{1,15})\s*(?:([KMG])(?:I?B)?|B)?\s*", re.IGNORECASE)
DATABASE_BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    log_origin: str = DEFAULT_ORIGIN
    log_region: str = "EU"
    limits: Limits = DEFAULT_LIMITS
    #: queues, routes, taxonomy, reveal budget... (the runtime adds its decision hooks)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    hotline: HotlineConfig = field(default_factory=HotlineConfig)
    legal: LegalConfig = field(default_factory=LegalConfig)
    #: the TOML file these settings were read from, if any
    config_file: Path | None = None
    #: what decoding uploads may hold at once in one process (``rempart.signals.MemoryBudget``)
    decode_memory: int = DEFAULT_DECODE_MEMORY
    #: how long one add-checkpoint request to a witness may take
    witness_timeout: float = DEFAULT_WITNESS_TIMEOUT
    #: how often ``rempart serve`` signs a grown log's checkpoint and asks for missing cosignatures
    witness_retry: float = DEFAULT_WITNESS_RETRY
    #: replica snapshots: folder (None: $REMPART_HOME/snapshots), when to write, how many to keep
    snapshot_dir: Path | None = None
    snapshot_changes: int = 10_000
    snapshot_minutes: float = 10.0
    snapshot_keep: int = 2
    #: scale-out mode when set: the NATS server (``rempart.workers``)
    nats_url: str | None = None
    scaleout: ScaleOutConfig = field(default_factory=lambda: ScaleOutConfig())

    @property
    def snapshots(self) -> Path:
        return self.snapshot_dir if self.snapshot_dir is not None else self.home / "snapshots"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from the environment (``os.environ`` unless ``env``) and the TOML file."""
        env = os.environ if env is None else env
        home = Path(env.get("REMPART_HOME") or ENVIRONMENT["REMPART_HOME"]).expanduser().resolve()
        url = env.get("REMPART_DATABASE_URL") or f"sqlite:///{home / 'rempart.db'}"
        _check_database_url(url)
        path = _config_path(env, home)
        doc = _Table(_read_toml(path), "", path) if path else _Table({}, "", None)
        log = doc.table("log")
        origin = _from_env_or_file(env, "REMPART_LOG_ORIGIN", log, "origin", DEFAULT_ORIGIN)
        region = _from_env_or_file(env, "REMPART_LOG_REGION", log, "region", "EU")
        log.done()
        if not is_valid_name(origin.value):
            raise origin.error(f"{shown(origin.value)} cannot be a key name (no spaces, no '+')")
        if region.value not in VOCABULARY["region"]:
            raise region.error(f"{shown(region.value)} is not EU, GLOBAL or an EEA country code")
        limits = _limits(doc.table("limits"))
        moderation = _moderation(doc.table("moderation"))
        hotline = _hotline(doc.table("hotline"))
        legal = _legal(doc.table("legal"))
        timeout, retry = _witnesses(doc.table("witnesses"))
        replica = _replica(doc.table("replica"), home)
        scaleout = _scaleout(doc.table("scaleout"))
        doc.done()
        nats_url = env.get("REMPART_NATS_URL") or None
        if nats_url is not None and not _NATS_URL.fullmatch(nats_url):
            raise InvalidConfig("REMPART_NATS_URL", "must be nats://host:port (or tls://host:port)")
        memory = env.get("REMPART_DECODE_MEMORY")
        return cls(home=home, database_url=url, log_origin=origin.value, log_region=region.value,
                   limits=limits, moderation=moderation, hotline=hotline, legal=legal, config_file=path,
                   decode_memory=_size(memory, "REMPART_DECODE_MEMORY") if memory
                   else DEFAULT_DECODE_MEMORY, witness_timeout=timeout, witness_retry=retry,
                   nats_url=nats_url, scaleout=scaleout, **replica)

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def secret_from_environment(variable: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of the environment variable ``variable`` (``os.environ`` unless ``env``), or None:
    a credential an exchange names by variable (``rempart exchange add --credential-env``), read
    each time it is used and never stored."""
    env = os.environ if env is None else env
    return env.get(variable) or None


@dataclass(frozen=True)
class _Value:
    """A string setting and where it came from, to name in an error."""

    value: str
    key: str
    file: Path | None = None

    def error(self, reason: str) -> InvalidConfig:
        return InvalidConfig(self.key, reason, self.file)


def _from_env_or_file(env: Mapping[str, str], variable: str, table: _Table, key: str,
                      default: str) -> _Value:
    in_file = table.get(key, str)
    if env.get(variable):
        return _Value(env[variable], variable)
    if in_file is not None:
        return _Value(in_file, table.key(key), table.file)
    return _Value(default, variable)


def _size(text: str, variable: str) -> int:
    """``"1073741824"``, ``"1G"``, ``"1GiB"``, ``"768M"``... as bytes (K, M, G: powers of 1024)."""
    found = _SIZE.fullmatch(text)
    if found is None or int(found.group(1)) == 0:
        raise InvalidConfig(variable, f"must be a positive size such as 1G or 768MiB, not "
                                      f"{shown(text, 40)}")
    unit = (found.group(2) or "").upper()
    return int(found.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[unit]


def _check_database_url(url: str) -> None:
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise InvalidConfig("REMPART_DATABASE_URL", "not a database URL") from None
    if backend not in DATABASE_BACKENDS:
        raise InvalidConfig("REMPART_DATABASE_URL",
                            f"{shown(backend)} is not supported (sqlite or postgresql)")


def _config_path(env: Mapping[str, str], home: Path) -> Path | None:
    named = env.get("REMPART_CONFIG")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise InvalidConfig("REMPART_CONFIG", f"no such file: {path}")
        return path
    default = home / CONFIG_FILE_NAME
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfig("", f"not valid TOML: {exc}", path) from None
    except OSError as exc:
        raise InvalidConfig("", f"cannot read: {exc.strerror or exc}", path) from None


# --- reading the file: typed values, their key path in every error, no unknown key --------------


class _Table:
    """One TOML table being read. Keys are taken off as they are read; ``done`` refuses leftovers."""

    def __init__(self, data: dict, path: str, file: Path | None) -> None:
        self._data = dict(data)
        self.path = path
        self.file = file

    def key(self, name: str) -> str:
        return ".".join(k for k in (self.path, name) if k)

    def error(self, name: str, reason: str) -> InvalidConfig:
        return InvalidConfig(self.key(name), reason, self.file)

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def get(self, name: str, kind: type, default=None):
        if name not in self._data:
            return default
        return _typed(self._data.pop(name), kind, lambda reason: self.error(name, reason))

    def table(self, name: str) -> _Table:
        value = self._data.pop(name, {})
        if not isinstance(value, dict):
            raise self.error(name, "must be a table")
        return _Table(value, self.key(name), self.file)

    def names(self) -> list[str]:
        """The keys not read yet, in file order."""
        return list(self._data)

    def tables(self) -> list[tuple[str, _Table]]:
        """Every remaining key, each a table (e.g. ``[moderation.queues.NAME]``)."""
        return [(name, self.table(name)) for name in self.names()]

    def array_of_tables(self, name: str) -> list[_Table] | None:
        if name not in self._data:
            return None
        value = self._data.pop(name)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(name, "must be an array of tables ([[...]])")
        return [_Table(v, f"{self.key(name)}[{i}]", self.file) for i, v in enumerate(value)]

    def done(self) -> None:
        for name in self._data:
            raise self.error(name, "unknown setting")


_KINDS: dict[type, tuple[str, Callable[[object], bool]]] = {
    float: ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    str: ("a string", lambda v: isinstance(v, str)),
    bool: ("true or false", lambda v: isinstance(v, bool)),
    list: ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
}


def _typed(value, kind: type, error: Callable[[str], InvalidConfig]):
    what, ok = _KINDS[kind]
    if not ok(value):
        raise error(f"must be {what}, not {shown(value)}")
    return float(value) if kind is float else tuple(value) if kind is list else value


def _limits(t: _Table) -> Limits:
    values = {}
    for f in dataclasses.fields(Limits):
        kind = float if isinstance(getattr(DEFAULT_LIMITS, f.name), float) else int
        value = t.get(f.name, kind)
        if value is not None:
            if value < 0:
                raise t.error(f.name, "must not be negative")
            values[f.name] = value
    t.done()
    return dataclasses.replace(DEFAULT_LIMITS, **values)


@dataclass(frozen=True)
class ScaleOutConfig:
    """``[scaleout]``: the bound of the stream and the waits of scale-out mode."""

    max_pending: int = 10_000
    sync_timeout: float = 30.0
    ack_wait: float = 30.0


_NATS_URL = re.compile(r"(nats|tls)://[A-Za-z0-9.\-\[\]:]+:\d{1,5}(,(nats|tls)://[A-Za-z0-9.\-\[\]:]+:\d{1,5})*")


def _scaleout(t: _Table) -> ScaleOutConfig:
    max_pending = t.get("max_pending", int, ScaleOutConfig.max_pending)
    if max_pending < 1:
        raise t.error("max_pending", "must be at least 1")
    values = []
    for key, default in (("sync_timeout_seconds", ScaleOutConfig.sync_timeout),
                         ("ack_wait_seconds", ScaleOutConfig.ack_wait)):
        value = t.get(key, float, default)
        if value <= 0:
            raise t.error(key, "must be positive")
        values.append(value)
    t.done()
    return ScaleOutConfig(max_pending, values[0], values[1])


def _witnesses(t: _Table) -> tuple[float, float]:
    values = []
    for key, default in (("timeout_seconds", DEFAULT_WITNESS_TIMEOUT), ("retry_seconds", DEFAULT_WITNESS_RETRY)):
        value = t.get(key, float, default)
        if value <= 0:
            raise t.error(key, "must be positive")
        values.append(value)
    t.done()
    return values[0], values[1]


def _replica(t: _Table, home: Path) -> dict:
    folder = t.get("snapshot_dir", str, None)
    out = {"snapshot_dir": (home / Path(folder).expanduser()) if folder else None,
           "snapshot_changes": t.get("snapshot_changes", int, 10_000),
           "snapshot_minutes": t.get("snapshot_minutes", float, 10.0),
           "snapshot_keep": t.get("snapshot_keep", int, 2)}
    for key in ("snapshot_changes", "snapshot_minutes", "snapshot_keep"):
        if out[key] <= 0:
            raise t.error(key, "must be positive")
    t.done()
    return out


def _moderation(t: _Table) -> ModerationConfig:
    base = ModerationConfig()
    reveals = t.get("daily_reveal_limit", int, base.daily_reveal_limit)
    if reveals < 0:
        raise t.error("daily_reveal_limit", "must not be negative")
    ttl = t.get("claim_ttl_minutes", float, base.claim_ttl / dt.timedelta(minutes=1))
    if ttl <= 0:
        raise t.error("claim_ttl_minutes", "must be positive")
    ranks = t.table("list_ranks")
    list_ranks = {}
    for name in ranks.names():
        rank = ranks.get(name, int)
        if not 0 <= rank <= MAX_RANK:
            raise ranks.error(name, f"must be between 0 and {MAX_RANK}")
        list_ranks[name] = rank
    queues = _queues(t.table("queues"))
    routes = t.array_of_tables("routes")
    taxonomy = _taxonomy(t.table("policies"))
    values = dict(daily_reveal_limit=reveals, claim_ttl=dt.timedelta(minutes=ttl),
                  platform_bank=t.get("platform_bank", str, base.platform_bank),
                  group_by_account=t.get("group_by_account", bool, base.group_by_account),
                  list_ranks=list_ranks, queues=queues, taxonomy=taxonomy)
    if routes is not None:
        values["routes"] = tuple(_route(r) for r in routes)
    t.done()
    try:
        return ModerationConfig(**values)
    except InvalidInput as exc:
        raise t.error("queues" if routes is None else "routes", str(exc)) from None


def _hotline(t: _Table) -> HotlineConfig:
    base = HotlineConfig()
    values = {}
    if "message_link" in t:
        try:
            values["message_link"] = LinkFormat(t.get("message_link", str))
        except InvalidInput as exc:
            raise t.error("message_link", str(exc)) from None
    for name, kind in (("max_batch", int), ("org_notices_per_hour", int),
                       ("public_reports_per_hour", int), ("form_min_seconds", float),
                       ("bank", str)):
        values[name] = t.get(name, kind, getattr(base, name))
    t.done()
    try:
        return HotlineConfig(**values)
    except InvalidInput as exc:
        raise t.error("", str(exc)) from None


def _legal(t: _Table) -> LegalConfig:
    base = LegalConfig()
    values = {name: t.get(name, kind, getattr(base, name)) for name, kind in (
        ("max_attachment_bytes", int), ("max_attachments", int), ("cybertipline_url", str),
        ("cybertipline_username", str), ("cybertipline_password", str),
        ("cybertipline_attempts", int), ("reporter_email", str))}
    t.done()
    try:
        return LegalConfig(**values)
    except InvalidInput as exc:
        raise t.error("", str(exc)) from None


def _queues(t: _Table) -> tuple[QueueSpec, ...]:
    queues = {q.name: q for q in DEFAULT_QUEUES}
    for name, q in t.tables():
        old = queues.get(name)
        if old is None and "sla_hours" not in q:
            raise q.error("sla_hours", "a new queue needs its SLA target")
        hours = q.get("sla_hours", float, old.sla.target / dt.timedelta(hours=1) if old else 0)
        warn = q.get("warn_fraction", float, old.sla.warn_fraction if old else 0.8)
        if hours <= 0:
            raise q.error("sla_hours", "must be positive")
        if not 0 < warn < 1:
            raise q.error("warn_fraction", "must be between 0 and 1")
        queues[name] = QueueSpec(
            name, Sla(dt.timedelta(hours=hours), warn),
            child_safety=q.get("child_safety", bool, old.child_safety if old else False),
            description=q.get("description", str, old.description if old else ""))
        q.done()
    return tuple(queues.values())


def _route(t: _Table) -> Route:
    if "queue" not in t:
        raise t.error("queue", "a route needs the queue it sends cases to")
    source = t.get("source", str)
    if source is not None and source not in {s.value for s in CaseSource}:
        raise t.error("source", f"{shown(source)} is not one of {', '.join(s.value for s in CaseSource)}")
    route = Route(t.get("queue", str), source=CaseSource(source) if source else None,
                  bank=t.get("bank", str), child_safety=t.get("child_safety", bool))
    t.done()
    return route


def _taxonomy(t: _Table) -> Taxonomy:
    policies = {p.key: p for p in DEFAULT_TAXONOMY.policies}
    for key, p in t.tables():
        old = policies.get(key)
        if old is None:
            for required in ("title", "dsa_category"):
                if required not in p:
                    raise p.error(required, "a new policy needs its title and dsa_category")
        policies[key] = Policy(
            key=key, title=p.get("title", str, old and old.title),
            dsa_category=p.get("dsa_category", str, old and old.dsa_category),
            keywords=p.get("keywords", list, old.keywords if old else ()),
            illegal=p.get("illegal", bool, old.illegal if old else True),
            legal_ground=p.get("legal_ground", str, old.legal_ground if old else ""),
            child_safety=p.get("child_safety", bool, old.child_safety if old else False))
        p.done()
    try:
        return Taxonomy(tuple(policies.values()))
    except InvalidInput as exc:
        raise t.error("", str(exc)) from None
