"""The ward's daily check page (docs/architecture.md#beds): each bed in use, who is in it, whether they were asked
today and their latest answer; the "worse" answers nobody has seen at the top. Ward staff of the ward admit,
discharge and record answers at the bedside; outreach see their teams' wards read only. Thin: the rules are
services/daily_check."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.extensions import db
from tracker.models import User
from tracker.problems import Problem
from tracker.services.daily_check import answers, occupancy, self_answers
from tracker.services.daily_check.reach import ward_to_see, wards_to_see
from tracker.services.daily_check.words import (
    ANSWERED_BY_WORDS,
    COMPARED_WORDS,
    FEELING_WORDS,
    QUESTION_COMPARED,
    QUESTION_FEELING,
)
from tracker.services.records import audit
from tracker.services.scope import Permission, can
from tracker.triage import bp
from tracker.triage.check_forms import AdmitForm, AnswerForm
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires
from tracker.web.refusals import shown


def _user() -> User:
    return current_user.user


@bp.get("/ward/check")
@requires(Permission.SEE_DAILY_CHECK)
def daily_check_page():
    """The daily check of the person's ward (ward staff), or of `?ward=<code>` (outreach, their teams' wards, read
    only). Outreach without a ward choose one; a ward out of reach is not found (404, the attempt audited)."""
    code = request.args.get("ward")
    if code is None and not can(_user(), Permission.RECORD_DAILY_CHECK):
        return render_template("triage/daily_check_wards.html", wards=wards_to_see(_user()))
    return _render(found_or_404(ward_to_see(_user(), code), "ward"))


def _render(ward, problem: str | None = None, status: int = 200):
    return (
        render_template(
            "triage/daily_check.html",
            ward=ward,
            today=answers.ward_today(ward.id),
            may_record=can(_user(), Permission.RECORD_DAILY_CHECK) and _user().ward_id == ward.id,
            feelings=list(FEELING_WORDS.items()),
            comparisons=list(COMPARED_WORDS.items()),
            feeling_words=FEELING_WORDS,
            compared_words=COMPARED_WORDS,
            question_feeling=QUESTION_FEELING,
            question_compared=QUESTION_COMPARED,
            answered_by_words=ANSWERED_BY_WORDS,
            problem=problem,
        ),
        status,
    )


def _carry_out(do: Callable[[], str], anchor: str = ""):
    """Do it and save it, then back to the page with `do`'s message; a refusal is the page again with the refusal
    at the top (400), nothing saved."""
    try:
        message = do()
        db.session.commit()
    except Problem as refused:
        return shown(refused, lambda problem: _render(_user().ward, str(problem), 400))
    flash(message, "success")
    return redirect(url_for(".daily_check_page") + anchor)


def _bed(bed_id: int):
    return found_or_404(occupancy.ward_bed(_user(), bed_id), "bed")


def _answer(answer_id: int):
    return found_or_404(answers.ward_answer(_user(), answer_id), "daily check answer")


@bp.post("/ward/check/bed/<int:bed_id>/admit")
@requires(Permission.RECORD_DAILY_CHECK)
def admit_to_bed(bed_id: int) -> Response:
    """Mark a bed of the nurse's ward as occupied (another ward's bed, or none: 404)."""
    bed = _bed(bed_id)

    def do() -> str:
        occupancy.admit(_user(), bed, AdmitForm.read().checked().patient_name.data)
        return f"{bed.label} is marked as occupied."

    return _carry_out(do, f"#bed-{bed.id}")


@bp.post("/ward/check/bed/<int:bed_id>/discharge")
@requires(Permission.RECORD_DAILY_CHECK)
def discharge_from_bed(bed_id: int) -> Response:
    """Mark a bed of the nurse's ward as empty (another ward's bed, or none: 404)."""
    bed = _bed(bed_id)

    def do() -> str:
        occupancy.discharge(_user(), bed)
        return f"{bed.label} is marked as empty."

    return _carry_out(do, f"#bed-{bed.id}")


@bp.post("/ward/check/bed/<int:bed_id>/answer")
@requires(Permission.RECORD_DAILY_CHECK)
def record_check_answer(bed_id: int) -> Response:
    """Save the answer a nurse was given at the bedside (another ward's bed, or none: 404; a refusal: 400)."""
    bed = _bed(bed_id)

    def do() -> str:
        form = AnswerForm.read().checked()
        answer = answers.record_by_staff(_user(), bed, form.feeling.data, form.compared.data, form.text.data)
        return f"{bed.label}: saved." + (" It is worse: it is at the top of the page." if answer.worse else "")

    return _carry_out(do, f"#bed-{bed.id}")


@bp.post("/ward/check/answer/<int:answer_id>/seen")
@requires(Permission.RECORD_DAILY_CHECK)
def mark_check_seen(answer_id: int) -> Response:
    """Mark a "worse" answer of the nurse's ward as seen (audited; another ward's answer, or none: 404)."""
    answer = _answer(answer_id)

    def do() -> str:
        answers.mark_seen(_user(), answer)
        return f"{answer.bed.label}'s worse answer is marked as seen."

    return _carry_out(do)


@bp.post("/ward/check/answer/<int:answer_id>/acted-on")
@requires(Permission.RECORD_DAILY_CHECK)
def mark_check_acted_on(answer_id: int) -> Response:
    """Mark a "worse" answer of the nurse's ward as acted on (audited; another ward's answer, or none: 404)."""
    answer = _answer(answer_id)

    def do() -> str:
        answers.mark_acted_on(_user(), answer)
        return f"{answer.bed.label}'s worse answer is marked as acted on."

    return _carry_out(do)


@bp.post("/ward/check/answer/<int:answer_id>/confirm")
@requires(Permission.RECORD_DAILY_CHECK)
def confirm_check_answer(answer_id: int) -> Response:
    """Confirm a patient's or family's answer, so the bed counts as asked (audited; another ward's answer: 404)."""
    answer = _answer(answer_id)

    def do() -> str:
        self_answers.confirm(_user(), answer)
        return f"{answer.bed.label}'s answer is confirmed: the patient counts as asked today."

    return _carry_out(do, f"#bed-{answer.bed_id}")


@bp.post("/ward/check/answer/<int:answer_id>/raise-call")
@requires(Permission.RECORD_DAILY_CHECK)
def raise_check_call(answer_id: int) -> Response:
    """Raise a Martha's Rule call from a worse answer, linked to it, as a staff call (another ward's answer: 404;
    pressed twice: the same call)."""
    answer = _answer(answer_id)

    def do() -> str:
        outcome = self_answers.raise_call(answer, audit.Actor.user(_user().id))
        return f"Martha's Rule call {outcome.reference} raised for {answer.bed.label}: outreach have been alerted."

    return _carry_out(do)
