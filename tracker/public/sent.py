"""The family's confirmation page, for the browser that sent the form only, and its "text me my reference again"
(docs/architecture.md#a-concerns-path)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from tracker.db import begin_write
from tracker.extensions import db
from tracker.public import bp, more
from tracker.public.routes import find_ward, kiosk_config, unavailable_ward
from tracker.services.concerns import reference_texts
from tracker.services.messaging.notifications import FamilyText
from tracker.services.setup.settings import current_settings
from tracker.web import contact, sent_cookie


@bp.get("/w/<ward_code:code>/sent")
def sent(code: str):
    """The confirmation: the reference, what happens next, and whether a text is coming."""
    ward = find_ward(code)
    if ward is None:
        return unavailable_ward(code, None)
    shown = sent_cookie.this_browsers(ward.code)
    if shown is None:
        return redirect(url_for(".concern_form", code=ward.code))
    return render_template(
        "public/sent.html",
        ward=ward,
        reference=shown.reference,
        sent_at=shown.created_at,
        family_text=FamilyText(shown.family_text),
        number=shown.number_masked or "",
        kiosk=shown.kiosk,
        kiosk_timing=kiosk_config(),
        may_text_again=not shown.kiosk and reference_texts.may_text_again(shown.concern_id),
        may_add_details=more.open_capability(ward.code) is not None,
        contact=contact.for_ward(ward, current_settings()),
    )


@bp.post("/w/<ward_code:code>/sent/text")
def text_reference(code: str):
    """Text the reference once more to the number the family gave, where they could be texted at all. Never from
    a ward tablet: the next person at it could press the button."""
    ward = find_ward(code)
    shown = sent_cookie.this_browsers(ward.code) if ward is not None else None
    if ward is None:
        return redirect(url_for(".choose_ward"), 303)
    if shown is None:
        return redirect(url_for(".concern_form", code=ward.code), 303)
    if shown.kiosk:
        return redirect(url_for(".sent", code=ward.code), 303)
    begin_write()
    try:
        reference_texts.text_again(shown.concern_id)
    except reference_texts.ReferenceTextProblem as refused:
        db.session.rollback()
        flash(str(refused), "warning")  # plain words for the family, written in reference_texts
        return redirect(url_for(".sent", code=ward.code), 303)
    db.session.commit()
    flash(_("We are texting your reference to you again."), "success")
    return redirect(url_for(".sent", code=ward.code), 303)
