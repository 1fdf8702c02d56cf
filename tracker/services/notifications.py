"""Putting texts into the outbox (design §5). Nothing here talks to a provider: rows are added
in the caller's transaction and the worker sends them after commit."""

from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from tracker.clock import local
from tracker.extensions import db
from tracker.models import Audience, CallerRoute, Concern, Message, RecipientKind, SendState, Settings
from tracker.services import abuse, alarms, audit
from tracker.services.phone import display_phone

WARD_NAME_IN_ALERT = 40  # keeps a clinician alert within its two segments


class FamilyText(str, enum.Enum):
    """Whether the caller gets a receipt by text, and if not, why: the confirmation page says so."""

    QUEUED = "queued"
    NO_NUMBER = "no_number"
    NO_CONSENT = "no_consent"
    NOT_TEXTABLE = "not_textable"
    RELATIVES_NOT_TEXTED = "relatives_not_texted"
    HELD = "held"


def queue_message(
    *,
    concern: Concern | None,
    audience: Audience,
    recipient_kind: RecipientKind,
    to_number: str,
    template_id: str,
    variables: dict,
    locale: str,
    idempotency_key: str,
    actor: audit.Actor,
    recipient_user_id: int | None = None,
    recipient_role: str | None = None,
    hold_reason: str | None = None,
    due_at: datetime | None = None,
) -> Message | None:
    """Add one message to the outbox, or nothing if one with this key already exists."""
    existing = db.session.scalar(select(Message.id).where(Message.idempotency_key == idempotency_key))
    if existing is not None:
        return None
    message = Message(
        concern_id=concern.id if concern else None,
        audience=audience,
        recipient_kind=recipient_kind,
        recipient_user_id=recipient_user_id,
        recipient_role=recipient_role,
        to_number=to_number,
        template_id=template_id,
        variables=variables,
        locale=locale,
        idempotency_key=idempotency_key,
        send_state=SendState.HELD if hold_reason else SendState.PENDING,
        hold_reason=hold_reason,
    )
    if due_at is not None:
        message.next_attempt_at = due_at
    db.session.add(message)
    db.session.flush()
    audit.record(
        "message_held" if hold_reason else "message_queued",
        actor,
        object_type="message",
        object_id=message.id,
        concern_id=message.concern_id,
        changes={
            "template_id": template_id,
            "audience": audience.value,
            "recipient": recipient_role or recipient_kind.value,
            **({"hold_reason": hold_reason} if hold_reason else {}),
        },
    )
    return message


def family_text_decision(concern: Concern, settings: Settings) -> FamilyText:
    """May the caller be texted? Only with a number, their consent, a mobile in an allowed
    country, and, for relatives, the trust's information-governance decision (design §5)."""
    if not concern.callback_number:
        return FamilyText.NO_NUMBER
    if not concern.sms_consent:
        return FamilyText.NO_CONSENT
    if not concern.callback_textable:
        return FamilyText.NOT_TEXTABLE
    if concern.caller_route == CallerRoute.FAMILY and not settings.text_relatives_allowed:
        return FamilyText.RELATIVES_NOT_TEXTED
    return FamilyText.QUEUED


def queue_family_receipt(concern: Concern, settings: Settings, actor: audit.Actor, hold_reason: str | None) -> FamilyText:
    decision = family_text_decision(concern, settings)
    if decision is not FamilyText.QUEUED:
        return decision
    if hold_reason is None:
        budget = abuse.hit(current_app.config["FAMILY_SMS_BUDGET"], "family-sms-budget")
        if budget.storage_fallback:
            alarms.raise_alarm("rate_limit_storage_down")
        if not budget.within_limit:
            hold_reason = "sms_budget"
            alarms.raise_alarm("sms_budget_exhausted")
    queue_message(
        concern=concern,
        audience=Audience.FAMILY,
        recipient_kind=RecipientKind.CALLER,
        to_number=concern.callback_number,
        template_id="family_receipt",
        variables={"reference": concern.reference, "team_phone": display_phone(concern.team.public_phone)},
        locale=concern.locale,
        idempotency_key=f"concern:{concern.id}:family_receipt",
        actor=actor,
        hold_reason=hold_reason,
    )
    return FamilyText.HELD if hold_reason else FamilyText.QUEUED


def queue_clinician_alert(concern: Concern, settings: Settings, actor: audit.Actor, *, coalesce: bool) -> Message | None:
    """Alert the team's duty phone. Flagged calls (a burst from one device or address, or an
    apparently automated one) share one alert per team per ten minutes, so a flood cannot bury
    the phone; each call still reaches the queue on its own."""
    team = concern.team
    if not team.duty_phone:
        alarms.raise_alarm("alert_recipient_missing")
        audit.record("alert_not_possible", actor, object_type="concern", object_id=concern.id, concern_id=concern.id,
                     changes={"reason": "team_has_no_duty_phone", "team_id": team.id})
        return None
    raised_local = local(concern.raised_at, settings.timezone)
    variables = {
        "reference": concern.reference,
        "ward": concern.ward.name[:WARD_NAME_IN_ALERT],
        "site": concern.site.name[:WARD_NAME_IN_ALERT],
        "raised": raised_local.strftime("%H:%M"),
    }
    if coalesce:
        window = int(concern.raised_at.timestamp() // 600)
        key, template = f"team:{team.id}:burst-alert:{window}", "clinician_alert_burst"
    else:
        key, template = f"concern:{concern.id}:alert:duty_phone", "clinician_alert"
    message = queue_message(
        concern=concern,
        audience=Audience.CLINICIAN,
        recipient_kind=RecipientKind.CONTACT,
        recipient_role="team_duty_phone",
        to_number=team.duty_phone,
        template_id=template,
        variables=variables,
        locale=current_app.config["BABEL_DEFAULT_LOCALE"],
        idempotency_key=key,
        actor=actor,
    )
    if message is None and coalesce:
        audit.record("alert_coalesced", actor, object_type="concern", object_id=concern.id, concern_id=concern.id,
                     changes={"into": key})
    return message
