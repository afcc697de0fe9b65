"""rempart's verifiable transparency log: pure, exact, standard-library + ``cryptography`` only.

Modules, lowest first:

- ``merkle``      RFC 6962 hashing, stored-hash layout, proof generation and verification
- ``note``        C2SP signed notes with Ed25519 keys
- ``checkpoint``  C2SP checkpoints (log tree heads)
- ``cosignature`` C2SP ``cosignature/v1`` witness signatures and a k-of-n witness policy
- ``tiles``       C2SP tlog-tiles coordinates, paths, tile data and entry bundles
- ``tiledlog``    writing a tiled log to a directory; a verifying client over ``fetch(path)``
- ``proof``       C2SP tlog-proof (one entry's offline proof)
- ``leaves``      rempart's decision and daily-report leaves, commitments, recounting
- ``dsa_schema``  what the DSA Transparency Database accepts as a statement of reasons, as data
- ``dsa``         the one builder of DSA statements of reasons (reviewers' actions and decision leaves)
- ``reports``     the published daily report JSON and statements of reasons, from leaves
- ``verify``      the verifier of a published log (reports, consistency, receipts)
- ``keys``        the log signing key file ($REMPART_HOME/keys)

The database-backed operator side (appends, days, receipts, publication, the log's witnesses)
is the subpackage ``rempart.transparency.db``, imported on its own so that this package stays
pure. Witnesses (C2SP tlog-witness: the witness and the log's client) are the pure subpackage
``rempart.transparency.witness``.

Other packages import only the names below.
"""

from rempart.transparency.checkpoint import (
    Checkpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from rempart.transparency.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    WitnessPolicy,
    cosignature_timestamp,
    cosigned_message,
)
from rempart.transparency.dsa import (
    HASH_LIST_CLASSIFICATION,
    StatementInput,
    build_statement,
    leaf_classification,
    make_puid,
    statement_of_reasons,
    territorial_scope,
)
from rempart.transparency.dsa_schema import check_statement, statement_problems
from rempart.transparency.errors import InvalidSignature, LogUnavailable, UnverifiedNote, VerificationError
from rempart.transparency.keys import DEFAULT_ORIGIN, load_or_create_signer
from rempart.transparency.leaves import (
    NOTICE_OUTCOMES,
    NOTICE_SOURCES,
    Decision,
    Notice,
    Report,
    bucket_time_to_action,
    hash_match_source_type,
    check_commitment,
    check_report,
    format_decision_leaf,
    format_notice_leaf,
    format_report_leaf,
    make_commitment,
    median_time_to_action,
    parse_day_leaf,
    parse_decision_leaf,
    parse_notice_leaf,
    parse_report_leaf,
    recount,
    recount_notices,
    split_day,
)
from rempart.transparency.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    HashReader,
    MemoryHashStore,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for_leaf,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from rempart.transparency.note import (
    Ed25519Signer,
    Ed25519Verifier,
    Note,
    Signature,
    Signer,
    Verifier,
    generate_key,
    key_id,
    open_note,
    parse_note,
    sign_note,
)
from rempart.transparency.proof import TlogProof, format_tlog_proof, parse_tlog_proof, verify_tlog_proof
from rempart.transparency.tiledlog import (
    LogClient,
    TileHashReader,
    directory_fetcher,
    url_fetcher,
    write_checkpoint,
    write_tiles,
)
from rempart.transparency.reports import report_document, report_summary, statements_for
from rempart.transparency.verify import (
    Site,
    Verdict,
    load_verifier,
    verify_published_consistency,
    verify_published_report,
    verify_receipt,
)
from rempart.transparency.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    format_entry_bundle,
    format_tile_index,
    new_tiles,
    parse_entry_bundle,
    parse_tile_index,
    parse_tile_path,
    tiles_for_size,
)

__all__ = [
    "HASH_LIST_CLASSIFICATION",
    "Checkpoint",
    "CosignatureSigner",
    "CosignatureVerifier",
    "DEFAULT_ORIGIN",
    "Decision",
    "EMPTY_ROOT",
    "Ed25519Signer",
    "Ed25519Verifier",
    "HASH_SIZE",
    "HashReader",
    "InvalidSignature",
    "LogClient",
    "LogUnavailable",
    "MemoryHashStore",
    "Note",
    "Report",
    "Signature",
    "Signer",
    "NOTICE_OUTCOMES",
    "NOTICE_SOURCES",
    "Notice",
    "Site",
    "StatementInput",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Tile",
    "TileHashReader",
    "TlogProof",
    "UnverifiedNote",
    "Verdict",
    "VerificationError",
    "Verifier",
    "WitnessPolicy",
    "bucket_time_to_action",
    "hash_match_source_type",
    "build_statement",
    "check_commitment",
    "check_report",
    "check_statement",
    "consistency_proof",
    "cosignature_timestamp",
    "cosigned_message",
    "directory_fetcher",
    "format_checkpoint",
    "format_decision_leaf",
    "format_notice_leaf",
    "format_entry_bundle",
    "format_report_leaf",
    "format_tile_index",
    "format_tlog_proof",
    "generate_key",
    "inclusion_proof",
    "key_id",
    "leaf_classification",
    "leaf_hash",
    "load_or_create_signer",
    "load_verifier",
    "make_commitment",
    "make_puid",
    "median_time_to_action",
    "new_tiles",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_day_leaf",
    "parse_decision_leaf",
    "parse_notice_leaf",
    "parse_entry_bundle",
    "parse_note",
    "parse_report_leaf",
    "parse_tile_index",
    "parse_tile_path",
    "parse_tlog_proof",
    "recount",
    "recount_notices",
    "split_day",
    "report_document",
    "report_summary",
    "root_from_inclusion",
    "sign_checkpoint",
    "sign_note",
    "statement_of_reasons",
    "statement_problems",
    "statements_for",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes_for_leaf",
    "territorial_scope",
    "tiles_for_size",
    "tree_hash",
    "url_fetcher",
    "verify_consistency",
    "verify_inclusion",
    "verify_published_consistency",
    "verify_published_report",
    "verify_receipt",
    "verify_tlog_proof",
    "write_checkpoint",
    "write_tiles",
]
