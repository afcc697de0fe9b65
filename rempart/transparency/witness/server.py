"""The witness's HTTP interface, as a bare ASGI application (``rempart witness serve`` runs it
under uvicorn). The submission and monitoring prefixes are both the server's root::

    POST /add-checkpoint          200 text/plain cosignature line; 400 403 404 409 422 (see
                                  ``protocol``); 409's body is the size, as text/x.tlog.size
    GET  /<origin hash>/checkpoint the latest cosigned checkpoint of that log, or 404
    GET  /                        the witness's verifier key and the origins it follows

Bodies over ``MAX_REQUEST_BYTES`` are refused with 413 while they stream. The signing and the
state update run in a worker thread; ``state`` serialises them.
"""

from __future__ import annotations

import asyncio
import logging
import re

from rempart.errors import NotFound, RempartError
from rempart.transparency.witness.protocol import MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE, SizeMismatch
from rempart.transparency.witness.witness import Witness

TEXT = "text/plain; charset=utf-8"
_CHECKPOINT_PATH = re.compile(r"/([0-9a-f]{64})/checkpoint")
log = logging.getLogger("rempart.witness")


class _TooLarge(Exception):
    pass


def witness_app(witness: Witness):
    """The ASGI application of ``witness``."""

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        status, content_type, body = await _answer(witness, scope, receive)
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def _answer(witness: Witness, scope, receive) -> tuple[int, str, bytes]:
    method, path = scope["method"], scope["path"]
    try:
        if path == "/add-checkpoint":
            if method != "POST":
                return 405, TEXT, b"add-checkpoint takes POST\n"
            try:
                body = await _read_body(receive)
            except _TooLarge:
                return 413, TEXT, f"request larger than {MAX_REQUEST_BYTES} bytes\n".encode()
            return 200, TEXT, await asyncio.to_thread(witness.add_checkpoint, body)
        if method not in ("GET", "HEAD"):
            return 405, TEXT, b"method not allowed\n"
        found = _CHECKPOINT_PATH.fullmatch(path)
        if found:
            return 200, TEXT, await asyncio.to_thread(witness.checkpoint, found.group(1))
        if path == "/":
            origins = "".join(f"log {origin}\n" for origin in sorted(witness.logs))
            return 200, TEXT, f"witness {witness.vkey()}\n{origins}".encode()
        return 404, TEXT, b"not found\n"
    except SizeMismatch as exc:
        return 409, SIZE_CONTENT_TYPE, f"{exc.size}\n".encode()
    except NotFound as exc:
        return 404, TEXT, f"{exc}\n".encode()
    except RempartError as exc:
        if not exc.safe_to_show:
            log.error("witness request failed: %r", exc)
            return 500, TEXT, b"internal error\n"
        return exc.status, TEXT, f"{exc}\n".encode()


async def _read_body(receive) -> bytes:
    chunks, total = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > MAX_REQUEST_BYTES:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
