"""The outbox (docs/architecture.md#messages): every text or call is a row written in the same transaction as the
change that caused it, and sent later by the worker. Our send state and the provider's delivery
status are kept apart."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.concern import Concern, JSONType
from tracker.models.hospital import str_enum
from tracker.models.people import User


class MessageChannel(str, enum.Enum):
    SMS = "sms"
    VOICE = "voice"


class Audience(str, enum.Enum):
    """Who reads it decides what it may say: family texts carry no clinical detail."""

    FAMILY = "family"
    CLINICIAN = "clinician"


class RecipientKind(str, enum.Enum):
    CALLER = "caller"  # the person who raised the concern
    USER = "user"  # a staff account's mobile
    CONTACT = "contact"  # a configured number: the team's duty phone, a nurse in charge


class SendState(str, enum.Enum):
    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # leased by a worker until lease_until
    UNKNOWN = "unknown"  # the provider may have it: reconcile before any resend
    ACCEPTED = "accepted"  # the provider took it (delivery status follows separately)
    DEAD = "dead"  # permanent failure, with a plain-English reason
    CANCELLED = "cancelled"  # no longer wanted (the call was claimed, closed, escalated past)
    HELD = "held"  # held back by an abuse limit; staff can see why, nothing sends it


FINAL_SEND_STATES = frozenset({SendState.ACCEPTED, SendState.DEAD, SendState.CANCELLED, SendState.HELD})


# The provider's delivery status, kept apart from our send state (docs/architecture.md#messages).
# Forward order of the provider's delivery statuses (docs/architecture.md#messages). Failures are final: nothing
# after them changes the status. Texts and calls have their own words; both share the ranks.
FINAL = 9
STATUS_RANK = {
    # texts
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "read": 6,
    "undelivered": FINAL,
    "failed": FINAL,
    "canceled": FINAL,
    # calls
    "initiated": 2,
    "ringing": 3,
    "in-progress": 4,
    "answered": 4,
    "completed": 5,
    "busy": FINAL,
    "no-answer": FINAL,
}
SMS_FAILURES = frozenset({"undelivered", "failed", "canceled"})
CALL_FAILURES = frozenset({"busy", "no-answer", "failed", "canceled"})
ALERT_FAILURE_STATUSES = SMS_FAILURES | CALL_FAILURES
# A call that rang out or was busy is what happens when nobody answers at night: paging moves on,
# but it is not a fault for the failed-messages page. A call that failed is.
CALL_NOT_ANSWERED = frozenset({"busy", "no-answer"})

# Keyed by str | None to be looked up with a report's status, which a report may lack.
NOT_ANSWERED_REASON: dict[str | None, str] = {
    "busy": "The phone was busy, so the call was not answered.",
    "no-answer": "Nobody answered the call.",
}


def status_rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", 0)


def moves_forward(current: str | None, new: str | None) -> bool:
    """Whether a report of `new` should replace `current` (never backwards, never past a final)."""
    return status_rank(current) < FINAL and status_rank(new) > status_rank(current)


def is_delivery_failure(channel: MessageChannel, status: str | None) -> bool:
    return status in (CALL_FAILURES if channel is MessageChannel.VOICE else SMS_FAILURES)


UNSENT_FAMILY_SQL = "audience = 'family' AND channel = 'sms' AND send_state IN ('cancelled', 'dead')"


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_due", "send_state", "next_attempt_at"),
        # The dashboard's texts about a period's calls (services/reports/dashboard.py), read without the table.
        Index(
            "ix_message_report",
            "concern_id",
            "channel",
            "audience",
            "send_state",
            "delivery_status",
            "error_code",
            "to_number",
        ),
        # Callers' texts cancelled or failed, by number: the dashboard's texts to numbers opted out since
        # (services/reports/rollup_sums.py: `opted_out_now`), read without the table. Only these few rows.
        Index(
            "ix_message_unsent_family",
            "to_number",
            "concern_id",
            "error_code",
            sqlite_where=text(UNSENT_FAMILY_SQL),
            postgresql_where=text(UNSENT_FAMILY_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"), index=True)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience))
    channel: Mapped[MessageChannel] = mapped_column(str_enum(MessageChannel), default=MessageChannel.SMS)
    recipient_kind: Mapped[RecipientKind] = mapped_column(str_enum(RecipientKind))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A coded description of a CONTACT recipient, e.g. "team_duty_phone".
    recipient_role: Mapped[str | None] = mapped_column(String(40))
    to_number: Mapped[str] = mapped_column(String(20))  # E.164

    # Never free text from a request: a template file, its variables and the locale.
    template_id: Mapped[str] = mapped_column(String(64))
    variables: Mapped[dict] = mapped_column(JSONType, default=dict)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    # Which escalation step sent it (clinician alerts): an alert escalated past is not sent late.
    escalation_step: Mapped[int | None] = mapped_column(Integer)

    send_state: Mapped[SendState] = mapped_column(str_enum(SendState), default=SendState.PENDING)
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]

    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The provider's delivery status (queued, sent, delivered, undelivered, failed; for calls
    # ringing, completed, busy, no-answer...), apart from our send state.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_status_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(20))
    # Shown to staff, in plain English.
    error_reason: Mapped[str | None] = mapped_column(String(300))

    # The text as sent, kept as the record NHS IG guidance asks for (docs/facts.md#texting-patients-and-families).
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # A failed message that staff have dealt with: resent (to a corrected number) or handled
    # another way (they phoned instead). Until then it is on the failed-messages page.
    dealt_with_at: Mapped[datetime | None]
    dealt_with_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resend_of_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))

    concern: Mapped[Concern | None] = relationship()
    recipient_user: Mapped[User | None] = relationship(foreign_keys=[recipient_user_id])


INBOUND_ONLY = "kind = 'inbound'"


class MessageEvent(Base):
    """Everything the provider told us: status callbacks, inbound texts, keypresses. Kept as
    received, so duplicate and out-of-order callbacks can be seen and do no harm."""

    __tablename__ = "message_event"
    __table_args__ = (
        Index("ix_message_event_sid", "provider_sid"),
        # One received text is kept once, however often and however fast the provider delivers it (outbox/inbound.py).
        Index(
            "uq_message_event_inbound_token",
            "idempotency_token",
            unique=True,
            sqlite_where=text(INBOUND_ONLY),
            postgresql_where=text(INBOUND_ONLY),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # status, inbound, keypress
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(20))
    from_number: Mapped[str | None] = mapped_column(String(20))
    # The parameters as received (an inbound text's words are personal data: purged with the concern).
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    idempotency_token: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
