"""Twilio's webhooks (docs/architecture.md#messages): delivery reports, texts sent to our number, and the key pressed
on a voice alert.

Nothing here trusts the request until its X-Twilio-Signature checks out against the public URL
Twilio called (rebuilt from PUBLIC_BASE_URL, never from the local address behind the proxy);
anything else gets 403 and changes nothing. These are the only POSTs without a CSRF token (the
signature is their proof of origin) and they are not rate limited: a delivery report or a
family's reply is never refused. The write lock is taken only after the signature is checked,
so a flood of forged requests cannot hold up the app's writes.
"""

from __future__ import annotations

import logging
import unicodedata

from flask import Blueprint, Response, abort, current_app, request

from tracker.db import begin_write, deferred_write
from tracker.extensions import csrf, db, limiter
from tracker.outbox import delivery_reports, inbound
from tracker.services.records import audit
from tracker.sms.twilio import sms_reply, validate_signature, voice_reply
from tracker.sms.twilio_codes import delivery_reason

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")
csrf.exempt(bp)
limiter.exempt(bp)

TWIML = "application/xml"
CALL_FAILED_REASON = "The call could not be connected."


def signed_url() -> str:
    """The URL Twilio signed: our public base, the path, and the query only when there is one
    (Werkzeug's `full_path` ends in a bare "?" without a query, which Twilio never signs)."""
    query = request.query_string.decode("latin-1")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path + (f"?{query}" if query else "")


def check_signature() -> None:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not validate_signature(token or "", signed_url(), request.form, request.headers.get("X-Twilio-Signature")):
        # Logged for the operators (a wrong PUBLIC_BASE_URL shows up here first); nothing is stored.
        log.warning("refused a webhook with a missing or wrong signature: %s", request.path)
        abort(403, description="The request signature is missing or wrong.")
    begin_write()


def _message_id() -> int | None:
    """The id we put in the callback's address; anything else ("²", which `isdigit` accepts) matches nothing."""
    raw = request.args.get("m", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _form(name: str, limit: int = 64) -> str | None:
    """A field as far as it can be read: control characters (NUL, which PostgreSQL refuses) dropped, never refused
    (web/request_checks.py leaves these views to read their own fields)."""
    value = "".join(ch for ch in request.form.get(name, "") if unicodedata.category(ch) != "Cc")
    return value[:limit] or None


@bp.post("/status")
@deferred_write
def status():
    """A delivery report for a text (MessageStatus) or a call (CallStatus)."""
    check_signature()
    is_call = "CallStatus" in request.form
    state = (_form("CallStatus" if is_call else "MessageStatus", 20) or "").lower() or None
    code = _form("ErrorCode", 20)
    reason = CALL_FAILED_REASON if is_call and not code else delivery_reason(code)
    report = delivery_reports.StatusReport(
        message_id=_message_id(),
        provider_sid=_form("CallSid" if is_call else "MessageSid"),
        status=state,
        error_code=code,
        error_reason=reason,
        # What we keep of the report: codes and states, never the numbers or a text's words.
        payload={
            key: _form(key) or ""
            for key in ("MessageStatus", "CallStatus", "ErrorCode", "CallDuration", "SipResponseCode")
            if key in request.form
        },
    )
    outcome = delivery_reports.record_status(report)
    db.session.commit()
    return Response("", 204, headers={"X-Outcome": outcome})


@bp.post("/inbound")
@deferred_write
def inbound_text():
    """A text sent to our number: STOP / START / HELP, ACK from a paged clinician, or a reply
    from a family."""
    check_signature()
    sender = _form("From", 20)
    if not sender:
        db.session.rollback()
        abort(400, description="An inbound text needs From.")
    reply = inbound.receive_text(
        inbound.InboundText(
            from_number=sender,
            body=request.form.get("Body", "")[: inbound.REPLY_LIMIT * 2],
            provider_sid=_form("MessageSid"),
            opt_out_type=_form("OptOutType", 20),
        )
    )
    if reply.text:
        audit.record("sms_reply_sent", audit.Actor.system())
    db.session.commit()
    return Response(sms_reply(reply.text), 200, mimetype=TWIML)


@bp.post("/voice")
@deferred_write
def voice():
    """The key pressed on a voice alert (the call's <Gather> posts here)."""
    check_signature()
    words = inbound.receive_keypress(_message_id(), _form("Digits", 4), _form("CallSid"))
    db.session.commit()
    return Response(voice_reply(words), 200, mimetype=TWIML)
