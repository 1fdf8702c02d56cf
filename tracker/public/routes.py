"""Public views. Thin: find the ward, validate the form, call `services.concerns.raise_concern`,
commit, redirect to the confirmation."""

from __future__ import annotations

import logging
import re
import secrets

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from tracker.db import begin_write, deferred_write
from tracker.extensions import csrf, db
from tracker.models import Channel
from tracker.public import bp
from tracker.services.concerns import confirmations
from tracker.services.concerns.intake import (
    Source,
    WardUnavailable,
    raise_concern,
)
from tracker.services.messaging.notifications import FamilyText
from tracker.services.records import audit
from tracker.services.setup import tablets, wards
from tracker.services.setup.settings import current_settings
from tracker.services.setup.wards import WardInfo, ward_by_code
from tracker.services.text import TextProblem, clean_line
from tracker.web import concern_form_helpers as view_helpers
from tracker.web import contact, enrolment, sent_cookie
from tracker.web.concern_form import ConcernForm, new_submission_id

log = logging.getLogger(__name__)

WARD_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600


def find_ward(code: str) -> WardInfo | None:
    code = code.lower()
    if not WARD_CODE.match(code):
        return None
    return ward_by_code(code)


def _kiosk(ward: WardInfo) -> bool:
    """Kiosk mode comes from this device's enrolment as a ward tablet (or, for a while, the ward's old
    setting), never from anything in the request a family's phone could carry (services/setup/tablets.py)."""
    return tablets.kiosk_for(ward, enrolment.this_device()).on


def kiosk_config() -> dict:
    config = current_app.config
    return {
        "idle": config["KIOSK_IDLE_SECONDS"],
        "warning": config["KIOSK_WARNING_SECONDS"],
        "confirmation": config["KIOSK_CONFIRMATION_SECONDS"],
    }


@bp.get("/")
def choose_ward():
    try:
        query = clean_line(request.args.get("q", ""), 60)
    except TextProblem:
        query = ""
    settings = current_settings()
    return render_template(
        "public/choose_ward.html",
        groups=wards.open_wards_by_site(query),
        query=query,
        contact=contact.for_trust(settings),
    )


def unavailable_ward(code: str, ward: WardInfo | None):
    settings = current_settings()
    successor = ward.successor if ward is not None and ward.successor and not ward.successor.is_retired else None
    status = 410 if ward is not None else 404
    return render_template(
        "public/ward_unavailable.html",
        code=code if WARD_CODE.match(code.lower()) else None,
        retired=ward is not None,
        successor=successor,
        groups=wards.open_wards_by_site(),
        contact=contact.for_trust(settings),
    ), status


def _render_form(
    ward: WardInfo,
    form: ConcernForm,
    kiosk: bool,
    status: int = 200,
    *,
    csrf_expired: bool = False,
    send_failed: bool = False,
):
    settings = current_settings()
    response = current_app.make_response(
        (
            render_template(
                "public/concern_form.html",
                ward=ward,
                form=form,
                kiosk=kiosk,
                kiosk_timing=kiosk_config(),
                errors=form.error_list(),
                csrf_expired=csrf_expired,
                send_failed=send_failed,
                text_relatives_allowed=settings.text_relatives_allowed,
                contact=contact.for_ward(ward, settings),
                earlier=None if kiosk else confirmations.find_any(sent_cookie.tokens_in_browser(), ward.code),
            ),
            status,
        )
    )
    name = current_app.config["DEVICE_COOKIE_NAME"]
    if not request.cookies.get(name):
        response.set_cookie(
            name,
            secrets.token_urlsafe(16),
            max_age=DEVICE_COOKIE_MAX_AGE,
            path="/",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.route("/w/<ward_code:code>", methods=["GET", "POST"])
@csrf.exempt  # checked inside, so an expired token keeps what was typed (see ConcernForm.Meta)
@deferred_write
def concern_form(code: str):
    """The family's form for one ward. Its address is printed on posters: it never changes."""
    ward = find_ward(code)
    if ward is None or ward.is_retired:
        return unavailable_ward(code, ward)
    if ward.code != code and request.method == "GET":
        # Built from what we know only: request arguments never reach url_for (`_external`,
        # `_scheme` and the like would build links to any host).
        return redirect(url_for(".concern_form", code=ward.code), 301)

    kiosk = _kiosk(ward)
    if request.method == "GET":
        if kiosk:
            # A fresh kiosk form: forget the last family's confirmation, so Back shows nothing.
            session.pop("confirmation", None)
        form = ConcernForm(bed_labels=ward.beds, data={"submission_id": new_submission_id()})
        return _render_form(ward, form, kiosk)

    form = ConcernForm(request.form, bed_labels=ward.beds)
    try:
        csrf.protect()
        csrf_expired = False
    except CSRFError:
        csrf_expired = True
    valid = form.validate()
    form.keep_or_renew_submission_id()
    if csrf_expired or not valid:
        return _render_form(ward, form, kiosk, 400, csrf_expired=csrf_expired)

    channel = Channel.TABLET if kiosk else Channel.OWN_DEVICE
    intake = form.to_intake(ward_id=ward.id, channel=channel, locale=str(get_locale() or "en"))
    source = Source(
        device_id=request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"]), address=request.remote_addr
    )
    ward_code = ward.code
    # Validation is done: only now take SQLite's write lock, for the shortest time.
    begin_write()
    try:
        outcome = raise_concern(intake, source, audit.Actor.public())
        confirmation = _confirmation(
            outcome.concern_id, ward_code, outcome.reference, outcome.family_text, outcome.callback_number, kiosk
        )
        db.session.commit()
    except WardUnavailable:
        db.session.rollback()
        return unavailable_ward(code, find_ward(code))
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not save a concern for ward %s", ward_code)
        return _render_form(find_ward(code) or ward, form, kiosk, 503, send_failed=True)
    response = redirect(url_for(".sent", code=ward_code), 303)
    sent_cookie.remember(response, confirmation, kiosk=kiosk)
    return response


def _confirmation(
    concern_id: int, ward_code: str, reference: str, family_text: FamilyText, number: str | None, kiosk: bool
) -> str:
    """Keep what the confirmation page shows on the server, in the concern's transaction; the
    browser's cookie gets only the random id (nothing personal on a shared tablet)."""
    return confirmations.create(
        concern_id=concern_id,
        ward_code=ward_code,
        reference=reference,
        family_text=family_text.value,
        number=number,
        kiosk=kiosk,
    )


KIOSK_BACK = re.compile(r"^/w/[a-z0-9][a-z0-9-]{0,31}(/daily)?$")


def _back_to_kiosk() -> str | None:
    """Where "Back to the form" goes from the privacy and accessibility pages in kiosk mode: only ever one of
    our own ward forms, and only when that form is a kiosk on this device (so a link passed around never puts a
    phone's pages in kiosk mode)."""
    back = request.args.get("back", "")
    if not KIOSK_BACK.match(back):
        return None
    ward = find_ward(back.removeprefix("/w/").removesuffix("/daily"))
    return back if ward is not None and not ward.is_retired and _kiosk(ward) else None


def _from_ward():
    """The ward whose page linked here (its footer carries `ward`, or a kiosk's `back`), so its team's number is
    the one shown: a ward's pages all give the same number."""
    code = request.args.get("ward", "") or request.args.get("back", "").removeprefix("/w/").removesuffix("/daily")
    ward = find_ward(code) if code else None
    return ward if ward is not None and not ward.is_retired else None


def _about_page(template: str):
    settings = current_settings()
    ward = _from_ward()
    shown = contact.for_ward(ward, settings) if ward else contact.for_trust(settings)
    return render_template(template, contact=shown, back=_back_to_kiosk(), ward_code=ward.code if ward else None)


@bp.get("/privacy")
def privacy():
    return _about_page("public/privacy.html")


@bp.get("/accessibility")
def accessibility():
    return _about_page("public/accessibility.html")


@bp.context_processor
def template_helpers():
    return view_helpers.HELPERS
