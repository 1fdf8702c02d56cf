"""Reading the triage forms: each function returns the values for one service call, or raises
FormProblem naming the field and saying what to do, in plain English."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tracker.clock import utcnow
from tracker.models import (
    PRIORITIES,
    CallerUpdateMethod,
    CancelKind,
    ChangeInCare,
    ConcernType,
    DeteriorationOutcome,
    ReviewKind,
)
from tracker.problems import FieldProblem as FormProblem
from tracker.services.concerns.news2 import (
    News2InputProblem,
    News2NotApplicable,
    check_applicable,
    parse_observations,
    score,
)
from tracker.services.concerns.triage import Coding
from tracker.web.typed_text import typed_text

# What each free-text field is called in its refusal ("The note has a character we cannot save").
TEXT_LABELS = {"note": "The note", "reason": "The reason", "summary": "The summary", "findings": "What you found"}


def _enum(form, field: str, enum_cls, message: str, required: bool = True):
    value = form.get(field, "")
    if not value and not required:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        raise FormProblem(field, message) from None


def text(form, field: str, message: str | None = None, limit: int = 4000) -> str:
    return typed_text(form, field, label=TEXT_LABELS.get(field, "The text"), limit=limit, required=message)


def version(form) -> int | None:
    value = form.get("version", "")
    if not value.isdigit():
        raise FormProblem("version", "This page is out of date. Reload it and try again.")
    return int(value)


def priority(form) -> int | None:
    value = form.get("priority", "")
    if value == "":
        return None
    if not value.isdigit() or int(value) not in PRIORITIES:
        raise FormProblem("priority", "Choose a priority from the list")
    return int(value)


def review(form, *, patient_age: int | None):
    """(kind, findings, NEWS2 score or None). NEWS2 is optional; when given it must be complete."""
    kind = _enum(form, "review_kind", ReviewKind, "Choose how the patient was reviewed")
    findings = text(form, "findings", "Write what you found")
    return kind, findings, news2(form, patient_age=patient_age) if form.get("news2") == "yes" else None


def news2(form, *, patient_age: int | None):
    """The NEWS2 score from the review form's observations, or FormProblem naming what is wrong."""
    pregnant = form.get("pregnant")
    if pregnant not in {"yes", "no"}:
        raise FormProblem("pregnant", "Say whether the patient is pregnant: NEWS2 is not valid in pregnancy")
    age = patient_age
    if age is None:
        age_text = (form.get("age") or "").strip()
        if not age_text.isdigit() or not 0 <= int(age_text) <= 120:
            raise FormProblem("age", "Enter the patient's age in years: NEWS2 is not valid for under-16s")
        age = int(age_text)
    try:
        check_applicable(age_years=age, pregnant=pregnant == "yes")
        return score(parse_observations(form, scale_2=form.get("scale_2") == "yes"))
    except News2NotApplicable as problem:
        raise FormProblem("news2", str(problem)) from None
    except News2InputProblem as problem:
        raise FormProblem(problem.field, str(problem)) from None


def coding(form, tz: str, *, without_review: bool = False) -> Coding:
    concern_type = _enum(form, "concern_type", ConcernType, "Choose what kind of concern this was")
    needed_text = "no" if without_review else form.get("clinical_review_needed", "")
    if needed_text not in {"yes", "no"}:
        raise FormProblem("clinical_review_needed", "Say whether the call needed a clinical review")
    outcome = _enum(form, "deterioration_outcome", DeteriorationOutcome, "Choose what happened", required=False)
    if concern_type is not ConcernType.ACUTE_DETERIORATION:
        outcome = None  # hidden unless acute deterioration is chosen; ignore a stale choice
    changes = []
    for value in form.getlist("change_in_care") if outcome is DeteriorationOutcome.CHANGE_IN_CARE else []:
        try:
            changes.append(ChangeInCare(value))
        except ValueError:
            raise FormProblem("change_in_care", "Choose what changed from the list") from None
    method = _enum(
        form,
        "caller_update_method",
        CallerUpdateMethod,
        "Say how the caller was updated, or that they could not be contacted",
    )
    when = None
    if method is not CallerUpdateMethod.COULD_NOT_CONTACT:
        when = caller_update_time(form, tz)
    return Coding(concern_type, needed_text == "yes", outcome, tuple(changes), method, when)


def caller_update_time(form, tz: str) -> datetime:
    """ "HH:MM" today in the trust's time zone (or now if left empty)."""
    value = (form.get("caller_updated_time") or "").strip()
    if not value:
        return utcnow()
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        local_now = utcnow().astimezone(ZoneInfo(tz))
        moment = local_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    except ValueError:
        raise FormProblem("caller_updated_time", "Enter the time like 14:30, or leave it empty for now") from None
    return moment.astimezone(ZoneInfo("UTC"))


def cancel(form) -> tuple[CancelKind, str, str | None]:
    kind = _enum(form, "cancel_kind", CancelKind, "Choose why the call is cancelled")
    reason = text(form, "reason", "Give a reason")
    duplicate_of = (form.get("duplicate_of") or "").strip() if kind is CancelKind.DUPLICATE else None
    if kind is CancelKind.DUPLICATE and not duplicate_of:
        raise FormProblem("duplicate_of", "Give the reference of the call this one repeats")
    return kind, reason, duplicate_of
