"""What people send the tracker's number (docs/architecture.md#messages): texts, and the key pressed on a voice alert
(delivery reports are in outbox/delivery_reports.py). Provider-neutral: the webhook blueprint turns Twilio's
parameters into these calls, and turns the returned `Reply` into Twilio's answer.

Every text is kept as a `message_event`, as received. A text back from a paged clinician saying ACK, or a keypress,
only pauses paging; a text from a caller goes on their open call, or on their call that ended in the last 72 hours,
or becomes a text-in call (services/concerns/text_in.py)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

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
    MessageEvent,
    NoteKind,
    User,
)
from tracker.outbox import opt_outs
from tracker.services.concerns import safeguarding, text_in
from tracker.services.messaging.sms_text import render
from tracker.services.paging import acks
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings
from tracker.services.setup.trust_words import EMERGENCY_INSTRUCTION, words_for

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
    """Handle one text sent to our number. Idempotent: the provider may deliver it twice, even at the same moment.
    Deliveries that overlap all pass the first look; the unique index on an inbound event's token (the provider's
    id) lets one save it, and the others' whole work (a note, a call, an opt-out) is undone to the savepoint and
    they answer nothing, as a later repeat does."""
    if _already_received(text):
        return Reply()
    try:
        with db.session.begin_nested():
            return _handle(text)
    except IntegrityError:
        if not _already_received(text):
            raise
        return Reply()


def _already_received(text: InboundText) -> bool:
    token = _token(text)
    return token is not None and bool(
        db.session.scalar(
            select(exists().where(MessageEvent.kind == "inbound", MessageEvent.idempotency_token == token))
        )
    )


def _token(text: InboundText) -> str | None:
    return (text.provider_sid or "")[:100] or None


def _handle(text: InboundText) -> Reply:
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
    if concern is None and body and not _is_staff_number(text.from_number):
        return _text_in(text, body)
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


def _is_staff_number(number: str) -> bool:
    """A text from a staff mobile that is not ACK (say, "ok" to an alert) is not a new call."""
    return bool(db.session.scalar(select(exists().where(User.mobile == number, User.active.is_(True)))))


def _text_in(text: InboundText, body: str) -> Reply:
    """A text from a number with no call, open or recently ended: a text-in call, never thrown away, and where the
    trust allows texting this caller a reply saying the team has it and what to do if the patient is very unwell."""
    concern = text_in.raise_text_in(text.from_number, body, text.provider_sid)
    _event(
        text, kind="inbound", concern_id=concern.id if concern else None, payload={"matched": False, "text_in": True}
    )
    if concern is None:
        audit.record("inbound_unmatched", audit.Actor.public())
        return Reply()
    return _automatic_reply("text_in_reply", concern) if concern.callback_textable else Reply()


def _follow_up_reply(concern: Concern) -> Reply:
    """The automatic answer to a text after the call ended."""
    return _automatic_reply("follow_up_reply", concern)


def _automatic_reply(template_id: str, concern: Concern) -> Reply:
    """The team has the text, the reference, and what to do if the patient is very unwell now: where the trust
    allows texting this caller (a relative, or a text-in caller, only where it texts relatives; never a call
    flagged for safeguarding)."""
    settings = current_settings()
    relative = concern.caller_route in (CallerRoute.FAMILY, CallerRoute.UNKNOWN)
    if concern.safeguarding or (relative and not settings.text_relatives_allowed):
        return Reply()
    # In the caller's language, with the trust's own instruction in it where its translators wrote one.
    locale = concern.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    instruction = words_for(locale).get(EMERGENCY_INSTRUCTION) or settings.emergency_instruction
    variables = {
        "reference": concern.reference,
        "phone": display_phone(concern.team.public_phone),
        "instruction": instruction[:EMERGENCY_IN_A_TEXT],
    }
    return Reply(render(template_id, variables, locale))


EMERGENCY_IN_A_TEXT = 90  # the trust's instruction, cut to keep the reply within two segments


def _event(text: InboundText, *, kind: str, concern_id: int | None, payload: dict) -> None:
    db.session.add(
        MessageEvent(
            kind=kind,
            concern_id=concern_id,
            provider_sid=(text.provider_sid or "")[:64] or None,
            from_number=text.from_number[:20],
            payload=payload,
            idempotency_token=_token(text),
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
