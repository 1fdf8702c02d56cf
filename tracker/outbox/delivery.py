"""Sending the outbox (docs/architecture.md#messages): claim due rows with a lease, re-check each is still wanted,
send outside any transaction, and record what the provider said.

A 429 or refused connection is retried with backoff; a timeout or 5xx may mean the text went, so
the row becomes `unknown` and is looked up at the provider before any resend; a permanent error
ends in `dead` with a plain-English reason. A worker that dies mid-send leaves a lease that
expires, and the next worker reconciles the row the same way.
"""

from __future__ import annotations

import enum
import logging
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Audience, Concern, ConcernStatus, Message, SendState, SmsOptOut, User
from tracker.models.outbox import moves_forward
from tracker.services import alarms
from tracker.services.messaging.sms_text import render
from tracker.services.paging import escalation
from tracker.services.records import audit
from tracker.services.reports import report_facts
from tracker.sms import AmbiguousFailure, OutgoingSms, PermanentFailure, SendResult, SmsSender, TemporaryFailure

log = logging.getLogger(__name__)


@dataclass
class Claimed:
    sms: OutgoingSms
    needs_reconcile: bool


@dataclass
class BatchReport:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter, bounded by SMS_RETRY_CAP_SECONDS."""
    config = current_app.config
    ceiling = min(config["SMS_RETRY_CAP_SECONDS"], config["SMS_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


ALERT_TEMPLATES = frozenset({"clinician_alert", "clinician_alert_burst", "voice_alert"})


def unwanted_reason(message: Message) -> str | None:
    """Why a message should not be sent now, or None. An alert for a call already claimed,
    closed, cancelled or linked to another, or escalated past its step, is not sent late (docs/architecture.md#messages); nothing is sent
    to a number that replied STOP."""
    if message.audience is Audience.FAMILY and opted_out(message.to_number):
        return "opted_out"
    if message.audience is Audience.FAMILY and message.concern is not None and message.concern.safeguarding:
        return "safeguarding"
    if message.audience is Audience.FAMILY and message.concern is not None and message.concern.local_reason:
        return message.concern.local_reason.value  # the patient died or left hospital: no more texts
    if message.audience is Audience.CLINICIAN and _recipient_left(message):
        return "recipient_left"  # an account closed after the text was queued (docs/architecture.md#set-up)
    if message.template_id not in ALERT_TEMPLATES or message.concern is None:
        return None
    concern = message.concern
    if message.template_id == "clinician_alert_burst":
        still_new = db.session.scalar(
            select(
                exists().where(
                    Concern.team_id == concern.team_id,
                    Concern.status == ConcernStatus.NEW,
                    Concern.linked_to_id.is_(None),
                )
            )
        )
        return None if still_new else "no_longer_wanted"
    if concern.status != ConcernStatus.NEW or concern.linked_to_id is not None:
        return "no_longer_wanted"  # a linked call is paged through the call it follows
    if message.escalation_step is not None and message.escalation_step < concern.escalation_position - 1:
        return "escalated_past"
    return None


def _recipient_left(message: Message) -> bool:
    person = db.session.get(User, message.recipient_user_id) if message.recipient_user_id is not None else None
    return person is not None and not person.active


def opted_out(number: str) -> bool:
    return bool(db.session.scalar(select(SmsOptOut.opted_out).where(SmsOptOut.number == number)))


def claim_due(worker_id: str, limit: int = 20) -> list[Claimed]:
    """Lease up to `limit` due messages to this worker, in the current (write) transaction.

    PostgreSQL skips rows other workers hold (FOR UPDATE SKIP LOCKED); SQLite runs one worker
    and its BEGIN IMMEDIATE already excludes others."""
    now = utcnow()
    lease_until = now + timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"])
    _expire_leases(now)
    rows = db.session.scalars(
        select(Message)
        .where(Message.send_state.in_([SendState.PENDING, SendState.UNKNOWN]), Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for message in rows:
        reason = unwanted_reason(message)
        if reason:
            message.send_state = SendState.CANCELLED
            message.lease_owner = message.lease_until = None
            audit.record("message_cancelled", audit.Actor.worker(), **_target(message), changes={"reason": reason})
            continue
        if message.body is None:
            message.body = render(message.template_id, message.variables, message.locale)
        needs_reconcile = message.send_state is SendState.UNKNOWN
        message.send_state = SendState.SENDING
        message.lease_owner = worker_id
        message.lease_until = lease_until
        sms = outgoing(message)
        if needs_reconcile:
            sms = replace(sms, exclude_sids=_recorded_sids(message))
        claimed.append(Claimed(sms, needs_reconcile))
    return claimed


def _recorded_sids(message: Message) -> frozenset[str]:
    """Provider references of our other messages to the same number around the same time."""
    return frozenset(
        db.session.scalars(
            select(Message.provider_sid).where(
                Message.to_number == message.to_number,
                Message.id != message.id,
                Message.provider_sid.is_not(None),
                Message.created_at >= message.created_at - timedelta(minutes=5),
            )
        )
    )


def keep_lease(message_id: int, worker_id: str) -> bool:
    """Just before sending one claimed message: whether it is still this worker's, renewing its lease from
    now (in the current write transaction; the caller commits before it sends). A batch's sends can
    together outlast the lease it was claimed with (a slow provider, a clock stepped forward); another
    worker then takes the rest over and reconciles them, and this one must send none of them."""
    lease_until = utcnow() + timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"])
    renewed = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.send_state == SendState.SENDING, Message.lease_owner == worker_id)
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def outgoing(message: Message) -> OutgoingSms:
    """The message as the provider needs it, with the callback addresses that carry its id."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    callbacks = current_app.config.get("SMS_STATUS_CALLBACKS", True)
    assert message.body is not None  # claim_due renders it first
    return OutgoingSms(
        message.id,
        message.to_number,
        message.body,
        message.idempotency_key,
        message.created_at,
        channel=message.channel.value,
        status_callback=f"{base}/webhooks/twilio/status?m={message.id}" if callbacks else None,
        gather_url=f"{base}/webhooks/twilio/voice?m={message.id}" if message.channel.value == "voice" else None,
    )


def _expire_leases(now: datetime) -> None:
    stale = db.session.scalars(
        select(Message)
        .where(Message.send_state == SendState.SENDING, Message.lease_until < now)
        .with_for_update(skip_locked=True)
    ).all()
    for message in stale:
        message.send_state = SendState.UNKNOWN
        message.lease_owner = message.lease_until = None
        audit.record(
            "message_lease_expired", audit.Actor.worker(), **_target(message), changes={"attempts": message.attempts}
        )


class Outcome(str, enum.Enum):
    """What one attempt came to, as `attempt` reports it to `record_outcome`."""

    ACCEPTED = "accepted"  # the provider took it
    RECONCILED = "reconciled"  # after an unclear attempt, the provider turned out to have it
    RECONCILE_FAILED = "reconcile_failed"  # the look-up itself failed: still unknown whether it went
    TEMPORARY = "temporary"  # certainly not sent: retry after a pause
    AMBIGUOUS = "ambiguous"  # perhaps sent: reconcile before any resend
    PERMANENT = "permanent"  # will never succeed


# Checked in this order: each provider failure is exactly one of these.
FAILURE_OUTCOMES: tuple[tuple[type[Exception], Outcome], ...] = (
    (PermanentFailure, Outcome.PERMANENT),
    (AmbiguousFailure, Outcome.AMBIGUOUS),
    (TemporaryFailure, Outcome.TEMPORARY),
)


def attempt(claimed: Claimed, sender: SmsSender) -> tuple[Outcome, SendResult | Exception]:
    """Talk to the provider; no database work here. Returns (outcome, result or failure)."""
    sms = claimed.sms
    if claimed.needs_reconcile:
        try:
            found = sender.find_sent(sms)
        except Exception as exc:  # the look-up itself failed: try again later, never resend blind
            return Outcome.RECONCILE_FAILED, exc
        if found is not None:
            return Outcome.RECONCILED, found
    try:
        return Outcome.ACCEPTED, sender.send(sms)
    except (TemporaryFailure, AmbiguousFailure, PermanentFailure) as failure:
        return next(outcome for kind, outcome in FAILURE_OUTCOMES if isinstance(failure, kind)), failure
    except Exception:  # a bug or an unexpected library error: perhaps sent, so reconcile first
        log.exception("unexpected error sending message %s", sms.message_id)
        return Outcome.AMBIGUOUS, AmbiguousFailure("An unexpected error happened while sending.")


def record_outcome(message_id: int, worker_id: str, outcome: str, detail: SendResult | Exception) -> str:
    """Write what happened, in the current (write) transaction. Returns what was recorded: accepted,
    reconciled, retry, unknown, dead, reconcile_failed, or lease_lost."""
    message = db.session.get(Message, message_id, with_for_update=True)
    if message is None or message.send_state is not SendState.SENDING or message.lease_owner != worker_id:
        return "lease_lost"  # another worker took over after our lease expired; it reconciles
    now = utcnow()
    message.lease_owner = message.lease_until = None
    if message.concern_id is not None:  # the queue shows each text's state
        db.session.execute(
            update(Concern)
            .where(Concern.id == message.concern_id)
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    if outcome in (Outcome.ACCEPTED, Outcome.RECONCILED) and isinstance(detail, SendResult):
        return _record_accepted(message, Outcome(outcome), detail, now)
    return _record_failure(message, Outcome(outcome), detail if isinstance(detail, Exception) else None, now)


def _target(message: Message) -> audit.Target:
    return {"object_type": "message", "object_id": message.id, "concern_id": message.concern_id}


def _record_accepted(message: Message, outcome: Outcome, detail: SendResult, now: datetime) -> str:
    message.attempts += 1 if outcome is Outcome.ACCEPTED else 0
    message.send_state = SendState.ACCEPTED
    message.provider_sid = detail.sid
    if moves_forward(message.delivery_status, detail.delivery_status):
        # A delivery report may have come in while we waited for the provider's answer.
        message.delivery_status = detail.delivery_status
        message.delivery_status_at = now
    message.accepted_at = now
    message.error_code = message.error_reason = None
    _start_clock(message, now)
    changes = {
        "template_id": message.template_id,
        "attempts": message.attempts,
        "reconciled": outcome is Outcome.RECONCILED,
    }
    audit.record("message_accepted", audit.Actor.worker(), **_target(message), changes=changes)
    return outcome.value


def _start_clock(message: Message, now: datetime) -> None:
    """The call's first alert sent: a clock, not a clinician's edit, so a plain UPDATE that cannot trip
    a version check. Only an alert paging someone for this call counts (a later review reminder is not
    its first alert); a text to the caller never sets "caller updated" (only the clinician's record does)."""
    if message.concern_id is None or message.audience is not Audience.CLINICIAN:
        return
    if message.template_id not in ALERT_TEMPLATES:
        return
    clock = Concern.first_alert_sent_at
    db.session.execute(
        update(Concern)
        .where(Concern.id == message.concern_id, clock.is_(None))
        .values(report_facts.clock_update(message.concern_id, clock.key, now))
        .execution_options(synchronize_session=False)
    )


def _record_failure(message: Message, outcome: Outcome, failure: Exception | None, now: datetime) -> str:
    code = getattr(failure, "code", None)
    reason = getattr(failure, "reason", None) or str(failure)
    if alarm := getattr(failure, "alarm", None):
        alarms.raise_alarm(alarm)
    message.attempts += 1
    max_attempts = current_app.config["SMS_MAX_ATTEMPTS"]
    if outcome is Outcome.RECONCILE_FAILED:
        # The look-up itself failed, so it is still unknown whether it went: ask again later, and
        # give up (with an alarm) rather than ask for ever.
        if message.attempts < max_attempts:
            message.send_state = SendState.UNKNOWN
            message.next_attempt_at = now + backoff(message.attempts)
            changes = {"attempts": message.attempts}
            audit.record("message_reconcile_failed", audit.Actor.worker(), **_target(message), changes=changes)
            return outcome.value
        alarms.raise_alarm("sms_reconcile_failing")
        reason = f"It could not be checked with the provider whether it was sent. Last problem: {reason}"
        outcome = Outcome.PERMANENT
    message.error_code, message.error_reason = code, reason[:300]
    if outcome is Outcome.PERMANENT or message.attempts >= max_attempts:
        return _record_dead(message, given_up=outcome is not Outcome.PERMANENT, reason=reason, code=code, now=now)
    return _record_retry(message, outcome, code, now)


def _record_dead(message: Message, *, given_up: bool, reason: str, code: str | None, now: datetime) -> str:
    message.send_state = SendState.DEAD
    if message.template_id in ALERT_TEMPLATES and message.concern_id is not None:
        escalation.move_on_now(message.concern_id, "alert_failed", now)
        alarms.raise_alarm("alert_failed")
    if given_up:
        message.error_reason = f"Gave up after {message.attempts} attempts. Last problem: {reason}"[:300]
    changes = {"template_id": message.template_id, "attempts": message.attempts, "error_code": code}
    audit.record("message_dead", audit.Actor.worker(), **_target(message), changes=changes)
    return "dead"


def _record_retry(message: Message, outcome: Outcome, code: str | None, now: datetime) -> str:
    unclear = outcome is Outcome.AMBIGUOUS
    message.send_state = SendState.UNKNOWN if unclear else SendState.PENDING
    if message.template_id in ALERT_TEMPLATES and message.concern_id is not None and outcome is Outcome.TEMPORARY:
        # The provider is refusing: do not wait for the retry, page the next step now, and tell
        # staff on the queue (docs/architecture.md#paging: a failed alert alarms there).
        escalation.move_on_now(message.concern_id, "alert_not_sent", now)
        alarms.raise_alarm("alert_not_sent")
    message.next_attempt_at = now + backoff(message.attempts)
    changes = {"attempts": message.attempts, "error_code": code}
    audit.record(
        "message_unknown" if unclear else "message_retry", audit.Actor.worker(), **_target(message), changes=changes
    )
    return "unknown" if unclear else "retry"
