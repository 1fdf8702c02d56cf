"""Putting texts into the outbox (docs/architecture.md#messages). Nothing here talks to a provider: rows are added
in the caller's transaction and the worker sends them after commit."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from flask import current_app
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Audience, CallerRoute, Concern, Message, MessageChannel, RecipientKind, SendState
from tracker.services import alarms
from tracker.services.concerns import abuse
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.setup.settings import TrustSettings

if TYPE_CHECKING:  # concerns imports this module
    from tracker.services.concerns.intake import NewConcern

WARD_NAME_IN_ALERT = 40  # keeps a clinician alert within its two segments


class FamilyText(str, enum.Enum):
    """Whether the caller gets a receipt by text, and if not, why: the confirmation page says so."""

    QUEUED = "queued"
    NO_NUMBER = "no_number"
    NO_CONSENT = "no_consent"
    NOT_TEXTABLE = "not_textable"
    RELATIVES_NOT_TEXTED = "relatives_not_texted"
    HELD = "held"


class MessageRow(TypedDict):
    """One outbox row's column values, from prepare_message to insert_messages."""

    concern_id: int | None
    audience: Audience
    recipient_kind: RecipientKind
    recipient_user_id: int | None
    recipient_role: str | None
    to_number: str
    template_id: str
    variables: dict[str, Any]
    locale: str
    idempotency_key: str
    send_state: SendState
    hold_reason: str | None
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    # Set by escalation and resends; the columns' defaults otherwise.
    escalation_step: NotRequired[int]
    channel: NotRequired[MessageChannel]
    resend_of_id: NotRequired[int]  # set by failed_messages.resend


def queue_message(
    *,
    concern: Concern | None,
    audience: Audience,
    recipient_kind: RecipientKind,
    to_number: str,
    template_id: str,
    variables: dict[str, Any],
    locale: str,
    idempotency_key: str,
    actor: audit.Actor,
    recipient_user_id: int | None = None,
    recipient_role: str | None = None,
    hold_reason: str | None = None,
    due_at: datetime | None = None,
    new_key: bool = False,
) -> Message | None:
    """Add one message to the outbox and audit it, or nothing if one with this key already exists.
    `new_key` says the key cannot exist yet (it names a concern created in this transaction)."""
    row = prepare_message(
        concern_id=concern.id if concern is not None else None,
        audience=audience,
        recipient_kind=recipient_kind,
        to_number=to_number,
        template_id=template_id,
        variables=variables,
        locale=locale,
        idempotency_key=idempotency_key,
        recipient_user_id=recipient_user_id,
        recipient_role=recipient_role,
        hold_reason=hold_reason,
        due_at=due_at,
        new_key=new_key,
    )
    if row is None:
        return None
    (message_id,) = insert_messages([row], actor)
    return db.session.get(Message, message_id)


def prepare_message(
    *,
    concern_id: int | None,
    audience: Audience,
    recipient_kind: RecipientKind,
    to_number: str,
    template_id: str,
    variables: dict[str, Any],
    locale: str,
    idempotency_key: str,
    recipient_user_id: int | None = None,
    recipient_role: str | None = None,
    hold_reason: str | None = None,
    due_at: datetime | None = None,
    new_key: bool = False,
) -> MessageRow | None:
    """The column values of one outbox row (see insert_messages), or None if a message with this
    key exists already. `new_key` skips that look-up when the key cannot exist yet."""
    if not new_key:
        existing = db.session.scalar(select(Message.id).where(Message.idempotency_key == idempotency_key))
        if existing is not None:
            return None
    now = utcnow()
    return {
        "concern_id": concern_id,
        "audience": audience,
        "recipient_kind": recipient_kind,
        "recipient_user_id": recipient_user_id,
        "recipient_role": recipient_role,
        "to_number": to_number,
        "template_id": template_id,
        "variables": variables,
        "locale": locale,
        "idempotency_key": idempotency_key,
        "send_state": SendState.HELD if hold_reason else SendState.PENDING,
        "hold_reason": hold_reason,
        "attempts": 0,
        "next_attempt_at": due_at or now,
        "created_at": now,
        "updated_at": now,
    }


def insert_messages(rows: list[MessageRow], actor: audit.Actor) -> list[int]:
    """Insert prepared outbox rows in one statement and audit each; returns their ids in order."""
    if not rows:
        return []
    connection = db.session.connection()
    result = connection.execute(_INSERT_MESSAGES, rows)
    ids = [row[0] for row in result]
    if connection.dialect.name == "postgresql":
        db.session().info[_NOTIFY_KEY] = True  # one NOTIFY as the transaction commits (_notify_worker)
    audit.record_many(
        [
            audit.Entry(
                "message_held" if row["hold_reason"] else "message_queued",
                actor,
                "message",
                message_id,
                row["concern_id"],
                {
                    "template_id": row["template_id"],
                    "audience": row["audience"].value,
                    "recipient": row["recipient_role"] or row["recipient_kind"].value,
                    **({"hold_reason": row["hold_reason"]} if row["hold_reason"] else {}),
                },
            )
            for row, message_id in zip(rows, ids, strict=True)
        ]
    )
    return ids


_INSERT_MESSAGES = insert(Message.__table__).returning(Message.__table__.c.id, sort_by_parameter_order=True)
_NOTIFY_KEY = "tracker_outbox_notify"


@event.listens_for(Session, "before_commit")
def _notify_worker(session: Session) -> None:
    """One NOTIFY per transaction that queued messages, however many inserts it made: PostgreSQL delivers it at
    commit, and it wakes a waiting worker at once (tracker.worker.Listener). A savepoint's release sends nothing:
    the outermost commit does."""
    if session.in_nested_transaction() or not session.info.get(_NOTIFY_KEY):
        return
    session.connection().exec_driver_sql("SELECT pg_notify('tracker_outbox', '')")
    session.info.pop(_NOTIFY_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_notify(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # a rolled-back transaction queued nothing: nothing to announce
        session.info.pop(_NOTIFY_KEY, None)


def cancel_waiting_family_texts(reason: str, *, concern_id: int | None = None, number: str | None = None) -> int:
    """Cancel every text not yet sent to a call's caller, or to a number (safeguarding; the patient
    died or left hospital; the number opted out), each audited with the reason. Returns how many."""
    to = Message.concern_id == concern_id if concern_id is not None else Message.to_number == number
    waiting = db.session.scalars(
        select(Message)
        .where(
            to,
            Message.audience == Audience.FAMILY,
            Message.send_state.in_([SendState.PENDING, SendState.UNKNOWN, SendState.HELD]),
        )
        .with_for_update()
    ).all()
    for message in waiting:
        message.send_state = SendState.CANCELLED
        audit.record(
            "message_cancelled",
            audit.Actor.system(),
            object_type="message",
            object_id=message.id,
            concern_id=message.concern_id,
            changes={"reason": reason},
        )
    return len(waiting)


def family_text_decision(concern: Concern | NewConcern, settings: TrustSettings) -> FamilyText:
    """May the caller be texted? Only with a number, their consent, a mobile in an allowed
    country, and, for relatives, the trust's information-governance decision (docs/architecture.md#messages)."""
    if not concern.callback_number:
        return FamilyText.NO_NUMBER
    if not concern.sms_consent:
        return FamilyText.NO_CONSENT
    if not concern.callback_textable:
        return FamilyText.NOT_TEXTABLE
    # A text-in caller is treated as a relative until a clinician knows otherwise.
    if concern.caller_route in (CallerRoute.FAMILY, CallerRoute.UNKNOWN) and not settings.text_relatives_allowed:
        return FamilyText.RELATIVES_NOT_TEXTED
    return FamilyText.QUEUED


def prepare_family_receipt(
    concern: NewConcern, settings: TrustSettings, hold_reason: str | None
) -> tuple[FamilyText, MessageRow | None]:
    """The caller's receipt, prepared (see record_queued), and what the confirmation should say."""
    decision = family_text_decision(concern, settings)
    if decision is not FamilyText.QUEUED:
        return decision, None
    assert concern.callback_number is not None  # family_text_decision queues nothing without one
    if hold_reason is None:
        budget = abuse.hit(current_app.config["FAMILY_SMS_BUDGET"], "family-sms-budget")
        if budget.storage_fallback:
            alarms.raise_alarm("rate_limit_storage_down")
        if not budget.within_limit:
            hold_reason = "sms_budget"
            alarms.raise_alarm("sms_budget_exhausted")
    message = prepare_message(
        concern_id=concern.id,
        audience=Audience.FAMILY,
        recipient_kind=RecipientKind.CALLER,
        to_number=concern.callback_number,
        template_id="family_receipt",
        variables={"reference": concern.reference, "team_phone": display_phone(concern.team.public_phone)},
        locale=concern.locale,
        idempotency_key=f"concern:{concern.id}:family_receipt",
        hold_reason=hold_reason,
        new_key=True,
    )
    return (FamilyText.HELD if hold_reason else FamilyText.QUEUED), message
