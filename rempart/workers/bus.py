"""NATS JetStream between API nodes, scan workers and every node's index replica: the ``Bus``.

The only module that imports ``nats`` (its errors are translated here). What travels:

- ``rempart.scans`` on the stream ``REMPART_SCANS``: upload events (``rempart.workers.events``).
  Work-queue retention (a message is gone once a worker acknowledged it), bounded by
  ``max_pending`` messages with ``discard: new`` (a full stream refuses new events: the API node
  answers ``503`` with ``Retry-After``), de-duplicated on ``Nats-Msg-Id`` = the scan id. One
  durable pull consumer, ``workers``, shared by every worker: an event not acknowledged within
  ``ack_wait`` seconds (its worker died) is delivered again.
- the object store ``rempart-uploads``: media too large to travel inline (the event names it).
- ``rempart.scans.done.<scan_id>`` (core NATS): a worker says an event is done, for the API node
  that waits on a synchronous scan (which reads the answer from the database).
- ``rempart.banks.changed`` (core NATS): a node committed bank changes up to a sequence number;
  every node's replica applies the feed (``Replica.sync``, incremental) when it hears it.

The client runs on an event loop of its own in a daemon thread, so that synchronous code (the
runtime, the CLI, worker threads) and the web server's loop can both use one connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import nats
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import (
    AckPolicy, ConsumerConfig, DiscardPolicy, ObjectStoreConfig, RetentionPolicy, StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from rempart.errors import InvalidInput, Overloaded, RempartError
from rempart.workers.events import HEADER, ScanEvent, decode_event, encode_event

STREAM = "REMPART_SCANS"
SUBJECT = "rempart.scans"
CONSUMER = "workers"
BUCKET = "rempart-uploads"
DONE = "rempart.scans.done"
BANKS = "rempart.banks.changed"
#: media up to this size travels in the event's message; larger media in the object store
INLINE_BYTES = 768 * 1024
#: how long a stream-full or backlog-over-bound answer asks the caller to wait
RETRY_AFTER = 2
CONNECT_SECONDS = 10.0
log = logging.getLogger("rempart.workers")


class BusUnavailable(RempartError):
    """NATS does not answer (or refused an operation): the caller retries later."""

    status, type, safe_to_show = 503, "stream-unavailable", True


@dataclass(frozen=True)
class StreamSettings:
    max_pending: int = 10_000
    ack_wait: float = 30.0
    #: objects left by a crashed API node are dropped after this long
    object_ttl: float = 24 * 3600.0


@dataclass
class Delivery:
    """One event taken from the stream: its media (fetched from the object store when needed)
    and how many times it has been delivered."""

    event: ScanEvent | None
    media: bytes
    delivered: int
    _msg: object
    error: str | None = None


class Bus:
    def __init__(self, url: str, *, name: str = "rempart",
                 settings: StreamSettings = StreamSettings()) -> None:
        self.url, self.settings = url, settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="rempart-nats",
                                        daemon=True)
        self._thread.start()
        self._backlog: tuple[float, int] = (0.0, 0)
        try:
            self.call(self._connect(name), CONNECT_SECONDS + 5)
        except BaseException:
            self.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------

    def submit(self, coro) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro, timeout: float = 30.0):
        """Run ``coro`` on the bus's loop and wait for it (from any thread but that loop's)."""
        try:
            return self.submit(coro).result(timeout)
        except RempartError:
            raise
        except (NatsError, OSError, TimeoutError, asyncio.TimeoutError) as exc:
            raise BusUnavailable(f"NATS at {self.url} did not answer: {type(exc).__name__}") from exc

    async def _connect(self, name: str) -> None:
        self.nc = await nats.connect(self.url, name=name, connect_timeout=CONNECT_SECONDS,
                                     max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                                     allow_reconnect=True)
        self.js = self.nc.jetstream()
        config = StreamConfig(name=STREAM, subjects=[SUBJECT], retention=RetentionPolicy.WORK_QUEUE,
                              max_msgs=self.settings.max_pending, discard=DiscardPolicy.NEW,
                              storage=StorageType.FILE, duplicate_window=120.0)
        try:
            await self.js.add_stream(config)
        except BadRequestError:  # exists with other limits: take this deployment's
            await self.js.update_stream(config)
        try:
            self.objects = await self.js.object_store(BUCKET)
        except (NotFoundError, NatsError):
            self.objects = await self.js.create_object_store(
                BUCKET, ObjectStoreConfig(storage=StorageType.FILE, ttl=self.settings.object_ttl))

    def close(self) -> None:
        if getattr(self, "nc", None) is not None:
            try:
                self.submit(self.nc.drain()).result(5)
            except Exception:  # closing anyway
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    # -- API nodes: publishing events -----------------------------------------------------------

    def publish_scan(self, event: ScanEvent, media: bytes = b"") -> None:
        """Put one event on the stream (its media inline or in the object store). Raises
        ``Overloaded`` when the stream is full, ``BusUnavailable`` when NATS does not answer."""
        self.call(self._publish_scan(event, media))

    async def _publish_scan(self, event: ScanEvent, media: bytes) -> None:
        if len(media) > INLINE_BYTES:
            await self.objects.put(event.scan_id, media)
            event = ScanEvent(event.scan_id, event.mode, event.source, event.context,
                              event.signals, event.scan_id, event.request_id, event.at)
            media = b""
        try:
            await self.js.publish(SUBJECT, media, stream=STREAM,
                                  headers={HEADER: encode_event(event), "Nats-Msg-Id": event.scan_id})
        except NatsError as exc:
            if "maximum messages" in str(exc).lower() or getattr(exc, "err_code", 0) == 10077:
                raise Overloaded("the scan workers are behind: retry later",
                                 retry_after=RETRY_AFTER) from None
            raise

    def backlog(self, max_age: float = 0.5) -> int:
        """Events waiting for a worker or in progress (cached for ``max_age`` seconds)."""
        at, value = self._backlog
        if time.monotonic() - at > max_age:
            value = self.call(self._backlog_now(), 5)
            self._backlog = (time.monotonic(), value)
        return value

    async def _backlog_now(self) -> int:
        return sum(await self._consumer_state())

    async def _consumer_state(self) -> tuple[int, int]:
        try:
            info = await self.js.consumer_info(STREAM, CONSUMER)
            return int(info.num_pending or 0), int(info.num_ack_pending or 0)
        except NotFoundError:  # no worker has ever started: everything waits
            info = await self.js.stream_info(STREAM)
            return int(info.state.messages), 0

    def consumer_state(self) -> tuple[int, int]:
        """(events no worker has taken yet, events taken and not acknowledged yet)."""
        return self.call(self._consumer_state(), 5)

    def wait_done(self, scan_id: str, timeout: float) -> Callable[[], bool]:
        """Subscribe to the scan's done notice; returns a function that waits for it (up to
        ``timeout``) and says whether it came. Subscribe before publishing the event."""
        got: asyncio.Event | None = None

        async def subscribe():
            nonlocal got
            got = asyncio.Event()

            async def on(_msg):
                got.set()
            return await self.nc.subscribe(f"{DONE}.{scan_id}", cb=on)

        sub = self.call(subscribe(), 5)

        def wait() -> bool:
            async def waiting():
                try:
                    await asyncio.wait_for(got.wait(), timeout)
                    return True
                except asyncio.TimeoutError:
                    return False
                finally:
                    await sub.unsubscribe()
            return self.call(waiting(), timeout + 5)
        return wait

    # -- workers: consuming ---------------------------------------------------------------------

    def consumer(self) -> None:
        """Create (or bind to) the durable work-queue consumer."""
        async def bind():
            self._pull = await self.js.pull_subscribe(
                SUBJECT, durable=CONSUMER, stream=STREAM,
                config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT,
                                      ack_wait=self.settings.ack_wait, max_deliver=-1,
                                      max_ack_pending=-1))
        self.call(bind())

    def fetch(self, batch: int, timeout: float = 1.0) -> list[Delivery]:
        """Up to ``batch`` events (waiting at most ``timeout`` seconds for the first)."""
        return self.call(self._fetch(batch, timeout), timeout + 30)

    async def _fetch(self, batch: int, timeout: float) -> list[Delivery]:
        try:
            msgs = await self._pull.fetch(batch, timeout=timeout)
        except (NatsTimeout, asyncio.TimeoutError):
            return []
        out = []
        for msg in msgs:
            delivered = msg.metadata.num_delivered if msg.metadata else 1
            try:
                event = decode_event((msg.headers or {}).get(HEADER, ""))
            except InvalidInput as exc:
                out.append(Delivery(None, b"", delivered, msg, error=str(exc)))
                continue
            media = msg.data or b""
            if event.object is not None:
                try:
                    media = (await self.objects.get(event.object)).data or b""
                except (NotFoundError, NatsError):
                    out.append(Delivery(event, b"", delivered, msg,
                                        error="the upload's media is no longer in the object store"))
                    continue
            out.append(Delivery(event, media, delivered, msg))
        return out

    def ack(self, delivery: Delivery) -> None:
        """Acknowledge (the event is gone from the stream), drop its object, say it is done."""
        async def ack():
            await delivery._msg.ack_sync()
            event = delivery.event
            if event is not None:
                if event.object is not None:
                    try:
                        await self.objects.delete(event.object)
                    except (NotFoundError, NatsError):
                        pass
                await self.nc.publish(f"{DONE}.{event.scan_id}", b"")
        self.call(ack())

    def nak(self, delivery: Delivery, delay: float = 1.0) -> None:
        self.call(delivery._msg.nak(delay=delay))

    # -- every node: bank changes ---------------------------------------------------------------

    def publish_bank_change(self, seq: int) -> None:
        async def pub():
            await self.nc.publish(BANKS, json.dumps({"seq": seq}).encode())
            await self.nc.flush(2)
        self.call(pub(), 5)

    def on_bank_change(self, apply: Callable[[int], None]) -> None:
        """Call ``apply(seq)`` (in a thread of its own, never on the bus's loop) for every bank
        change notice; notices that arrive while one is applied are folded into the next."""
        pending = threading.Event()
        latest = [0]

        def applier():
            while True:
                pending.wait()
                pending.clear()
                try:
                    apply(latest[0])
                except Exception:  # the next notice (or the scan's own sync) catches up
                    log.exception("applying bank changes failed")

        threading.Thread(target=applier, name="rempart-bank-changes", daemon=True).start()

        async def on(msg):
            try:
                latest[0] = max(latest[0], int(json.loads(msg.data)["seq"]))
            except (ValueError, KeyError, TypeError):
                return
            pending.set()

        self.call(self.nc.subscribe(BANKS, cb=on), 5)
