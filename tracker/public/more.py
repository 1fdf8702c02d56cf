"""The family form's optional second page (services/concerns/more_details.py): only for the browser session that
sent the form, once, within half an hour."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from tracker.db import begin_write
from tracker.extensions import db
from tracker.models import Confirmation
from tracker.public import bp
from tracker.public.routes import find_ward, kiosk_config, unavailable_ward
from tracker.services.concerns import confirmations, more_details
from tracker.services.setup.settings import current_settings
from tracker.web import contact, sent_cookie
from tracker.web.concern_details import MoreDetailsForm


def open_capability(code: str) -> Confirmation | None:
    """This session's confirmation for the ward, while its one chance to add details lasts."""
    shown = confirmations.find(sent_cookie.session_token(), code, more_details.WINDOW)
    return shown if more_details.open_for(shown) else None


@bp.route("/w/<ward_code:code>/more", methods=["GET", "POST"], endpoint="more_details")
def more_details_page(code: str):
    ward = find_ward(code)
    if ward is None:
        return unavailable_ward(code, None)
    shown = open_capability(ward.code)
    if shown is None:
        if sent_cookie.this_browsers(ward.code) is None:  # a kiosk's next family, or a stranger: nothing to say
            return redirect(url_for(".concern_form", code=ward.code), 303)
        flash(_("You can no longer add details here. If there is something the team should know, phone them."))
        return redirect(url_for(".sent", code=ward.code), 303)
    form = MoreDetailsForm(request.form if request.method == "POST" else None)
    if request.method == "GET" or not form.validate():
        status = 400 if request.method == "POST" else 200
        return render_template(
            "public/more.html",
            ward=ward,
            form=form,
            errors=form.error_list() if request.method == "POST" else [],
            reference=shown.reference,
            kiosk=shown.kiosk,
            kiosk_timing=kiosk_config(),
            contact=contact.for_ward(ward, current_settings()),
        ), status
    begin_write()
    try:
        more_details.add(shown, form.to_details())
    except more_details.DetailsClosed as closed:
        db.session.rollback()
        flash(str(closed))
        return redirect(url_for(".sent", code=ward.code), 303)
    db.session.commit()
    flash(_("Thank you. We have added these details to your request."), "success")
    return redirect(url_for(".sent", code=ward.code), 303)
