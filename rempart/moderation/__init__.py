"""Moderation: cases, queues, claims and clocks, wellness, decisions and actions, dual review,
appeals, webhooks to the platform, investigation and blast radius.

Pure modules (no database, no HTTP): ``vocab``, ``policy`` (taxonomy, statement of reasons),
``log_fields`` (decisions in the log's words), ``priority``, ``clocks`` (SLA, claim expiry,
appeal window), ``dual``, ``exposure``, ``signing`` (webhook HMAC, backoff), ``config`` (queues,
routes, settings). Pages render what ``preview`` (actions that fit a case, statements before
deciding), ``bulk`` (bulk actions) and ``wellness`` (blur limits) decide. Services take a SQLAlchemy
session and the acting ``rempart.authz.Actor`` explicitly and check its permission themselves.
"""

from rempart.moderation.actions import ActionRequest, PlannedAction, bank_item
from rempart.moderation.appeals import appeals_of_decision, decide_appeal, file_appeal
from rempart.moderation.bulk import BULK_ACTIONS, Confirmation, actions_for_entity, bulk_act
from rempart.moderation.cases import (
    FlaggedItem, NewCase, Opened, after_retro_hook, after_scan_hook, can_see, ensure_queues, get_case, load_case,
    open_case,
)
from rempart.moderation.clocks import Sla, SlaState, appeal_deadline
from rempart.moderation.config import ModerationConfig, QueueSpec, Route
from rempart.moderation.decisions import (
    actions_of_decision, decide, decisions_of_case, planned_actions, resolve_escalation, second_review,
)
from rempart.moderation.errors import (
    AlreadyDecided, AppealWindowClosed, ClaimConflict, ExposureLimitReached, HoldActive, NotClaimed,
)
from rempart.moderation.exposure import Exposure
from rempart.moderation.holds import active_holds, check_deletable, delete_case_data, release_hold
from rempart.moderation.investigate import BlastRadius, CaseView, blast_radius, case_view
from rempart.moderation.media import DirectoryMediaStore, MediaStore, ReviewMedia, review_media
from rempart.moderation.outbox import (
    DeliveryReport, OutboxWorker, add_endpoint, deliver_pending, failed_messages, outbox_status,
    retry_message,
)
from rempart.moderation.policy import DEFAULT_TAXONOMY, Policy, Taxonomy, statement_of_reasons
from rempart.moderation.preview import PreviewedAction, allowed_actions, preview_decision
from rempart.moderation.queues import (
    QueueStats, SlaWarning, case_sla, claim, list_cases, my_claims, next_case, queue_stats, release,
    sla_warnings, visible_queues,
)
from rempart.moderation.vocab import ActionKind, CaseSource, CaseStatus, DecisionStatus
from rempart.moderation.wellness import (
    MAX_BLUR, MIN_BLUR, DisplaySettings, display_settings, get_prefs, my_exposure, reveal, set_prefs,
    team_exposure,
)

__all__ = [
    "BULK_ACTIONS", "MAX_BLUR", "MIN_BLUR", "PreviewedAction", "actions_for_entity",
    "allowed_actions", "preview_decision",
    "DEFAULT_TAXONOMY", "ActionKind", "ActionRequest", "AlreadyDecided", "AppealWindowClosed", "BlastRadius",
    "CaseSource", "CaseStatus", "CaseView", "ClaimConflict", "Confirmation", "DecisionStatus",
    "DeliveryReport", "DirectoryMediaStore", "DisplaySettings", "MediaStore", "ReviewMedia", "Exposure", "ExposureLimitReached", "FlaggedItem",
    "HoldActive", "ModerationConfig", "NewCase", "NotClaimed", "Opened", "OutboxWorker",
    "PlannedAction", "Policy", "QueueSpec", "QueueStats", "Route", "Sla", "SlaState",
    "SlaWarning", "Taxonomy", "actions_of_decision", "active_holds", "add_endpoint", "after_retro_hook", "after_scan_hook",
    "appeal_deadline", "appeals_of_decision", "bank_item", "blast_radius", "bulk_act",
    "can_see", "case_sla", "case_view", "check_deletable", "claim", "decide", "decide_appeal",
    "decisions_of_case", "delete_case_data", "deliver_pending", "display_settings",
    "ensure_queues", "failed_messages", "file_appeal", "get_case", "get_prefs", "list_cases", "load_case",
    "my_claims", "my_exposure", "next_case", "open_case", "outbox_status", "planned_actions", "queue_stats",
    "release", "release_hold", "resolve_escalation", "retry_message", "reveal", "review_media", "second_review", "set_prefs",
    "sla_warnings", "statement_of_reasons", "team_exposure", "visible_queues",
]
