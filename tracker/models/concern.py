"""A Martha's Rule concern (docs/architecture.md#concerns-and-their-clocks): who raised it, about whom, what worries them, and the
clocks its lifecycle sets."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.coding import (
    AgeGroup,
    CallerUpdateMethod,
    CancelKind,
    ConcernType,
    DeteriorationOutcome,
    LocalReason,
    ReviewKind,
)
from tracker.models.hospital import Site, Team, Ward, str_enum
from tracker.models.people import User
from tracker.problems import Problem

JSONType = JSON().with_variant(JSONB(), "postgresql")


class CallerRoute(str, enum.Enum):
    """The three routes NHS England counts (docs/facts.md#nhs-englands-monthly-return)."""

    PATIENT = "patient"
    FAMILY = "family_carer_advocate"
    STAFF = "staff"
    # A text-in call (services/concerns/text_in.py): not yet known until a clinician has phoned back. Counted in
    # the month's total only, and the month's return is not final while any call has it.
    UNKNOWN = "not_yet_known"


class Channel(str, enum.Enum):
    TABLET = "tablet"
    OWN_DEVICE = "own_device"
    PHONE_CALL = "phone_call"
    STAFF = "staff"
    STAFF_ASSISTED = "staff_assisted"
    SMS = "sms"  # raised from a text: a follow-up after the caller's call ended, or a text-in call


class WorryCategory(str, enum.Enum):
    """The warning signs trusts list for families (docs/facts.md#marthas-rule)."""

    NOT_USUAL_SELF = "not_usual_self"
    BREATHING = "breathing"
    SKIN_OR_SWEATING = "skin_or_sweating"
    LITTLE_URINE = "little_urine"
    SLEEPY_OR_CONFUSED = "sleepy_or_confused"
    HANDS_HOT_OR_COLD = "hands_hot_or_cold"
    PAIN = "pain"
    GENERAL_WORRY = "general_worry"


class SpokeToWard(str, enum.Enum):
    YES = "yes"
    NO = "no"


class NoteKind(str, enum.Enum):
    """Free text lives in notes, never in the audit trail (docs/architecture.md#concerns-and-their-clocks, #audit)."""

    NOTE = "note"
    CALLER_REPLY = "caller_reply"  # a text the caller sent back
    CALLER_OPTED_OUT = "caller_opted_out"  # the caller texted STOP, CANCEL or another opt-out word (the word)
    FINDINGS = "findings"
    RELEASE_REASON = "release_reason"
    HAND_OVER_REASON = "hand_over_reason"
    CANCEL_REASON = "cancel_reason"
    REOPEN_REASON = "reopen_reason"
    CLOSE_SUMMARY = "close_summary"


# A bleep or extension: 2 to 8 digits (docs/architecture.md#the-wards-calls).
CALLBACK_EXTENSION_MIN = 2
CALLBACK_EXTENSION_MAX = 8

# Clinician-set priority; none at intake.
PRIORITIES = {1: "Urgent", 2: "Soon", 3: "Routine"}


class ConcernStatus(str, enum.Enum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ForbiddenTransition(Problem):
    """The action is not allowed from the concern's current status."""

    def __init__(self, action: str, status: ConcernStatus):
        super().__init__(f"This call is {status.value}, so it cannot be {ACTION_PAST_TENSE[action]}.")
        self.action = action
        self.status = status


ACTION_PAST_TENSE = {
    "claim": "claimed",
    "release": "released",
    "hand_over": "handed over",
    "record_review": "reviewed",
    "close": "closed",
    "close_without_review": "closed without a review",
    "cancel": "cancelled",
    "reopen": "reopened",
}

# The whole lifecycle (docs/architecture.md#concerns-and-their-clocks): action -> (statuses it may start from, status it leads to).
# `None` as the target keeps the status (hand over moves the claim, not the status).
TRANSITIONS: dict[str, tuple[frozenset[ConcernStatus], ConcernStatus | None]] = {
    "claim": (frozenset({ConcernStatus.NEW}), ConcernStatus.ACKNOWLEDGED),
    "release": (frozenset({ConcernStatus.ACKNOWLEDGED}), ConcernStatus.NEW),
    "hand_over": (frozenset({ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED}), None),
    "record_review": (frozenset({ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED}), ConcernStatus.REVIEWED),
    "close": (frozenset({ConcernStatus.REVIEWED}), ConcernStatus.CLOSED),
    "close_without_review": (frozenset({ConcernStatus.ACKNOWLEDGED}), ConcernStatus.CLOSED),
    "cancel": (frozenset({ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED}), ConcernStatus.CANCELLED),
    "reopen": (frozenset({ConcernStatus.CLOSED}), ConcernStatus.ACKNOWLEDGED),
}

OPEN_STATUSES = frozenset({ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED})

# The open calls, written out literally: the partial index below covers exactly these rows, and
# a query can only use it when its condition is spelled the same way (not with bound parameters).
OPEN_STATUS_SQL = "status IN ('new', 'acknowledged', 'reviewed')"
# A caller's text that nobody has read yet: a handful of calls among hundreds of thousands, found by the two
# partial indexes below (docs/architecture.md#the-queue). A query uses them only when it says exactly this.
UNREAD_REPLY_SQL = "unread_reply = true"


def next_status(current: ConcernStatus, action: str) -> ConcernStatus:
    """The status `action` leads to from `current`; raises ForbiddenTransition otherwise."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise ForbiddenTransition(action, current)
    return current if target is None else target


# The report index's columns: site and local month (the range read), then the status and coding
# the counts are grouped by, in that order, then the rest the dashboard reads.
REPORT_GROUPS = (
    "status",
    "cancel_kind",
    "caller_route",
    "concern_type",
    "clinical_review_needed",
    "deterioration_outcome",
    "change_in_care",
)
REPORT_INDEX = (
    "site_id",
    "raised_local_month",
    *REPORT_GROUPS,
    "raised_local_date",
    "team_id",
    "raised_local_seconds",
    "raised_local_weekday",
    "to_first_alert_us",
    "to_acknowledge_us",
    "to_review_us",
    "to_caller_updated_us",
    "raised_at",
    "id",
)


def _where(condition: str) -> dict:
    """A partial index's condition, for both databases."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Concern(Base):
    __tablename__ = "concern"
    __table_args__ = (
        # The queue: open calls by status, then age (docs/architecture.md#concerns-and-their-clocks).
        Index("ix_concern_status_raised_at", "status", "raised_at"),
        Index("ix_concern_team_status", "team_id", "status"),
        Index("ix_concern_ward_raised_at", "ward_id", "raised_at"),
        Index("ix_concern_ward_updated_at", "ward_id", "updated_at"),  # the ward's list refresh
        Index("ix_concern_team_updated_at", "team_id", "updated_at"),
        Index("ix_concern_ward_repeat_key", "ward_id", "repeat_key"),
        Index("ix_concern_site_updated_at", "site_id", "updated_at"),
        Index("ix_concern_site_raised_at", "site_id", "raised_at"),  # exports by site and period
        # The dashboard and the monthly return read a site's calls for a run of local months from
        # these two indexes alone (no table rows), grouped in the indexes' own order (no sorting):
        # the counts by status and coding, then everything else they filter, count or sort...
        Index("ix_concern_report", *REPORT_INDEX),
        # ... and the calls by hour of the day and ward.
        Index(
            "ix_concern_report_hour",
            "site_id",
            "raised_local_month",
            "raised_local_hour",
            "ward_id",
            "raised_local_date",
            "status",
            "cancel_kind",
        ),
        # A few hundred open calls among hundreds of thousands: the queue reads only this index.
        Index(
            "ix_concern_open_team",
            "team_id",
            "raised_at",
            sqlite_where=text(OPEN_STATUS_SQL),
            postgresql_where=text(OPEN_STATUS_SQL),
        ),
        # The queue's follow-up texts (a caller's text after the call ended) by team, or by site for a manager.
        *(
            Index(f"ix_concern_unread_reply_{by}", f"{by}_id", "updated_at", **_where(UNREAD_REPLY_SQL))
            for by in ("team", "site")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown to the caller and read out on the phone; unguessable enough not to be enumerated,
    # never a credential (knowing it grants nothing).
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    # One per rendered form: a double click or a retried POST creates one concern.
    submission_id: Mapped[str] = mapped_column(String(64), unique=True)

    # Where: the ward, and the site and team it had when the concern was raised.
    # None only for a text-in call until a clinician sets it: such a call belongs to its team's site.
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    bed: Mapped[str | None] = mapped_column(String(60))

    # About whom.
    patient_name: Mapped[str | None] = mapped_column(String(120))
    patient_dob: Mapped[date | None] = mapped_column(Date)
    local_reason: Mapped[LocalReason | None] = mapped_column(str_enum(LocalReason))
    # Texting the caller could put someone at risk: nothing more is texted to them (services/concerns/safeguarding.py).
    safeguarding: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Asked at close when no date of birth is known: decides the children's retention rule.
    age_group: Mapped[AgeGroup] = mapped_column(
        str_enum(AgeGroup, length=16), default=AgeGroup.UNKNOWN, server_default=AgeGroup.UNKNOWN.value
    )
    hospital_number: Mapped[str | None] = mapped_column(String(32))

    # Who raised it, and how to reach them.
    caller_route: Mapped[CallerRoute] = mapped_column(str_enum(CallerRoute))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    caller_relationship: Mapped[str | None] = mapped_column(String(60))
    callback_number: Mapped[str | None] = mapped_column(String(20))  # E.164
    # A bleep or extension, digits only, given on the staff route: for clinicians to call back on, never texted.
    callback_extension: Mapped[str | None] = mapped_column(String(CALLBACK_EXTENSION_MAX))
    # Whether that number can be texted at all (a mobile in an allowed country).
    callback_textable: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    preferred_language: Mapped[str | None] = mapped_column(String(60))
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the family said on the form's second page, after the alert had gone, that they need an interpreter:
    # flagged on the queue and the call so whoever has it knows (services/concerns/more_details.py).
    interpreter_added_at: Mapped[datetime | None]
    communication_needs: Mapped[str | None] = mapped_column(Text)

    # What worries them.
    worry_categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    worry_details: Mapped[str | None] = mapped_column(Text)
    spoke_to_ward: Mapped[SpokeToWard | None] = mapped_column(str_enum(SpokeToWard))
    ward_response: Mapped[str | None] = mapped_column(Text)

    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    status: Mapped[ConcernStatus] = mapped_column(str_enum(ConcernStatus), default=ConcernStatus.NEW)
    # Set by a clinician; none at intake.
    priority: Mapped[int | None] = mapped_column(Integer)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    # Abuse handling (docs/architecture.md#security): never a refusal, only a flag for staff and texts held back.
    # A digest of (patient, bed, worry, categories, number) in comparable form: an identical repeat
    # is found by one indexed lookup (services/concerns/intake.py).
    repeat_key: Mapped[str | None] = mapped_column(String(64))
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    last_repeat_at: Mapped[datetime | None]
    flagged_burst: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged_automated: Mapped[bool] = mapped_column(Boolean, default=False)

    # Clocks (docs/architecture.md#concerns-and-their-clocks): every metric is computed from these.
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_alert_sent_at: Mapped[datetime | None]  # the first alert paging someone for this call (not a reminder)
    acknowledged_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    caller_updated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Report facts (services/reports/report_facts.py): derived from the clocks above when they are set, so
    # the dashboard groups and sorts plain numbers. When the call was raised on the trust's wall
    # clock (its day, the first day of its month, its hour, seconds since midnight, weekday with
    # Monday 0), and each clock's duration from raising in whole microseconds (NULL until the step
    # happens).
    raised_local_date: Mapped[date | None] = mapped_column(Date)
    raised_local_month: Mapped[date | None] = mapped_column(Date)
    raised_local_hour: Mapped[int | None] = mapped_column(Integer)
    raised_local_seconds: Mapped[int | None] = mapped_column(Integer)
    raised_local_weekday: Mapped[int | None] = mapped_column(Integer)
    to_first_alert_us: Mapped[int | None] = mapped_column(BigInteger)
    to_acknowledge_us: Mapped[int | None] = mapped_column(BigInteger)
    to_review_us: Mapped[int | None] = mapped_column(BigInteger)
    to_caller_updated_us: Mapped[int | None] = mapped_column(BigInteger)
    # The last time anything shown in the queue changed (status, claim, a text's delivery):
    # the queue's refresh compares it to answer "nothing new" cheaply.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # The review and the outcome coding at close (docs/architecture.md#concerns-and-their-clocks).
    review_kind: Mapped[ReviewKind | None] = mapped_column(str_enum(ReviewKind))
    news2_total: Mapped[int | None] = mapped_column(Integer)
    news2_scale: Mapped[int | None] = mapped_column(Integer)
    news2_response: Mapped[str | None] = mapped_column(String(16))
    news2_parameters: Mapped[dict | None] = mapped_column(JSONType)
    concern_type: Mapped[ConcernType | None] = mapped_column(str_enum(ConcernType))
    clinical_review_needed: Mapped[bool | None] = mapped_column(Boolean)
    deterioration_outcome: Mapped[DeteriorationOutcome | None] = mapped_column(str_enum(DeteriorationOutcome))
    change_in_care: Mapped[list[str]] = mapped_column(JSONType, default=list)
    caller_update_method: Mapped[CallerUpdateMethod | None] = mapped_column(str_enum(CallerUpdateMethod))
    # "The team has seen the patient" delivered to the caller's phone: counted apart from
    # `caller_updated_at`, which only the clinician's record that the caller was told sets.
    caller_texted_at: Mapped[datetime | None]
    cancel_kind: Mapped[CancelKind | None] = mapped_column(str_enum(CancelKind))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"))
    # Linked calls (services/concerns/linking.py): a call about the same patient joined to the call the team works
    # (it follows that call from then on), and a new call raised from a caller's text after their call ended.
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"), index=True)
    linked_at: Mapped[datetime | None]
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"), index=True)

    # Escalation (docs/architecture.md#paging): the policy, frozen when the call was raised (who holds each tier is
    # looked up as each step fires); the next step to fire and when. The worker fires due steps; a claim clears the
    # time. `first_ack_at`: the first ACK while unclaimed, from which the ACK ceiling counts.
    escalation_plan: Mapped[dict | None] = mapped_column(JSONType)
    escalation_position: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)
    escalation_paused_until: Mapped[datetime | None]
    first_ack_at: Mapped[datetime | None]
    # When a closed call was last reopened: its new episode's review clock runs from here; the first
    # episode's clocks (first alert, claim, review, caller told) are never overwritten.
    reopened_at: Mapped[datetime | None]
    # A claimed call not reviewed by the target: 1 = claimant reminded, 2 = next tier told.
    review_nudges: Mapped[int] = mapped_column(Integer, default=0)
    next_review_nudge_at: Mapped[datetime | None] = mapped_column(index=True)
    # When staff first opened the call: until then a new call is a "New arrival" at the top of the queue.
    first_opened_at: Mapped[datetime | None]
    # A text from the caller arrived and nobody has opened the call since.
    unread_reply: Mapped[bool] = mapped_column(Boolean, default=False)

    # Retention (docs/facts.md#retention). A legal hold stops any purge; a serious incident or a complaint
    # lengthens the period. `purged_at`: the personal data has been destroyed and only this stub
    # (reference, dates, coded outcome) remains.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    purged_at: Mapped[datetime | None]

    ward: Mapped[Ward | None] = relationship()
    site: Mapped[Site] = relationship()
    team: Mapped[Team] = relationship()

    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    duplicate_of: Mapped[Concern | None] = relationship(remote_side=[id], foreign_keys=[duplicate_of_id])
    linked_to: Mapped[Concern | None] = relationship(remote_side=[id], foreign_keys=[linked_to_id])
    follows: Mapped[Concern | None] = relationship(remote_side=[id], foreign_keys=[follows_id])
    notes: Mapped[list[ConcernNote]] = relationship(back_populates="concern", order_by="ConcernNote.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ConcernNote(Base):
    """Free text about a concern: internal notes, findings and the reasons given for actions. Shown
    on the concern's timeline and purged with it; audit rows refer to notes by id."""

    __tablename__ = "concern_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[NoteKind] = mapped_column(str_enum(NoteKind))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    concern: Mapped[Concern] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()
