"""The append-only audit log: a closed vocabulary of events, a table no one can edit, and
reading/export for leads."""

from rempart.audit.events import AuditEvent
from rempart.audit.service import AuditFilter, entry_json, export_jsonl, read, record

__all__ = ["AuditEvent", "AuditFilter", "entry_json", "export_jsonl", "read", "record"]
