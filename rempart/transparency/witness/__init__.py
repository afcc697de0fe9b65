"""Transparency log witnesses (C2SP tlog-witness), both sides, pure (standard library,
``cryptography``, the transparency core; uvicorn runs ``server`` from the CLI):

- ``protocol``  the add-checkpoint request and answers byte for byte, the witness's checks in
                the specification's order, cosigning (no state, no I/O)
- ``state``     the witness's durable state (one SQLite file): atomic check-and-advance per log
- ``witness``   a witness: key directory, the logs it follows, add-checkpoint end to end
- ``server``    its HTTP interface (bare ASGI)
- ``client``    the log's side: submit a checkpoint, follow a 409, check the cosignature

The log's list of witnesses, its quorum and the cosignatures it collected live in the log's
database (``rempart.transparency.db.witnesses``).
"""

from rempart.transparency.witness.client import Cosignature, Refused, add_checkpoint, request_cosignature
from rempart.transparency.witness.protocol import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    Cosigned,
    InconsistentCheckpoint,
    MalformedRequest,
    SizeMismatch,
    UnknownLog,
    UntrustedCheckpoint,
    WitnessRefusal,
    add_signatures,
    format_add_checkpoint,
    origin_hash,
    parse_add_checkpoint,
)
from rempart.transparency.witness.server import witness_app
from rempart.transparency.witness.state import WitnessState
from rempart.transparency.witness.witness import Witness, init_witness, load_signer, read_log_keys

__all__ = [
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "Cosignature",
    "Cosigned",
    "InconsistentCheckpoint",
    "MalformedRequest",
    "Refused",
    "SizeMismatch",
    "UnknownLog",
    "UntrustedCheckpoint",
    "Witness",
    "WitnessRefusal",
    "WitnessState",
    "add_checkpoint",
    "add_signatures",
    "format_add_checkpoint",
    "init_witness",
    "load_signer",
    "origin_hash",
    "parse_add_checkpoint",
    "read_log_keys",
    "request_cosignature",
    "witness_app",
]
