"""The nurse in charge's alert about a "worse" daily-check answer (docs/architecture.md#beds): through the outbox,
at most one per ward every 15 minutes, listing the beds and nothing clinical. A text to a mobile; a voice call to a
landline or DECT handset, which cannot get texts. Without a number nothing is sent: the ward's daily check page
warns instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Audience, Message, MessageChannel, RecipientKind, SendState, Ward
from tracker.services.messaging.notifications import WARD_NAME_IN_ALERT, insert_messages, prepare_message
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.records import audit

EVERY = timedelta(minutes=15)
BEDS_SHOWN = 6  # keeps the text within its two segments; the ward view lists them all
_KEY = "ward:{ward_id}:check:"
_DUE = "%Y-%m-%dT%H:%M:%S"


def _key(ward_id: int, due: datetime) -> str:
    return _KEY.format(ward_id=ward_id) + due.strftime(_DUE)


def _due_of(message: Message) -> datetime:
    return datetime.strptime(message.idempotency_key.rsplit(":check:", 1)[1], _DUE).replace(tzinfo=UTC)


def beds_words(labels: list[str]) -> str:
    shown = ", ".join(labels[:BEDS_SHOWN])
    return shown + (f" and {len(labels) - BEDS_SHOWN} more" if len(labels) > BEDS_SHOWN else "")


def alert_nurse_in_charge(ward: Ward, bed_label: str, actor: audit.Actor) -> Message | None:
    """Tell the ward's nurse in charge a bed needs a nurse now. An alert not yet sent gains the bed; after one has
    gone, the next waits until 15 minutes after it and gathers the beds meanwhile. None without a number."""
    number = ward.nurse_in_charge_phone
    if not number:
        return None
    latest = db.session.scalar(
        select(Message)
        .where(Message.idempotency_key.like(_KEY.format(ward_id=ward.id) + "%"))
        .order_by(Message.id.desc())
        .limit(1)
        .with_for_update()
    )
    if latest is not None and latest.send_state is SendState.PENDING and latest.attempts == 0:
        labels = list(latest.variables.get("bed_labels", []))
        if bed_label not in labels:
            labels.append(bed_label)
            latest.variables = {**latest.variables, "bed_labels": labels, "beds": beds_words(labels)}
        return latest
    now = utcnow()
    due = now if latest is None else max(now, _due_of(latest) + EVERY)
    try:
        voice = not parse_phone(number).is_mobile
    except PhoneProblem:
        voice = True  # a number saved that no longer parses as a mobile: a call reaches any phone
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    row = prepare_message(
        concern_id=None,
        audience=Audience.CLINICIAN,
        recipient_kind=RecipientKind.CONTACT,
        recipient_role="nurse_in_charge",
        to_number=number,
        template_id="voice_daily_check" if voice else "daily_check_alert",
        variables={
            "ward": ward.name[:WARD_NAME_IN_ALERT],
            "beds": bed_label,
            "bed_labels": [bed_label],
            "link": f"{base_url}/triage/ward/check",
        },
        locale=current_app.config["BABEL_DEFAULT_LOCALE"],
        idempotency_key=_key(ward.id, due),
        due_at=due,
    )
    if row is None:
        return None
    row["channel"] = MessageChannel.VOICE if voice else MessageChannel.SMS
    (message_id,) = insert_messages([row], actor)
    return db.session.get(Message, message_id)
