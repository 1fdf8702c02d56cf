"""Typed SQLAlchemy 2 models, one module per concept."""

from tracker.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from tracker.models.base import Base
from tracker.models.concern import (
    OPEN_STATUS_SQL,
    OPEN_STATUSES,
    PRIORITIES,
    TRANSITIONS,
    CallerRoute,
    CallerUpdateMethod,
    CancelKind,
    ChangeInCare,
    Channel,
    Concern,
    ConcernNote,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    ForbiddenTransition,
    NoteKind,
    ReviewKind,
    SpokeToWard,
    WorryCategory,
    next_status,
)
from tracker.models.confirmation import Confirmation
from tracker.models.hospital import (
    FamilyRouteStatus,
    Population,
    Settings,
    Site,
    SiteImplementation,
    StaffRouteStatus,
    Team,
    Ward,
)
from tracker.models.outbox import (
    FINAL_SEND_STATES,
    Audience,
    Message,
    MessageChannel,
    MessageEvent,
    RecipientKind,
    SendState,
)
from tracker.models.people import MFA_ROLES, Role, SavedForm, SessionRecord, SignInThrottle, User, user_team
from tracker.models.records import AuditCheckpoint, ExportKind, ExportLog
from tracker.models.rota import (
    AlertChannel,
    EscalationPolicy,
    EscalationStep,
    RotaPattern,
    Shift,
    ShiftKind,
    SmsOptOut,
    Tier,
)
from tracker.models.system import SystemAlarm, WorkerHeartbeat

__all__ = [
    "GENESIS_HASH", "OPEN_STATUS_SQL", "OPEN_STATUSES", "PRIORITIES", "TRANSITIONS", "FINAL_SEND_STATES", "MFA_ROLES",
    "CallerUpdateMethod", "CancelKind", "ChangeInCare", "ConcernNote", "ConcernType", "DeteriorationOutcome",
    "NoteKind", "ReviewKind", "SavedForm", "SessionRecord", "SignInThrottle", "Confirmation", "user_team", "AlertChannel", "EscalationPolicy",
    "EscalationStep", "MessageEvent", "RotaPattern", "Shift", "ShiftKind", "SmsOptOut", "Tier",
    "Audience", "AuditChainHead", "AuditCheckpoint", "AuditEvent", "ExportKind", "ExportLog", "Base", "CallerRoute", "Channel", "Concern",
    "ConcernStatus", "ForbiddenTransition", "Message", "MessageChannel", "Population",
    "RecipientKind", "Role", "FamilyRouteStatus", "SiteImplementation", "StaffRouteStatus", "SendState", "Settings", "Site", "SpokeToWard", "SystemAlarm", "Team",
    "User", "Ward", "WorkerHeartbeat", "WorryCategory", "next_status",
]
