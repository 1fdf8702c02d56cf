"""The daily check for patients and families (docs/architecture.md#beds): /w/<code>/daily on the ward's tablet or
a phone, one page without JavaScript; then a thank-you page that, for a worse answer, offers the Martha's Rule
route. Thin: the rules are services/daily_check/self_answers.py."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from tracker import numbers
from tracker.extensions import db
from tracker.models import AnsweredBy, CheckChannel, DailyCheckAnswer
from tracker.public import bp
from tracker.public.routes import _confirmation, _kiosk, find_ward, kiosk_config, unavailable_ward
from tracker.services.daily_check import self_answers
from tracker.services.daily_check.answers import MAX_TEXT, AnswerProblem
from tracker.services.daily_check.occupancy import MAX_NAME
from tracker.services.daily_check.words import COMPARED_WORDS, FEELING_WORDS, QUESTION_COMPARED, QUESTION_FEELING
from tracker.services.records import audit
from tracker.services.setup.beds import beds_in_use
from tracker.services.setup.settings import current_settings
from tracker.services.setup.wards import WardInfo
from tracker.web import contact, sent_cookie

SESSION_KEY = "daily_check"
WHO = {AnsweredBy.PATIENT.value, AnsweredBy.FAMILY.value}


def _ward_or_page(code: str) -> tuple[WardInfo | None, object]:
    ward = find_ward(code)
    if ward is None or ward.is_retired:
        return None, unavailable_ward(code, ward)
    return ward, None


def _errors(form) -> list[dict]:
    """What is wrong with the posted answer, in the family's language, field by field (nothing is saved)."""
    errors = []
    if numbers.database_id(form.get("bed")) is None:
        errors.append({"text": _("Choose the bed"), "href": "#bed"})
    name = form.get("patient_name", "").strip()
    if not name:
        errors.append({"text": _("Give the patient's name"), "href": "#patient_name"})
    elif len(name) > MAX_NAME:
        errors.append(
            {"text": _("The patient's name must be %(n)s characters or fewer", n=MAX_NAME), "href": "#patient_name"}
        )
    if form.get("who") not in WHO:
        errors.append({"text": _("Say who is answering"), "href": "#who"})
    if form.get("feeling") not in FEELING_WORDS:
        errors.append({"text": _("Choose how the patient is feeling today"), "href": "#feeling"})
    if form.get("compared") not in COMPARED_WORDS:
        errors.append(
            {"text": _("Say whether the patient is better, the same or worse than yesterday"), "href": "#compared"}
        )
    if len(form.get("text", "")) > MAX_TEXT:
        errors.append(
            {"text": _("What you want to tell us must be %(n)s characters or fewer", n=MAX_TEXT), "href": "#text"}
        )
    return errors


def _page(ward: WardInfo, kiosk: bool, form=None, errors=(), too_soon: bool = False, status: int = 200):
    return render_template(
        "public/daily_check.html",
        ward=ward,
        beds=beds_in_use(ward.id),
        form=form or {},
        errors=list(errors),
        too_soon=too_soon,
        kiosk=kiosk,
        kiosk_timing=kiosk_config(),
        feelings=list(FEELING_WORDS.items()),
        comparisons=list(COMPARED_WORDS.items()),
        question_feeling=QUESTION_FEELING,
        question_compared=QUESTION_COMPARED,
        max_name=MAX_NAME,
        max_text=MAX_TEXT,
        contact=contact.for_ward(ward, current_settings()),
    ), status


@bp.route("/w/<ward_code:code>/daily", methods=["GET", "POST"])
def daily_check(code: str):
    """The daily check's two questions for a bed of this ward, answered by the patient or family. Bad input: the
    page again with its errors and the answers kept (400); the bed answered a moment ago: a clear message (429)
    that points to the urgent-review form, which is never limited."""
    ward, refusal = _ward_or_page(code)
    if ward is None:
        return refusal
    kiosk = _kiosk(ward)
    if request.method == "GET":
        if kiosk:
            session.pop(SESSION_KEY, None)  # the next person at the tablet never sees the last one's answer
        return _page(ward, kiosk)
    form = request.form
    errors = _errors(form)
    bed_id = numbers.database_id(form.get("bed"))
    bed = self_answers.public_bed(ward.id, bed_id) if bed_id is not None and not errors else None
    if not errors and bed is None:
        errors.append({"text": _("Choose the bed from the list"), "href": "#bed"})
    if errors or bed is None:
        return _page(ward, kiosk, form, errors, status=400)
    try:
        answer = self_answers.record_self(
            bed,
            AnsweredBy(form["who"]),
            CheckChannel.TABLET if kiosk else CheckChannel.OWN_DEVICE,
            form["patient_name"],
            form["feeling"],
            form["compared"],
            form.get("text"),
        )
        db.session.commit()
    except self_answers.TooSoon:
        db.session.rollback()
        return _page(ward, kiosk, form, too_soon=True, status=429)
    except AnswerProblem:
        db.session.rollback()
        return _page(ward, kiosk, form, [{"text": _("Check your answers"), "href": "#bed"}], status=400)
    session[SESSION_KEY] = answer.id
    return redirect(url_for(".daily_check_thanks", code=ward.code), 303)


def _this_browsers_answer(ward: WardInfo) -> DailyCheckAnswer | None:
    answer_id = session.get(SESSION_KEY)
    answer = db.session.get(DailyCheckAnswer, answer_id) if isinstance(answer_id, int) else None
    return answer if answer is not None and answer.ward_id == ward.id else None


@bp.get("/w/<ward_code:code>/daily/thanks")
def daily_check_thanks(code: str):
    """Thanks, and for a worse answer the offer of an urgent review (Yes / Not now). Only the browser that sent
    the answer sees it; any other goes to the form."""
    ward, refusal = _ward_or_page(code)
    if ward is None:
        return refusal
    answer = _this_browsers_answer(ward)
    if answer is None:
        return redirect(url_for(".daily_check", code=ward.code))
    return render_template(
        "public/daily_check_thanks.html",
        ward=ward,
        answer=answer,
        offer=answer.worse and answer.concern_id is None and request.args.get("not_now") is None,
        kiosk=_kiosk(ward),
        kiosk_timing=kiosk_config(),
        contact=contact.for_ward(ward, current_settings()),
    )


@bp.post("/w/<ward_code:code>/daily/review")
def daily_check_review(code: str):
    """Yes to the offer: raise the urgent review, pre-filled from this browser's worse answer and linked to it, then
    the family form's own confirmation page. No limit applies; pressed twice, the same call."""
    ward, refusal = _ward_or_page(code)
    if ward is None:
        return refusal
    answer = _this_browsers_answer(ward)
    if answer is None or not answer.worse:
        return redirect(url_for(".daily_check", code=ward.code), 303)
    kiosk = _kiosk(ward)
    outcome = self_answers.raise_call(answer, audit.Actor.public(), str(get_locale() or "en"))
    token = _confirmation(
        outcome.concern_id, ward.code, outcome.reference, outcome.family_text, outcome.callback_number, kiosk
    )
    db.session.commit()
    response = redirect(url_for(".sent", code=ward.code), 303)
    sent_cookie.remember(response, token, kiosk=kiosk)
    return response
