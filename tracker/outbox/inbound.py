"""What the SMS provider tells us (docs/architecture.md#messages): delivery reports, texts people send back, and the
key pressed on a voice alert. Provider-neutral: the webhook blueprint turns Twilio's parameters
into these calls, and turns the returned `Reply` into Twilio's answer.

Every report is kept as a `message_event`, as received. The delivery status only moves forward,
so a report that is repeated or arrives out of order changes nothing. A text back from a paged
clinician saying ACK, or a keypress, only pauses paging; a reply from a family is put on their
open call and flagged for the clinician."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select, update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Audience,
    CallerRoute,
    Concern,
    ConcernNote,
    ConcernStatus,
    Message,
    MessageChannel,
    MessageEvent,
    NoteKind,
    SendState,
)
from tracker.models.outbox import CALL_NOT_ANSWERED, NOT_ANSWERED_REASON, is_delivery_failure, moves_forward
from tracker.outbox import opt_outs
from tracker.services import alarms
from tracker.services.concerns import safeguarding
from tracker.services.messaging.sms_text import render
from tracker.services.paging import acks, escalation
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings


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


# --- texts people send us -----------------------------------------------------------------------

# The provider's standard opt-out, opt-in and help words (Twilio's defaults, including the
# words added for the 2025 US rules), matched as the whole message, in any case.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT OUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
ACK_WORD = "ACK"
REPLY_LIMIT = 1600  # the longest text a provider delivers
_REFERENCE = re.compile(r"\bMR-?[0-9A-Z]{4}-?[0-9A-Z]{2}\b")


@dataclass(frozen=True)
class InboundText:
    from_number: str  # E.164, as the provider gives it
    body: str
    provider_sid: str | None
    opt_out_type: str | None = None  # the provider's own classification, when it sends one


@dataclass(frozen=True)
class Reply:
    """What to answer: a text back, or nothing."""

    text: str | None = None


def clean_incoming(text: str) -> str:
    """A text as received, made safe to store and show: NFC, control characters dropped (never
    refused: a family's words are not lost over a stray character), at most REPLY_LIMIT long."""
    text = unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cs"})
    return text.strip()[:REPLY_LIMIT]


def keyword(body: str) -> str:
    """The message as a keyword: upper case, outer spaces and full stops removed."""
    return re.sub(r"\s+", " ", body.strip().strip(".!").strip()).upper()


def receive_text(text: InboundText) -> Reply:
    """Handle one text sent to our number. Idempotent: the provider may deliver it twice."""
    if text.provider_sid and db.session.scalar(
        select(exists().where(MessageEvent.kind == "inbound", MessageEvent.idempotency_token == text.provider_sid))
    ):
        return Reply()
    body = clean_incoming(text.body)
    word = keyword(body)
    kind = (text.opt_out_type or "").upper()
    if kind == "STOP" or word in STOP_WORDS:
        _event(text, kind="inbound", concern_id=None, payload={"keyword": "STOP"})
        opt_outs.opted_out(text.from_number, word or "STOP")
        return Reply()  # the provider confirms an opt-out itself; a second text would be noise
    if kind == "START" or word in START_WORDS:
        _event(text, kind="inbound", concern_id=None, payload={"keyword": "START"})
        opt_outs.opted_in(text.from_number, word or "START")
        return Reply()
    if kind == "HELP" or word in HELP_WORDS:
        _event(text, kind="inbound", concern_id=None, payload={"keyword": "HELP"})
        audit.record("sms_help_requested", audit.Actor.public())
        if safeguarding.number_is_safeguarded(text.from_number):
            return Reply()  # no answer at all to a number whose call is flagged for safeguarding
        settings = current_settings()
        return Reply(
            render(
                "help_reply",
                {"trust": settings.trust_name[:60], "phone": settings.outreach_phone},
                current_app.config["BABEL_DEFAULT_LOCALE"],
            )
        )
    if word == ACK_WORD or word.startswith(ACK_WORD + " "):
        return _acknowledge(text, word)
    return _caller_reply(text, body)


def _acknowledge(text: InboundText, word: str) -> Reply:
    """ACK from a phone that was paged: pause paging for the policy's window. Never a claim:
    caller ID can be spoofed and nobody signed in (docs/architecture.md#paging)."""
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = _REFERENCE.search(word)
    concern_id = acks.find_paged_concern(
        text.from_number, reference=_tidy_reference(wanted.group(0)) if wanted else None
    )
    if concern_id is None:
        _event(text, kind="inbound", concern_id=None, payload={"keyword": "ACK", "matched": False})
        audit.record("ack_unmatched", audit.Actor.public())
        return Reply(render("ack_nothing", {}, locale))
    concern = db.session.get_one(Concern, concern_id)
    _event(text, kind="inbound", concern_id=concern_id, payload={"keyword": "ACK", "matched": True})
    now = utcnow()
    held = acks.pause(concern_id, "sms_ack", user_id=_paged_user(concern_id, text.from_number), now=now)
    if held is None:
        return Reply(render("ack_nothing", {}, locale))
    if held.until is None:
        return Reply(render("ack_ceiling", {"reference": concern.reference, "minutes": held.ceiling_minutes}, locale))
    return Reply(render("ack_confirm", {"reference": concern.reference, "minutes": held.minutes_from(now)}, locale))


def _paged_user(concern_id: int, number: str) -> int | None:
    """The staff account this number was paged as, for this call (an ACK is that person's)."""
    return db.session.scalar(
        select(Message.recipient_user_id)
        .where(Message.concern_id == concern_id, Message.to_number == number, Message.audience == Audience.CLINICIAN)
        .order_by(Message.id.desc())
        .limit(1)
    )


def _tidy_reference(raw: str) -> str:
    plain = raw.replace("-", "")
    return f"{plain[:2]}-{plain[2:6]}-{plain[6:8]}"


FOLLOW_UP_WINDOW = timedelta(hours=72)  # a text this soon after a call ended is about that call
FINISHED = (ConcernStatus.CLOSED, ConcernStatus.CANCELLED)


def _caller_reply(text: InboundText, body: str) -> Reply:
    """Anything else, from a caller: on their open call, flagged for the clinician; or, if their call
    ended within 72 hours, on that call as a follow-up text, raised on the queue with the chime (not
    paging: a "thank you" must not wake the on-call clinician), with an automatic reply giving the
    team's number and the trust's emergency instruction. The reply itself is personal data, so a text
    that matches no call is not kept."""
    concern = db.session.scalar(
        select(Concern)
        .where(Concern.callback_number == text.from_number, Concern.status.in_(OPEN_STATUSES))
        .order_by(Concern.raised_at.desc())
        .limit(1)
    )
    follow_up = concern is None
    if follow_up:
        concern = db.session.scalar(
            select(Concern)
            .where(
                Concern.callback_number == text.from_number,
                Concern.status.in_(FINISHED),
                func.coalesce(Concern.closed_at, Concern.updated_at) >= utcnow() - FOLLOW_UP_WINDOW,
            )
            .order_by(Concern.raised_at.desc())
            .limit(1)
        )
    if concern is None or not body:
        _event(text, kind="inbound", concern_id=None, payload={"matched": False})
        audit.record("inbound_unmatched", audit.Actor.public())
        return Reply()
    now = utcnow()
    note = ConcernNote(concern_id=concern.id, author_id=None, kind=NoteKind.CALLER_REPLY, text=body, created_at=now)
    db.session.add(note)
    db.session.flush()
    _event(text, kind="inbound", concern_id=concern.id, payload={"matched": True, "note_id": note.id})
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern.id)
        .values(unread_reply=True, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        "caller_follow_up_text" if follow_up else "caller_replied",
        audit.Actor.public(),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes={"note_id": note.id},
    )
    return _follow_up_reply(concern) if follow_up else Reply()


def _follow_up_reply(concern: Concern) -> Reply:
    """The automatic answer to a text after the call ended, where the trust allows texting this caller."""
    settings = current_settings()
    if concern.safeguarding or (concern.caller_route == CallerRoute.FAMILY and not settings.text_relatives_allowed):
        return Reply()
    variables = {
        "reference": concern.reference,
        "phone": display_phone(concern.team.public_phone),
        "instruction": settings.emergency_instruction[:EMERGENCY_IN_A_TEXT],
    }
    return Reply(render("follow_up_reply", variables, current_app.config["BABEL_DEFAULT_LOCALE"]))


EMERGENCY_IN_A_TEXT = 90  # the trust's instruction, cut to keep the reply within two segments


def _event(text: InboundText, *, kind: str, concern_id: int | None, payload: dict) -> None:
    db.session.add(
        MessageEvent(
            kind=kind,
            concern_id=concern_id,
            provider_sid=(text.provider_sid or "")[:64] or None,
            from_number=text.from_number[:20],
            payload=payload,
            idempotency_token=(text.provider_sid or "")[:100] or None,
            received_at=utcnow(),
        )
    )


# --- a key pressed on a voice alert --------------------------------------------------------------


def receive_keypress(message_id: int | None, digits: str | None, call_sid: str | None) -> str:
    """The key pressed on a voice alert. 1 pauses paging like an SMS ACK. Returns what to say."""
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    message = db.session.get(Message, message_id) if message_id is not None else None
    concern_id = message.concern_id if message and message.audience is Audience.CLINICIAN else None
    db.session.add(
        MessageEvent(
            message_id=message.id if message else None,
            concern_id=concern_id,
            kind="keypress",
            provider_sid=(call_sid or "")[:64] or None,
            status=None,
            payload={"digits": (digits or "")[:4]},
            received_at=utcnow(),
        )
    )
    if concern_id is None:
        return render("voice_not_waiting", {}, locale)
    if digits != "1":
        return render("voice_wrong_key", {}, locale)
    concern = db.session.get_one(Concern, concern_id)
    now = utcnow()
    held = acks.pause(concern_id, "voice_keypress", user_id=message.recipient_user_id if message else None, now=now)
    if held is None:
        return render("voice_not_waiting", {}, locale)
    if held.until is None:
        return render("voice_ack_ceiling", {"reference": concern.reference, "minutes": held.ceiling_minutes}, locale)
    return render("voice_ack", {"reference": concern.reference, "minutes": held.minutes_from(now)}, locale)
