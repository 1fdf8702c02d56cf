"""Texts and calls that did not get through, and what staff do about them (docs/architecture.md#messages):
correct the number and send it again, or record that they dealt with it another way.

A message counts as failed when the provider refused it for good (`dead`), or reported it
undelivered or failed. A voice alert that rang out is not a failure of the system: paging moved
on by design, so it is not listed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import joinedload

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Audience,
    Concern,
    Message,
    MessageChannel,
    RecipientKind,
    SendState,
    SmsOptOut,
    User,
    user_team,
)
from tracker.models.outbox import SMS_FAILURES
from tracker.problems import Problem
from tracker.services import alarms, scope
from tracker.services.messaging.notifications import insert_messages, prepare_message
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.records import audit
from tracker.services.scope import Permission, Reach
from tracker.services.setup.settings import current_settings

LISTED_DAYS = 7  # how far back the page looks


class ResendProblem(Problem):
    """A resend that cannot be done; the message says why in plain English."""


def failed_clause() -> ColumnElement[bool]:
    return or_(
        Message.send_state == SendState.DEAD,
        and_(
            Message.send_state == SendState.ACCEPTED,
            or_(
                and_(Message.channel == MessageChannel.SMS, Message.delivery_status.in_(sorted(SMS_FAILURES))),
                and_(Message.channel == MessageChannel.VOICE, Message.delivery_status == "failed"),
            ),
        ),
    )


def _scope(user: User) -> ColumnElement[bool]:
    """The messages this person may see: their teams' calls and colleagues (outreach), or their
    site's (manager)."""
    if not scope.can(user, Permission.SEE_CALLS):
        return Message.id.is_(None)
    if scope.reach(user) is Reach.TEAMS:
        colleague_teams = user_team.c.team_id.in_(list(user.team_ids) or [-1])
    else:
        colleague_teams = user_team.c.team_id.in_(scope.site_team_ids(user))
    colleague = exists().where(user_team.c.user_id == Message.recipient_user_id, colleague_teams)
    concern_in_scope = scope.calls(user)
    return or_(
        Message.concern_id.in_(select(Concern.id).where(concern_in_scope)),
        and_(Message.concern_id.is_(None), colleague),
    )


def listed(user: User) -> tuple[list[Message], list[Message]]:
    """(still to deal with, dealt with) among the failed messages of the last LISTED_DAYS days."""
    since = utcnow() - timedelta(days=LISTED_DAYS)
    rows = (
        db.session.scalars(
            select(Message)
            .where(failed_clause(), _scope(user), Message.created_at >= since)
            .options(joinedload(Message.concern).joinedload(Concern.ward), joinedload(Message.recipient_user))
            .order_by(Message.created_at.desc())
            .limit(500)
        )
        .unique()
        .all()
    )
    return [m for m in rows if m.dealt_with_at is None], [m for m in rows if m.dealt_with_at is not None]


def outstanding_count(team_ids: list[int] | None = None, site_id: int | None = None) -> int:
    """Failed messages nobody has dealt with yet, for the warnings on staff pages."""
    since = utcnow() - timedelta(days=LISTED_DAYS)
    query = select(Message.id).where(failed_clause(), Message.dealt_with_at.is_(None), Message.created_at >= since)
    if team_ids is not None:
        query = query.where(
            or_(
                Message.concern_id.in_(select(Concern.id).where(Concern.team_id.in_(team_ids or [-1]))),
                and_(
                    Message.concern_id.is_(None),
                    exists().where(
                        user_team.c.user_id == Message.recipient_user_id, user_team.c.team_id.in_(team_ids or [-1])
                    ),
                ),
            )
        )
    elif site_id is not None:
        query = query.where(Message.concern_id.in_(select(Concern.id).where(Concern.site_id == site_id)))
    return len(db.session.scalars(query.limit(100)).all())


def find(user: User, message_id: int) -> Message | None:
    """A failed message this person may act on, or None (a 404)."""
    return db.session.scalar(
        select(Message).where(Message.id == message_id, failed_clause(), _scope(user)).with_for_update()
    )


def resend(user: User, message: Message, raw_number: str) -> Message:
    """Send the message again, to the corrected number if one is given. Correcting a caller's or
    a colleague's number also corrects it where it is kept, so the next text goes right too."""
    if message.dealt_with_at is not None:
        raise ResendProblem("Someone has already dealt with this message")
    try:
        phone = parse_phone(raw_number or message.to_number)
    except PhoneProblem:
        raise ResendProblem("Enter a valid phone number, like 07700 900123") from None
    if message.channel is MessageChannel.SMS and not phone.textable(current_settings().allowed_regions):
        raise ResendProblem("Texts can only go to a mobile number in a country the trust allows")
    if message.audience is Audience.FAMILY and db.session.scalar(
        select(SmsOptOut.opted_out).where(SmsOptOut.number == phone.e164)
    ):
        raise ResendProblem("This number replied STOP, so it cannot be texted. Phone them instead")
    actor = audit.Actor.user(user.id)
    number_changed = phone.e164 != message.to_number
    if number_changed and message.recipient_kind is RecipientKind.CALLER and message.concern_id is not None:
        concern = db.session.get_one(Concern, message.concern_id)
        concern.callback_number, concern.callback_textable = (
            phone.e164,
            phone.textable(current_settings().allowed_regions),
        )
        audit.record(
            "caller_number_corrected", actor, object_type="concern", object_id=concern.id, concern_id=concern.id
        )
    elif number_changed and message.recipient_kind is RecipientKind.USER and message.recipient_user_id is not None:
        for colleague in _colleagues(message):
            colleague.mobile = phone.e164
            audit.record("user_mobile_changed", actor, object_type="user", object_id=colleague.id)
    attempt = 1 + len(db.session.scalars(select(Message.id).where(Message.resend_of_id == message.id)).all())
    row = prepare_message(
        concern_id=message.concern_id,
        audience=message.audience,
        recipient_kind=message.recipient_kind,
        recipient_user_id=message.recipient_user_id,
        recipient_role=message.recipient_role,
        to_number=phone.e164,
        template_id=message.template_id,
        variables=dict(message.variables or {}),
        locale=message.locale,
        idempotency_key=f"resend:{message.id}:{attempt}",
    )
    if row is None:
        raise ResendProblem("This message has just been sent again")
    row["channel"] = message.channel
    row["resend_of_id"] = message.id
    (new_id,) = insert_messages([row], actor)
    _deal_with(user, message, "resent")
    return db.session.get_one(Message, new_id)


def _colleagues(message: Message) -> list[User]:
    """Whoever a failed text to a colleague was for: its recipient, and for a rota test to a number several
    people on call share (services/paging/rota_check.py), each of them still at that number."""
    sharing = {pair[0] for pair in (message.variables or {}).get("holders", [])}
    found = []
    for colleague in db.session.scalars(
        select(User).where(User.id.in_({message.recipient_user_id, *sharing})).order_by(User.id)
    ):
        if colleague.id == message.recipient_user_id or _e164(colleague.mobile) == message.to_number:
            found.append(colleague)
    return found


def _e164(number: str | None) -> str | None:
    try:
        return parse_phone(number).e164 if number else None
    except PhoneProblem:
        return None


def mark_dealt_with(user: User, message: Message) -> None:
    """Staff handled it another way (for example, they phoned the person)."""
    if message.dealt_with_at is None:
        _deal_with(user, message, "handled_otherwise")


def _deal_with(user: User, message: Message, how: str) -> None:
    message.dealt_with_at = utcnow()
    message.dealt_with_by_id = user.id
    audit.record(
        "failed_message_dealt_with",
        audit.Actor.user(user.id),
        object_type="message",
        object_id=message.id,
        concern_id=message.concern_id,
        changes={"how": how},
    )
    db.session.flush()
    if outstanding_count() == 0:
        alarms.clear_alarm("alert_failed")
