"""Reading what people type, as properties (docs/architecture.md#testing): the family's date of birth and the staff
forms' numbers, dates and times are read as the value meant or refused with the form's message, whatever is typed
(digits Python reads but people do not type, numbers of thousands of digits, signs, spaces), never anything else;
and what is written the way the page asks is read back as written."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import ValidationError

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.problems import FieldProblem, FieldProblems
from tracker.triage.forms import CloseForm, HandOverForm, PriorityForm, ReleaseForm, ReviewForm
from tracker.web.concern_details import MoreDetailsForm
from tracker.web.posted import PostedForm, clock_time, iso_date, whole_number

ODD = [
    "²",
    "١٢",
    "１２",
    "߁",
    "+1",
    "-0",
    "1_0",
    " 1 ",
    "1e3",
    "0x1",
    "inf",
    "nan",
    "\u200b1",
    "9" * 20,
    str(2**31),
    str(2**63),
]
typed = st.one_of(
    st.text(max_size=8),
    st.sampled_from(ODD),
    st.integers(0, 10**6).map(str),
    st.integers(4290, 5100).map(lambda digits: "9" * digits),
)


@pytest.fixture
def request_context(app):
    """One request for a test's examples (they read no request state of their own); its transaction (the trust's
    settings, read by a form) ends with the test, so the next test's emptying of the tables does not wait for it."""
    with app.test_request_context():
        yield
        db.session.rollback()


# The request is shared by a test's examples on purpose: each only reads a form it builds.
shared_request = settings(
    settings.default, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


class Numbers(PostedForm):
    count = StringField(validators=[whole_number("The count", 1, 24)])
    day = StringField(validators=[iso_date("day")])
    at = StringField(validators=[clock_time("time")])


@shared_request
@given(typed, typed, typed)
def test_a_staff_forms_number_date_and_time_are_read_in_range_or_refused(request_context, count, day, at):
    form = Numbers.read(MultiDict({"count": count, "day": day, "at": at}))
    problems = form.problems()
    assert set(problems) <= {"count", "day", "at"}
    if "count" not in problems:
        assert (
            isinstance(form.count.data, int)
            and 1 <= form.count.data <= 24
            and str(form.count.data) == count.strip().lstrip("0")
        )
    if "day" not in problems:
        assert isinstance(form.day.data, date)
    if "at" not in problems:
        assert isinstance(form.at.data, time)
        assert at.strip().isascii() and not set(at.strip()) - set("0123456789:."), at


@shared_request
@given(st.integers(1, 24), st.dates(), st.times().map(lambda t: t.replace(second=0, microsecond=0)), st.booleans())
def test_what_the_page_asks_for_is_read_back_as_written(request_context, count, day, at, with_a_dot):
    written = f"{at.hour}.{at.minute:02d}" if with_a_dot else f"{at:%H:%M}"
    form = Numbers.read(MultiDict({"count": str(count), "day": day.isoformat(), "at": written}))
    assert form.problems() == {}
    assert (form.count.data, form.day.data, form.at.data) == (count, day, at)


def _dob(day: str, month: str, year: str):
    form = MoreDetailsForm(formdata=MultiDict({"dob_day": day, "dob_month": month, "dob_year": year}))
    try:
        form.validate_dob_day(form.dob_day)
    except ValidationError as refusal:
        return str(refusal)
    return form.dob


@shared_request
@given(typed, typed, st.one_of(typed, st.integers(1800, 2100).map(str)))
def test_a_date_of_birth_is_a_real_past_date_after_1900_or_refused(request_context, day, month, year):
    dob = _dob(day, month, year)
    if isinstance(dob, date):
        assert date(1900, 1, 1) <= dob <= utcnow().date()
    else:
        assert dob is None or isinstance(dob, str)


@shared_request
@given(st.dates(date(1900, 1, 1), date(2025, 12, 31)), st.booleans())
def test_a_date_of_birth_written_as_the_form_asks_is_read_back(request_context, dob, leading_zeros):
    day, month = (f"{dob.day:02d}", f"{dob.month:02d}") if leading_zeros else (str(dob.day), str(dob.month))
    assert _dob(day, month, str(dob.year)) == dob


# --- a call's actions ---------------------------------------------------------------------------------

REFUSED = (FieldProblem, FieldProblems)


@shared_request
@given(typed, typed)
def test_a_calls_version_and_priority_are_read_or_refused(request_context, version, priority):
    form = PriorityForm.read(MultiDict({"version": version, "priority": priority}))
    problems = form.problems()
    if "version" not in problems:
        assert isinstance(form.version.data, int) and version.strip().isascii() and version.strip().isdigit()
    if "priority" not in problems:
        assert form.priority.data in (None, 1, 2, 3)


@shared_request
@given(typed)
def test_the_colleague_to_hand_over_to_is_a_whole_number_or_nobody(request_context, chosen):
    form = HandOverForm.read(MultiDict({"version": "1", "to_user_id": chosen, "reason": "Shift ends"}))
    assert isinstance(form.to_user(), int)


@shared_request
@given(typed, st.sampled_from(["respiration_rate", "spo2", "systolic_bp", "pulse", "temperature"]), typed)
def test_a_reviews_age_and_observations_are_read_or_refused_at_their_questions(request_context, age, name, value):
    answers = {
        "version": "1",
        "review_kind": "seen_on_ward",
        "findings": "Settled",
        "news2": "yes",
        "age": age,
        "pregnant": "no",
        "respiration_rate": "18",
        "spo2": "97",
        "on_oxygen": "no",
        "systolic_bp": "120",
        "pulse": "80",
        "consciousness": "A",
        "temperature": "37.0",
        name: value,
    }
    form = ReviewForm.read(MultiDict(answers))
    try:
        _kind, _findings, news2 = form.review(patient_age=None)
    except REFUSED:
        return
    assert news2 is not None and 0 <= news2.total <= 20


@shared_request
@given(typed)
def test_the_time_the_caller_was_told_is_read_or_refused(request_context, at):
    answers = {
        "version": "1",
        "concern_type": "communication",
        "clinical_review_needed": "yes",
        "caller_update_method": "phone",
        "caller_updated_time": at,
        "age_group": "adult",
    }
    form = CloseForm.read(MultiDict(answers), tz="Europe/London", dob_known=False)
    try:
        coding = form.coding()
    except REFUSED:
        return
    assert coding.caller_updated_at is not None and coding.caller_updated_at <= utcnow()


@shared_request
@given(typed)
def test_a_release_with_any_version_is_read_or_out_of_date(request_context, version):
    form = ReleaseForm.read(MultiDict({"version": version, "reason": "Busy"}))
    assert "version" in form.problems() or isinstance(form.version.data, int)
