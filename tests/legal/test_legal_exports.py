"""The legal core's public names are pinned, its errors sit in the project's tree, and it stays
pure: no database, no web framework (httpx only in the CyberTipline client)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import rempart.legal as legal
import rempart.legal.cybertipline as cybertipline
from rempart.errors import Conflict, InvalidInput, RempartError
from rempart.legal import errors

LEGAL = {
    "EMERGENCY_PRODUCTION", "PRESERVATION", "PRESERVATION_EXTENSION", "PRODUCTION", "WARNINGS",
    "Authority", "AuthorityKind", "ClockEventRejected", "ClockKind", "ClockSpec", "ClockState", "Contact",
    "CustodyAction", "CustodyEvent", "DataCategory", "Event", "EventKind", "Form3Reason", "HistoryEntry",
    "ListedOffence", "Manifest", "MediaFile", "Offence", "Order", "OrderFormatError", "OrderKind",
    "PackageError", "PackageInfo", "PackageProblem", "Purpose", "Related", "RelatedKind", "Sla", "Status",
    "Target", "TargetType", "Threat", "ThreatKind", "TimeRange",
    "apply", "build_package", "manifest_digest", "order_bytes", "order_to_json", "parse_manifest",
    "parse_order", "read_manifest", "replay", "to_ts103120", "verify_package",
}  # fmt: skip
CYBERTIPLINE = {
    "PRESERVATION_AFTER_REPORT", "PRODUCTION_URL", "TESTING_URL", "CyberTipReport", "CyberTiplineClient",
    "Family", "FileRelevance", "IncidentType", "IpEvent", "IpEventName", "Person", "Phase", "Reconcile", "ReportFile",
    "ReportedUser", "Reporter", "Response", "ResponseCode", "Step", "Submission", "check_report", "family",
    "file_details_xml", "parse_response", "reconcile", "report_xml", "submit_report",
}  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert set(legal.__all__) == LEGAL
    assert set(cybertipline.__all__) == CYBERTIPLINE
    for module, names in ((legal, LEGAL), (cybertipline, CYBERTIPLINE)):
        for name in names:
            assert getattr(module, name) is not None


def test_errors_belong_to_the_project_tree() -> None:
    assert issubclass(errors.OrderFormatError, InvalidInput) and errors.OrderFormatError.safe_to_show
    assert issubclass(errors.PackageProblem, InvalidInput) and issubclass(errors.ClockEventRejected, Conflict)
    for cls in (errors.CyberTiplineUnavailable, errors.CyberTiplineAuthError, errors.CyberTiplineRejected,
                errors.SubmissionUncertain):
        assert issubclass(cls, errors.CyberTiplineError) and issubclass(cls, RempartError)
        assert not cls.safe_to_show
    types = [c.type for c in vars(errors).values() if isinstance(c, type) and issubclass(c, RempartError)
             and c.__module__ == errors.__name__]
    assert len(types) == len(set(types)), "each error has its own stable type"


def test_the_core_is_pure() -> None:
    root = Path(legal.__file__).parent
    stdlib = set(sys.stdlib_module_names)
    allowed_rempart = {"rempart.errors", "rempart.transparency", "rempart.legal", "rempart.localserver"}
    for path in sorted(root.rglob("*.py")):
        if "db" in path.relative_to(root).parts[:-1]:
            continue  # rempart.legal.db: the desk's database side, above the pure core
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "rempart":
                    assert any(name == a or name.startswith(a + ".") for a in allowed_rempart), (path.name, name)
                    assert not name.startswith("rempart.transparency.db"), (path.name, name)
                elif top == "httpx":
                    assert path.name == "client.py", f"{path.name} imports httpx"
                else:
                    assert top in stdlib or top == "cryptography", (path.name, name)
