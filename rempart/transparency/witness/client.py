"""The log's side of tlog-witness: submit a checkpoint to one witness and bring back its cosignature.

``request_cosignature`` sends ``add-checkpoint`` from the size the log believes the witness has;
on 409 it learns the witness's size from the body and sends once more from there (a witness that
restarted empty, or a log that never spoke to it, answers 409 with its size: 0 or more). The
answer is checked against the witness's key before it is returned: a witness cannot make the log
serve a bad signature.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rempart.errors import InvalidInput
from rempart.transparency.checkpoint import parse_checkpoint
from rempart.transparency.cosignature import CosignatureVerifier
from rempart.transparency.errors import LogUnavailable, VerificationError
from rempart.transparency.note import Signature, parse_note
from rempart.transparency.witness.protocol import (
    SIZE_CONTENT_TYPE,
    SizeMismatch,
    WitnessRefusal,
    format_add_checkpoint,
    parse_size_body,
    read_cosignature,
)

MAX_ANSWER_BYTES = 64 * 1024
#: how often one submission may follow a 409 to the witness's size
MAX_RESENDS = 2

Prove = Callable[[int, int], Sequence[bytes]]


@dataclass(frozen=True)
class Cosignature:
    """A witness's verified cosignature, and the size it now holds for the log."""

    signature: Signature
    size: int


class Refused(WitnessRefusal):
    """The witness answered with a refusal (``status``) other than a size it can be sent from."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"witness refused ({status}): {message}")
        self.status = status


def add_checkpoint(url: str, body: bytes, timeout: float) -> bytes:
    """POST ``body`` to ``<url>/add-checkpoint``; the 200 body, or ``SizeMismatch`` (409),
    ``Refused`` (other statuses) or ``LogUnavailable`` (network)."""
    if not url.startswith(("http://", "https://")):
        raise InvalidInput("a witness URL must be http:// or https://")
    request = urllib.request.Request(url.rstrip("/") + "/add-checkpoint", data=body, method="POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (scheme checked)
            return resp.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        answer = exc.read(MAX_ANSWER_BYTES)
        if exc.code == 409 and exc.headers.get_content_type() == SIZE_CONTENT_TYPE:
            raise SizeMismatch(parse_size_body(answer)) from None
        text = answer.decode("utf-8", "replace").strip()[:200]
        raise Refused(exc.code, text or exc.reason) from None
    except (urllib.error.URLError, OSError) as exc:
        raise LogUnavailable(f"witness {url}: {getattr(exc, 'reason', exc)}") from None


def request_cosignature(url: str, witness: CosignatureVerifier, signed: bytes, old_size: int,
                        prove: Prove, timeout: float) -> Cosignature:
    """The cosignature of ``witness`` at ``url`` on the log's checkpoint ``signed``.

    ``old_size`` is the size the witness last cosigned, as far as the log knows; ``prove(old,
    new)`` returns the log's consistency proof between two sizes.
    """
    size = parse_checkpoint(parse_note(signed)[0]).size
    for _ in range(MAX_RESENDS + 1):
        if old_size > size:
            raise VerificationError(f"the witness has cosigned size {old_size}, beyond this "
                                    f"checkpoint's {size}: it has seen another history of this log")
        proof = prove(old_size, size) if 0 < old_size < size else ()
        try:
            answer = add_checkpoint(url, format_add_checkpoint(old_size, proof, signed), timeout)
        except SizeMismatch as exc:
            old_size = exc.size
            continue
        return Cosignature(read_cosignature(answer, signed, witness), size)
    raise Refused(409, f"the witness's size kept changing (last {old_size})")
