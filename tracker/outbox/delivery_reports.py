"""Delivery reports from the SMS provider (docs/architecture.md#messages): each is kept as a `message_event`, as
received, and applied to its message. The delivery status only moves forward, so a report that is repeated or
arrives out of order changes nothing; a failed alert moves paging on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Audience,
    Concern,
    Message,
    MessageChannel,
    MessageEvent,
    SendState,
)
from tracker.models.outbox import CALL_NOT_ANSWERED, NOT_ANSWERED_REASON, is_delivery_failure, moves_forward
from tracker.services import alarms
from tracker.services.paging import escalation
from tracker.services.records import audit


@dataclass(frozen=True)
class StatusReport:
    message_id: int | None  # from our own callback URL (signed)
    provider_sid: str | None
    status: str | None
    error_code: str | None
    error_reason: str | None  # plain English, from the provider's error code
    payload: dict


TEAM_HAS_SEEN_THE_PATIENT = "update_review_done"


def record_status(report: StatusReport) -> str:
    """Keep one delivery report and apply it. Returns what happened (for logs and tests)."""
    message = _reported_message(report)
    now = utcnow()
    _keep_report(report, message, now)
    if message is None:
        return "unknown_message"
    if message.provider_sid and report.provider_sid and message.provider_sid != report.provider_sid:
        # A report about an earlier attempt at this message: kept, not applied.
        return "other_attempt"
    if message.provider_sid is None and report.provider_sid and message.send_state is SendState.UNKNOWN:
        _settle_reconciliation(message, report.provider_sid, now)
    if not moves_forward(message.delivery_status, report.status):
        return "ignored"
    message.delivery_status = report.status
    message.delivery_status_at = now
    if message.concern_id is not None:  # the queue and the concern page show each message's state
        values: dict = {"updated_at": now}
        if report.status == "delivered" and message.template_id == TEAM_HAS_SEEN_THE_PATIENT:
            # Counted as "texted", never as "caller updated": only a clinician's record says the caller was told.
            values["caller_texted_at"] = func.coalesce(Concern.caller_texted_at, now)
        db.session.execute(
            update(Concern)
            .where(Concern.id == message.concern_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if is_delivery_failure(message.channel, report.status):
        _record_delivery_failure(message, report, now)
        return "failed"
    if report.status == "delivered":
        changes = {"template_id": message.template_id}
        audit.record("message_delivered", audit.Actor.system(), **_target(message), changes=changes)
    return "applied"


def _target(message: Message) -> audit.Target:
    return {"object_type": "message", "object_id": message.id, "concern_id": message.concern_id}


def _reported_message(report: StatusReport) -> Message | None:
    """The message a report is about: by our own id in the signed callback URL, else by the provider's."""
    message = None
    if report.message_id is not None:
        message = db.session.get(Message, report.message_id, with_for_update=True)
    if message is None and report.provider_sid:
        message = db.session.scalar(
            select(Message).where(Message.provider_sid == report.provider_sid).with_for_update()
        )
    return message


def _keep_report(report: StatusReport, message: Message | None, now: datetime) -> None:
    """Every report is kept as received, whatever it is about."""
    db.session.add(
        MessageEvent(
            message_id=message.id if message else None,
            concern_id=message.concern_id if message else None,
            kind="status",
            provider_sid=(report.provider_sid or "")[:64] or None,
            status=(report.status or "")[:20] or None,
            error_code=(report.error_code or "")[:20] or None,
            payload=report.payload,
            received_at=now,
        )
    )


def _settle_reconciliation(message: Message, provider_sid: str, now: datetime) -> None:
    """The provider has a text whose sending was unclear after all: it was sent, and is not sent again."""
    message.provider_sid = provider_sid[:64]
    message.send_state = SendState.ACCEPTED
    message.accepted_at = now
    changes = {"template_id": message.template_id, "attempts": message.attempts, "reconciled": True}
    audit.record("message_accepted", audit.Actor.system(), **_target(message), changes=changes)


def _record_delivery_failure(message: Message, report: StatusReport, now: datetime) -> None:
    """A text not delivered or a call not answered: its reason kept; an alert's escalation moves on at once."""
    not_answered = message.channel is MessageChannel.VOICE and report.status in CALL_NOT_ANSWERED
    message.error_code = (report.error_code or "")[:20] or None
    message.error_reason = (
        NOT_ANSWERED_REASON[report.status]  # not_answered: a status in CALL_NOT_ANSWERED, so a key
        if not_answered
        else report.error_reason or "The phone network could not deliver it."
    )[:300]
    audit.record(
        "call_not_answered" if not_answered else "message_delivery_failed",
        audit.Actor.system(),
        **_target(message),
        changes={"template_id": message.template_id, "status": report.status, "error_code": message.error_code},
    )
    if message.audience is Audience.CLINICIAN and message.concern_id is not None:
        escalation.move_on_now(message.concern_id, "alert_not_answered" if not_answered else "alert_undelivered", now)
        if not not_answered:
            alarms.raise_alarm("alert_failed")
