"""Mandatory reports to NCMEC's CyberTipline: report XML, the submission state machine, the
HTTP client and a local test server implementing the documented protocol.

- ``report``      the report model and the <report> / <fileDetails> documents
- ``protocol``    endpoints, response documents, response codes and their families (pure)
- ``state``       ``Submission``: the resumable, persisted progress of one report (pure)
- ``client``      ``CyberTiplineClient`` (httpx), ``submit_report`` (the driver) and
                  ``reconcile`` (a person settles a lost /submit or resubmits a retracted report)
- ``testserver``  ``CyberTiplineTestServer``, for tests and the demo (imported on its own)

Other packages import only the names below.
"""

from rempart.legal.cybertipline.client import CyberTiplineClient, Reconcile, reconcile, submit_report
from rempart.legal.cybertipline.protocol import (
    PRODUCTION_URL, TESTING_URL, Family, Response, ResponseCode, family, parse_response,
)
from rempart.legal.cybertipline.report import (
    CyberTipReport, FileRelevance, IncidentType, IpEvent, IpEventName, Person, ReportedUser,
    ReportFile, Reporter, check_report, file_details_xml, report_xml,
)
from rempart.legal.cybertipline.state import PRESERVATION_AFTER_REPORT, Phase, Step, Submission

__all__ = [
    "PRESERVATION_AFTER_REPORT", "PRODUCTION_URL", "TESTING_URL", "CyberTipReport", "CyberTiplineClient",
    "Family", "FileRelevance", "IncidentType", "IpEvent", "IpEventName", "Person", "Phase", "Reconcile", "ReportFile",
    "ReportedUser", "Reporter", "Response", "ResponseCode", "Step", "Submission", "check_report", "family",
    "file_details_xml", "parse_response", "reconcile", "report_xml", "submit_report",
]
