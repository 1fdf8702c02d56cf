"""The triage forms, one per action on a call. Each is a `PostedForm` (web/posted.py): its fields are
checked in the order the page shows them, and the first problem names its field and says what to do, in
plain English. What a form gives the service is plain values: a cleaned text, an enum, a `Coding`."""

from __future__ import annotations

from datetime import datetime

from wtforms import Field, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import StopValidation

from tracker import numbers
from tracker.clock import NoSuchLocalTime, typed_time_before, utcnow
from tracker.models import (
    PRIORITIES,
    AgeGroup,
    CallerRoute,
    CallerUpdateMethod,
    CancelKind,
    ChangeInCare,
    ConcernType,
    DeteriorationOutcome,
    LocalReason,
    ReviewKind,
)
from tracker.problems import FieldProblem, FieldProblems
from tracker.services.concerns.news2 import (
    News2InputProblem,
    News2NotApplicable,
    Score,
    check_applicable,
    parse_observations,
    score,
)
from tracker.services.concerns.triage import Coding
from tracker.web.posted import PostedForm, hours_and_minutes, one_of, raw, typed

TEXT_LIMIT = 4000
OBSERVATIONS = ("respiration_rate", "spo2", "systolic_bp", "pulse", "temperature", "consciousness", "on_oxygen")


def _values(enum_cls) -> set[str]:
    return {member.value for member in enum_cls}


def _version(form: PostedForm, field: Field) -> None:
    version = numbers.whole_number(raw(field))  # past an id's range is no version this page had
    if version is None:
        raise StopValidation("This page is out of date. Reload it and try again.")
    field.data = version


def reason(required: str) -> TextAreaField:
    return TextAreaField(validators=[typed("The reason", TEXT_LIMIT, required=required)])


class VersionedForm(PostedForm):
    """An action on a call as the page showed it: the version stops two people's changes crossing."""

    version = HiddenField(validators=[_version])


class NoteForm(PostedForm):
    note = TextAreaField(validators=[typed("The note", TEXT_LIMIT, required="Write the note")])


class UpdateCallerForm(PostedForm):
    template_id = HiddenField()  # the service checks it against the texts a caller may be sent


class ReleaseForm(VersionedForm):
    reason = reason("Give a reason for releasing it")


class HandOverForm(VersionedForm):
    to_user_id = StringField()  # the service checks the person is a clinician of the team
    reason = reason("Give a reason for handing it over")

    def to_user(self) -> int:
        chosen = numbers.database_id(self.to_user_id.data)
        return -1 if chosen is None else chosen


class ReopenForm(VersionedForm):
    reason = reason("Give a reason for reopening it")


class LinkForm(VersionedForm):
    """Link this call and another open call about the same patient (services/concerns/linking.py)."""

    other_reference = StringField(
        validators=[typed("The reference", 32, multiline=False, required="Give the reference of the other call")]
    )


class TextInDetailsForm(VersionedForm):
    """Who raised a text-in call and the patient's ward, once a clinician has phoned back (services/concerns/text_in.py)."""

    caller_route = StringField(
        validators=[
            one_of(
                [CallerRoute.PATIENT.value, CallerRoute.FAMILY.value, CallerRoute.STAFF.value],
                "Choose who raised the call",
            )
        ]
    )
    ward_id = StringField(validators=[one_of(lambda form: form.context["ward_ids"], "Choose the patient's ward")])


class UnlinkForm(VersionedForm):
    reason = reason("Say why the calls are not about the same patient")


def _priority(form: PostedForm, field: Field) -> None:
    value = raw(field)
    if value == "":
        field.data = None
        raise StopValidation()
    priority = numbers.digits(value)
    if priority not in PRIORITIES:
        raise StopValidation("Choose a priority from the list")
    field.data = priority


class PriorityForm(VersionedForm):
    priority = StringField(validators=[_priority])


class News2Form(PostedForm):
    """The observations for a NEWS2 score: on the review form, or "Calculate NEWS2" on its own."""

    pregnant = StringField()
    age = StringField()
    scale_2 = StringField()
    respiration_rate = StringField()
    spo2 = StringField()
    systolic_bp = StringField()
    pulse = StringField()
    temperature = StringField()
    consciousness = StringField()
    on_oxygen = StringField()

    def news2(self, *, patient_age: int | None) -> Score:
        """The score, or every missing or wrong answer at once (FieldProblems)."""
        problems: dict[str, str] = {}
        pregnant = raw(self.pregnant)
        if pregnant not in {"yes", "no"}:
            problems["pregnant"] = "Say whether the patient is pregnant: NEWS2 is not valid in pregnancy"
        age = patient_age
        if age is None:
            typed_age = numbers.digits(raw(self.age))
            if typed_age is None or not 0 <= typed_age <= 120:
                problems["age"] = "Enter the patient's age in years: NEWS2 is not valid for under-16s"
            else:
                age = typed_age
        if age is not None and not problems:
            try:
                check_applicable(age_years=age, pregnant=pregnant == "yes")
            except News2NotApplicable as problem:
                raise FieldProblem("news2", str(problem)) from None
        observations = {name: raw(self[name]) for name in OBSERVATIONS}
        try:
            parsed = parse_observations(observations, scale_2=raw(self.scale_2) == "yes")
        except News2InputProblem as wrong:
            problems.update(wrong.problems)
        if problems:
            raise FieldProblems({name: problems[name] for name in NEWS2_ORDER if name in problems})
        return score(parsed)


# The NEWS2 questions in the order the form asks them (the error summary lists them so).
NEWS2_ORDER = (
    "age",
    "pregnant",
    "respiration_rate",
    "spo2",
    "systolic_bp",
    "pulse",
    "temperature",
    "scale_2",
    "on_oxygen",
    "consciousness",
)


class ReviewForm(VersionedForm, News2Form):
    review_kind = StringField(validators=[one_of(_values(ReviewKind), "Choose how the patient was reviewed")])
    findings = TextAreaField(validators=[typed("What you found", TEXT_LIMIT, required="Write what you found")])
    with_news2 = StringField(name="news2")
    intent = HiddenField()  # "calculate": show the score beside the form, save nothing

    def review(self, *, patient_age: int | None) -> tuple[ReviewKind, str, Score | None]:
        """(kind, findings, NEWS2 score or None). NEWS2 is optional; when given it must be complete."""
        self.checked()
        news2 = self.news2(patient_age=patient_age) if raw(self.with_news2) == "yes" else None
        return ReviewKind(self.review_kind.data), self.findings.data, news2


# --- closing: the outcome coding NHS England collects -------------------------------------------------


def _clinical_review_needed(form: PostedForm, field: Field) -> None:
    value = "no" if form.context.get("without_review") else raw(field)
    if value not in {"yes", "no"}:
        raise StopValidation("Say whether the call needed a clinical review")
    field.data = value == "yes"


def _outcome(form: PostedForm, field: Field) -> None:
    if form.concern_type.data != ConcernType.ACUTE_DETERIORATION.value:
        field.data = None  # hidden unless acute deterioration is chosen; a stale choice is ignored
        raise StopValidation()
    one_of(_values(DeteriorationOutcome), "Choose what happened", optional=True)(form, field)


def _changes(form: PostedForm, field: Field) -> None:
    if form.deterioration_outcome.data != DeteriorationOutcome.CHANGE_IN_CARE.value:
        field.data = []
        raise StopValidation()
    if not set(field.data or ()) <= _values(ChangeInCare):
        raise StopValidation("Choose what changed from the list")


def _caller_updated_time(form: PostedForm, field: Field) -> None:
    """A wall-clock time ("HH:MM") in the trust's zone, meaning its latest moment up to 10 minutes
    from now (so 23:58 typed just after midnight is last night); now if left empty; none if the
    caller was not reached."""
    if form.caller_update_method.data == CallerUpdateMethod.COULD_NOT_CONTACT.value:
        field.data = None
        raise StopValidation()
    value = raw(field)
    if not value:
        field.data = utcnow()
        return
    typed = hours_and_minutes(value)
    if typed is None:
        raise StopValidation("Enter the time like 14:30, or leave it empty for now")
    try:
        field.data = typed_time_before(*typed, utcnow(), form.context["tz"])
    except NoSuchLocalTime as gap:
        raise StopValidation(f"{gap}: the clocks went forward. Enter the time as the clock showed it") from None


def _age_group(form: PostedForm, field: Field) -> None:
    """Asked only when the call has no date of birth (read with `dob_known`)."""
    if form.context.get("dob_known"):
        field.data = None
        raise StopValidation()
    # Optional: not answered is "unknown" (the ward's rule), so closing is never held up by it.
    one_of(_values(AgeGroup), "Say whether the patient was under 18, or that it is not known", optional=True)(
        form, field
    )


class CodingForm(VersionedForm):
    """Read with `tz` (the trust's zone, for the time the caller was updated), `dob_known` (whether the
    call has a date of birth: if not, the form asks whether the patient was under 18) and, for a call
    closed without a review, `without_review=True`."""

    concern_type = StringField(validators=[one_of(_values(ConcernType), "Choose what kind of concern this was")])
    clinical_review_needed = StringField(validators=[_clinical_review_needed])
    deterioration_outcome = StringField(validators=[_outcome])
    change_in_care = SelectMultipleField(validate_choice=False, validators=[_changes])
    caller_update_method = StringField(
        validators=[
            one_of(_values(CallerUpdateMethod), "Say how the caller was updated, or that they could not be contacted")
        ]
    )
    caller_updated_time = StringField(validators=[_caller_updated_time])
    age_group = StringField(validators=[_age_group])
    local_reason = StringField(validators=[one_of(_values(LocalReason), "Choose what happened", optional=True)])

    def coding(self) -> Coding:
        self.checked()
        outcome = self.deterioration_outcome.data
        updated_at: datetime | None = self.caller_updated_time.data
        return Coding(
            ConcernType(self.concern_type.data),
            self.clinical_review_needed.data,
            DeteriorationOutcome(outcome) if outcome else None,
            tuple(ChangeInCare(value) for value in self.change_in_care.data),
            CallerUpdateMethod(self.caller_update_method.data),
            updated_at,
            AgeGroup(self.age_group.data) if self.age_group.data else None,
            LocalReason(self.local_reason.data) if self.local_reason.data else None,
        )


class CloseForm(CodingForm):
    summary = TextAreaField(validators=[typed("The summary", TEXT_LIMIT)])


class CloseWithoutReviewForm(CodingForm):
    reason = reason("Say why no clinical review was needed")


def _duplicate_of(form: PostedForm, field: Field) -> None:
    if form.cancel_kind.data != CancelKind.DUPLICATE.value:
        field.data = None
        raise StopValidation()
    field.data = raw(field)
    if not field.data:
        raise StopValidation("Give the reference of the call this one repeats")


class CancelForm(VersionedForm):
    cancel_kind = StringField(validators=[one_of(_values(CancelKind), "Choose why the call is cancelled")])
    reason = reason("Give a reason")
    duplicate_of = StringField(validators=[_duplicate_of])
    local_reason = StringField(validators=[one_of(_values(LocalReason), "Choose what happened", optional=True)])
