"""Error pages. Every one keeps the emergency instruction and the phone number on screen and
never shows a stack trace; the last-resort handler logs the error with a reference to quote."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, Response, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from tracker.extensions import db
from tracker.web import contact

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Something went wrong with that request"), _l("Go back and try again.")),
    403: (_l("You cannot open this page"), _l("Go back to the start.")),
    404: (_l("Page not found"), _l("Check the web address, or go back to the start.")),
    405: (_l("Something went wrong with that request"), _l("Go back and try again.")),
    410: (_l("This page is no longer used"), _l("Go back to the start.")),
    413: (_l("What you sent was too long"), _l("Go back, make your answers shorter and try again.")),
    415: (_l("Something went wrong with that request"), _l("Go back and try again.")),
    429: (_l("Too many requests"), _l("Wait a minute and try again.")),
    500: (_l("Sorry, there is a problem with this service"), _l("Try again later.")),
    503: (_l("Sorry, the service is not working right now"), _l("Try again in a few minutes.")),
}


def _ward_code_from_path() -> str | None:
    parts = request.path.strip("/").split("/")
    return parts[1].lower() if len(parts) >= 2 and parts[0] == "w" else None


def render_error(status: int, error_reference: str | None = None):
    title, advice = MESSAGES.get(status, MESSAGES[500])
    help_ = contact.fallback(_ward_code_from_path())
    if request_ctx.url_adapter is not None:  # None when the request was refused before routing (bad Host)
        try:
            return render_template(
                "errors/error.html",
                status=status,
                title=title,
                advice=advice,
                error_reference=error_reference,
                contact=help_,
            ), status
        except Exception:
            log.exception("the error page itself failed to render")
    # The plainest page that still says what to do.
    body = (
        f'<!DOCTYPE html><html lang="en"><title>{escape(title)}</title><h1>{escape(title)}</h1>'
        f"<p>{escape(help_.emergency_instruction)}</p><p>{escape(advice)}</p>"
        f"<p>Outreach team: {escape(help_.phone)}</p></html>"
    )
    return Response(body, status=status, mimetype="text/html")


# The database cannot be reached or cannot take the write (PostgreSQL restarting, a dropped connection, the pool
# exhausted; SQLite locked past its busy timeout or its disk full): a kind 503, never a 500 (HAZ-001).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
FAMILY_FORM = "public.concern_form"
WORRY_FIELD = "worry_details"


def render_not_sent():
    """The family's form could not be saved: their answers come back, the words they wrote in a box to read and
    change, the rest (with the form's token and its one-time submission id, so a second press makes one call)
    kept in the page, and nothing read from the database to draw it."""
    from tracker.web.concern_form import ConcernForm

    # Everything posted goes back as it came (nothing here is read for its meaning): the family's words to see.
    kept, details = [], ""
    for name, value in request.form.items(multi=True):
        if name == WORRY_FIELD:
            details = value
        else:
            kept.append((name, value))
    help_ = contact.fallback(_ward_code_from_path())
    try:
        return render_template(
            "errors/not_sent.html",
            kept=kept,
            details=details,
            details_label=ConcernForm.worry_details.args[0],
            action=request.path,
            contact=help_,
        ), 503
    except Exception:
        log.exception("the not-sent page itself failed to render")
    title, _advice = MESSAGES[503]
    hidden = "".join(f'<input type="hidden" name="{escape(n)}" value="{escape(v)}">' for n, v in kept)
    body = (
        f'<!DOCTYPE html><html lang="en"><title>{escape(title)}</title><h1>{escape(title)}</h1>'
        f"<p>{escape(help_.emergency_instruction)}</p><p>Outreach team: {escape(help_.phone)}</p>"
        f'<form method="post" action="{escape(request.path)}">{hidden}'
        f'<textarea name="{WORRY_FIELD}">{escape(details)}</textarea>'
        f"<button>Send request</button></form></html>"
    )
    return Response(body, status=503, mimetype="text/html")


def _rollback_quietly(reference: str) -> None:
    try:
        db.session.rollback()
    except Exception:
        log.exception("rollback after error %s failed", reference)


def register(app: Flask) -> None:
    def database_unavailable(error: Exception):
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        _rollback_quietly("(database unavailable)")
        if request.method == "POST" and request.endpoint == FAMILY_FORM:
            return render_not_sent()
        return render_error(503)

    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(Exception)
    def last_resort(error: Exception):
        reference = secrets.token_hex(4).upper()
        log.exception("unhandled error %s on %s %s", reference, request.method, request.path)
        _rollback_quietly(reference)
        return render_error(500, reference)
