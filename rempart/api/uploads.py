"""Reading request bodies that routes parse themselves: multipart uploads and raw bodies.

Every body is capped while it streams at its route's limit (``rempart.httpgate``), so a chunked
body cannot fill the memory or the multipart parser's spool on disk; these helpers add the
per-part checks.
"""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException

from rempart.errors import BodyTooLarge, InvalidInput, MediaLimitExceeded
from rempart.signals import DEFAULT_LIMITS

MAX_FIELDS = 20
#: what a multipart body may add to the file it carries (boundaries, headers, context fields)
MULTIPART_OVERHEAD = 1 << 20
#: the body of a media upload: the largest file the default limits accept, in a multipart form
UPLOAD_BODY_BYTES = DEFAULT_LIMITS.max_bytes + MULTIPART_OVERHEAD


async def read_upload(request: Request, max_bytes: int) -> tuple[bytes, dict[str, str]]:
    """The one file part ``file`` (at most ``max_bytes``) and the text fields of a multipart form."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise InvalidInput("expected multipart/form-data with a 'file' part")
    try:
        form = await request.form(max_files=1, max_fields=MAX_FIELDS)
    except HTTPException:
        raise  # the body limit: answered 413 by the app
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
    """The raw request body, refused (``BodyTooLarge``) as soon as it grows past ``max_bytes``:
    for a route that takes several kinds of body, a tighter cap for one of them."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
