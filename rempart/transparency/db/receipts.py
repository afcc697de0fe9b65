"""Receipts for one decision (DB-backed): the public proof, and the private opening beside it.

A receipt is a JSON object, keys in this order::

    {"format": "rempart/receipt/v1",
     "log": {"origin": "rempart.local/log", "vkey": "rempart.local/log+1a2b3c4d+AX..."},
     "tlog_proof": "c2sp.org/tlog-proof@v1\\nextra <base64 of the leaf>\\nindex 7\\n...",
     "private_opening": {
         "notice": "PRIVATE: ...",
         "leaf_index": 7, "salt": "<base64, 32 bytes>",
         "content_sha256": "<64 hex digits>", "subject": "content"}}

``tlog_proof`` is a C2SP tlog-proof whose ``extra`` is the decision leaf itself, so it can be
checked offline against the log key alone. ``private_opening`` is what opens the leaf's
commitment: hand it only to an entitled party (the affected user, the reporting NGO, a court);
with it they can check that the decision is about their content. ``--no-opening`` leaves it out.
"""

from __future__ import annotations

import base64

from sqlalchemy.orm import Session

from rempart.errors import InvalidInput
from rempart.transparency.db import log_store
from rempart.transparency.checkpoint import parse_checkpoint
from rempart.transparency.note import parse_note
from rempart.transparency.proof import TlogProof, format_tlog_proof
from rempart.transparency.db.service import TransparencyLog, opening
from rempart.transparency.verify import RECEIPT_FORMAT

PRIVATE_NOTICE = ("PRIVATE: this opening links the public log entry to one item of content. Give it "
                  "only to a party entitled to know (the affected user, the reporting NGO, a court).")


def make_receipt(session: Session, log: TransparencyLog, index: int, with_opening: bool = True) -> dict:
    """A receipt for decision or notice leaf ``index``, proved against a signed checkpoint that
    holds it (signing the current one if none does yet)."""
    row = log_store.leaf(session, index)
    if row.kind not in ("decision", "notice"):
        raise InvalidInput(f"leaf {index} is a {row.kind}; receipts are for decisions and notices "
                           "(verify reports with `rempart verify report`)")
    signed = log.checkpoint_covering(session, index)
    cp = parse_checkpoint(parse_note(signed)[0])
    hashes = log_store.prove_inclusion(session, index, cp.size)
    proof = format_tlog_proof(TlogProof(index, tuple(hashes), signed, extra=bytes(row.data)))
    out: dict = {"format": RECEIPT_FORMAT, "log": {"origin": log.origin, "vkey": log.vkey()},
                 "tlog_proof": proof.decode()}
    if with_opening:
        o = opening(session, index)
        out["private_opening"] = {"notice": PRIVATE_NOTICE, "leaf_index": index,
                                  "salt": base64.b64encode(o.salt).decode(),
                                  "content_sha256": o.content_sha256, "subject": o.subject}
    return out
