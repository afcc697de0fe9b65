"""Reading multipart uploads with a byte cap, before anything is parsed or stored."""

from __future__ import annotations

from fastapi import Request

from rempart.errors import InvalidInput, MediaLimitExceeded

MAX_FIELDS = 20


async def read_upload(request: Request, max_bytes: int) -> tuple[bytes, dict[str, str]]:
    """The one file part ``file`` (at most ``max_bytes``) and the text fields of a multipart form."""
    # The multipart parser spools file parts to disk without a cap of its own, so the body size
    # must be known and checked before parsing starts (a chunked body could fill the disk).
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise InvalidInput("uploads need a Content-Length header")
    if int(declared) > max_bytes + 64 * 1024:
        raise MediaLimitExceeded("upload bytes", int(declared), max_bytes)
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise InvalidInput("expected multipart/form-data with a 'file' part")
    try:
        form = await request.form(max_files=1, max_fields=MAX_FIELDS)
    except Exception as exc:  # starlette raises several types for a malformed body
        raise InvalidInput(f"malformed multipart body: {exc}") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidInput("missing 'file' part")
    data = await upload.read(max_bytes + 1)
    await upload.close()
    if len(data) > max_bytes:
        raise MediaLimitExceeded("upload bytes", len(data), max_bytes)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return data, fields


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw request body, refused as soon as it grows past ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise InvalidInput(f"body larger than {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise InvalidInput(f"body larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
