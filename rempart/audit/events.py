"""The closed vocabulary of audit events: everything the console records, and nothing else."""

from __future__ import annotations

import enum


class AuditEvent(str, enum.Enum):
    # people and sessions
    USER_CREATED = "user.created"
    USER_DISABLED = "user.disabled"
    PASSWORD_CHANGED = "user.password-changed"
    LOGIN_SUCCEEDED = "session.login"
    LOGIN_FAILED = "session.login-failed"
    SESSION_REVOKED = "session.revoked"
    # cases and queues
    QUEUE_CREATED = "queue.created"
    CASE_OPENED = "case.opened"
    CASE_EXTENDED = "case.extended"
    CASE_VIEWED = "case.viewed"
    CASE_CLAIMED = "case.claimed"
    CLAIM_RELEASED = "case.claim-released"
    CASE_DATA_DELETED = "case.data-deleted"
    # wellness
    MEDIA_VIEWED = "media.viewed"  # shown as the reviewer's settings say (blurred unless revealed)
    MEDIA_REVEALED = "media.revealed"
    PREFERENCES_CHANGED = "preferences.changed"
    # decisions and actions
    DECISION_PROPOSED = "decision.proposed"
    SECOND_REVIEW_AGREED = "decision.second-agreed"
    SECOND_REVIEW_DISAGREED = "decision.second-disagreed"
    ESCALATION_RESOLVED = "decision.escalation-resolved"
    DECISION_FINAL = "decision.final"
    DECISION_RETURNED = "decision.returned"
    ACTION_APPLIED = "action.applied"
    ACTION_REVERSED = "action.reversed"
    HOLD_PLACED = "hold.placed"
    HOLD_RELEASED = "hold.released"
    HOLD_EXPIRED = "hold.expired"
    ACCOUNT_DATA_DELETED = "account.data-deleted"
    RETENTION_SWEPT = "retention.swept"
    GAG_PLACED = "gag.placed"
    GAG_LIFTED = "gag.lifted"
    NOTIFICATION_WITHHELD = "notification.withheld"
    REFERRAL_RECORDED = "referral.recorded"
    CASE_FACT_RECORDED = "case.fact-recorded"  # a fact for mandatory reports (publicly available)
    WEBHOOK_ENDPOINT_ADDED = "webhook.endpoint-added"
    WEBHOOK_DELIVERED = "webhook.delivered"
    WEBHOOK_FAILED = "webhook.failed"
    WEBHOOK_RETRIED = "webhook.retried"
    # appeals
    APPEAL_FILED = "appeal.filed"
    APPEAL_DECIDED = "appeal.decided"
    # investigation
    INVESTIGATION_VIEWED = "investigation.viewed"
    BLAST_RADIUS_VIEWED = "investigation.blast-radius"
    BULK_ACTION = "investigation.bulk-action"
    # hotline
    ORG_CREATED = "org.created"
    ORG_KEY_ISSUED = "org.key-issued"
    ORG_KEY_REVOKED = "org.key-revoked"
    ORG_SUSPENDED = "org.suspended"
    ORG_REINSTATED = "org.reinstated"
    NOTICE_OUTCOME = "notice.outcome"
    HASHES_CONFIRMED = "notice.hashes-confirmed"
    HASHES_REJECTED = "notice.hashes-rejected"
    # the audit log itself
    # the law-enforcement desk
    AGENCY_ADDED = "legal.agency-added"
    OFFICER_ADDED = "legal.officer-added"
    ORDER_RECEIVED = "legal.order-received"
    ORDER_REFUSED = "legal.order-refused"  # credentials or body refused: nothing was created
    ORDER_VIEWED = "legal.order-viewed"
    ORDER_EVENT = "legal.order-event"  # a clock event (clarification, answer, extension...)
    RECORDS_COLLECTED = "legal.records-collected"
    PACKAGE_SIGNED = "legal.package-signed"
    PACKAGE_DOWNLOADED = "legal.package-downloaded"
    EMERGENCY_APPROVED = "legal.emergency-approved"
    CALLBACK_RECORDED = "legal.callback-recorded"
    ORDER_REVEALED = "legal.order-revealed"
    TIPLINE_SUBMITTED = "legal.tipline-submitted"
    TIPLINE_FAILED = "legal.tipline-failed"
    TIPLINE_RECONCILED = "legal.tipline-reconciled"  # a person settled a lost /submit
    AUDIT_READ = "audit.read"
    AUDIT_EXPORTED = "audit.exported"
