"""The law-enforcement desk's pure core: orders, legal clocks, disclosure packages.

No database, no web framework: standard library, ``cryptography`` (through the transparency
package's signed notes) and, in ``cybertipline``, httpx.

- ``vocab``        closed vocabularies (order kinds, data categories, authorities, Form 3 reasons)
- ``orders``       the typed EPOC / EPOC-PR / emergency request, parsed and validated from JSON
- ``etsi``         an order as an ETSI TS 103 120 HI-1 message, and the mapping as data
- ``clocks``       the legal clock of an order: deadlines, pauses, warnings, holds, history
- ``manifest``     a disclosure package's MANIFEST and SIGNATURE formats
- ``package``      writing a disclosure package (directory or canonical .zip), verifying one
- ``cybertipline`` NCMEC CyberTipline reports (subpackage, imported on its own)

Other packages import only the names below.
"""

from rempart.legal.clocks import (
    EMERGENCY_PRODUCTION, PRESERVATION, PRESERVATION_EXTENSION, PRODUCTION, WARNINGS, ClockKind,
    ClockSpec, ClockState, Event, EventKind, HistoryEntry, Sla, Status, apply, replay,
)
from rempart.legal.errors import ClockEventRejected, OrderFormatError, PackageError, PackageProblem
from rempart.legal.etsi import to_ts103120
from rempart.legal.manifest import Manifest, manifest_digest, parse_manifest
from rempart.legal.orders import (
    Authority, Contact, Offence, Order, Related, Target, Threat, TimeRange, order_bytes,
    order_to_json, parse_order,
)
from rempart.legal.package import (
    CustodyEvent, MediaFile, PackageInfo, build_package, read_manifest, verify_package,
)
from rempart.legal.vocab import (
    AuthorityKind, CustodyAction, DataCategory, Form3Reason, ListedOffence, OrderKind, Purpose,
    RelatedKind, TargetType, ThreatKind,
)

__all__ = [
    "EMERGENCY_PRODUCTION", "PRESERVATION", "PRESERVATION_EXTENSION", "PRODUCTION", "WARNINGS",
    "Authority", "AuthorityKind", "ClockEventRejected", "ClockKind", "ClockSpec", "ClockState",
    "Contact", "CustodyAction", "CustodyEvent", "DataCategory", "Event", "EventKind", "Form3Reason",
    "ListedOffence", "Manifest", "MediaFile", "Offence", "Order", "OrderFormatError", "OrderKind",
    "PackageError", "PackageInfo", "PackageProblem", "Purpose", "Related", "RelatedKind", "Sla",
    "Status", "HistoryEntry", "Target", "TargetType", "Threat", "ThreatKind", "TimeRange", "apply",
    "build_package", "manifest_digest", "order_bytes", "order_to_json", "parse_manifest",
    "parse_order", "read_manifest", "replay", "to_ts103120", "verify_package",
]
