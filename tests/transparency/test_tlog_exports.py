"""The package's public names are pinned: adding or removing one is a deliberate change."""

from __future__ import annotations

import rempart.transparency as transparency
from rempart.errors import InvalidInput

PUBLIC = {
    "EMPTY_ROOT", "HASH_SIZE", "TILE_HEIGHT", "TILE_WIDTH",
    "Checkpoint", "CosignatureSigner", "CosignatureVerifier", "Decision", "Ed25519Signer",
    "Ed25519Verifier", "HashReader", "InvalidSignature", "LogClient", "LogUnavailable", "MemoryHashStore", "Note",
    "Report", "Signature", "Signer", "Tile", "TileHashReader", "TlogProof", "UnverifiedNote",
    "VerificationError", "Verifier", "WitnessPolicy",
    "check_commitment", "check_report", "consistency_proof", "cosignature_timestamp",
    "cosigned_message", "directory_fetcher", "format_checkpoint", "format_decision_leaf",
    "format_entry_bundle", "format_report_leaf", "format_tile_index", "format_tlog_proof",
    "generate_key", "inclusion_proof", "key_id", "leaf_hash", "make_commitment", "new_tiles",
    "node_hash", "open_checkpoint", "open_note", "parse_checkpoint", "parse_decision_leaf",
    "parse_entry_bundle", "parse_note", "parse_report_leaf", "parse_tile_index", "parse_tile_path",
    "parse_tlog_proof", "recount", "root_from_inclusion", "sign_checkpoint", "sign_note",
    "stored_hash_count", "stored_hash_index", "stored_hashes_for_leaf", "tiles_for_size",
    "tree_hash", "url_fetcher", "verify_consistency", "verify_inclusion", "verify_tlog_proof",
    "write_checkpoint", "write_tiles",
    # the verifier side of issue 4 (published reports, statements of reasons, receipts, keys)
    "DEFAULT_ORIGIN", "Site", "Verdict", "load_or_create_signer", "load_verifier", "report_document",
    "report_summary", "statement_of_reasons", "statements_for", "verify_published_consistency",
    "verify_published_report", "verify_receipt",
    # notices (issue 9): their leaves, and the days that count them
    "NOTICE_OUTCOMES", "NOTICE_SOURCES", "Notice", "format_notice_leaf", "parse_day_leaf",
    "parse_notice_leaf", "recount_notices", "split_day",
    # targets and time to action (banned spaces, median time to action)
    "bucket_time_to_action", "median_time_to_action", "hash_match_source_type",
    # the one builder of DSA statements of reasons and the Transparency Database's schema
    "HASH_LIST_CLASSIFICATION", "StatementInput", "build_statement", "check_statement", "leaf_classification", "make_puid",
    "statement_problems", "territorial_scope",
}  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert set(transparency.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(transparency, name) is not None


def test_errors_are_safe_to_show_input_errors() -> None:
    for err in (transparency.VerificationError, transparency.InvalidSignature, transparency.UnverifiedNote):
        assert issubclass(err, InvalidInput) and err.safe_to_show
    assert transparency.VerificationError.type == "verification-failed"


def test_pure_modules_import_only_stdlib_and_cryptography() -> None:
    import ast
    import sys
    from pathlib import Path

    allowed = set(sys.stdlib_module_names) | {"cryptography", "rempart"}
    for path in Path(transparency.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [node.module.split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{path.name} imports {roots}"
            if "rempart" in roots and isinstance(node, ast.ImportFrom):
                assert node.module in ("rempart.errors",) or node.module.startswith("rempart.transparency"), path.name
