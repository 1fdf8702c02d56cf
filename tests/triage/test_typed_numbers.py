"""Numbers and times typed into the staff forms that Python reads but a person does not type, or that are longer
than Python reads: each is the form's refusal, never an error (found by tests/property/test_form_parsing_properties.py;
docs/architecture.md#one-web-idiom)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from tracker.problems import FieldProblems
from tracker.triage.forms import CloseForm, HandOverForm, PriorityForm, ReviewForm
from tracker.web.posted import PostedForm, clock_time, whole_number

ODD = ["²", "١٢", "１２", "9" * 20, "9" * 5000]


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


class Shift(PostedForm):
    hours = StringField(validators=[whole_number("Shift length in hours", 1, 24)])
    start = StringField(validators=[clock_time("start time")])


@pytest.mark.parametrize("typed", ["9" * 5000, "²", "+8", "1_2"])
def test_a_whole_number_past_what_python_reads_is_refused(request_context, typed):
    form = Shift.read(MultiDict({"hours": typed, "start": "08:00"}))
    assert form.problems() == {"hours": "Shift length in hours must be a whole number from 1 to 24"}


@pytest.mark.parametrize("typed", ["١٢:٠٠", "+8:00", "1_2:00", "8:-0", "99999999999999999999:00", "8:00:00", "24:00"])
def test_a_time_is_ascii_digits_and_a_time_of_day(request_context, typed):
    assert "start" in Shift.read(MultiDict({"hours": "8", "start": typed})).problems()


@pytest.mark.parametrize("typed", ODD)
def test_an_odd_priority_is_refused_at_the_field(request_context, typed):
    problems = PriorityForm.read(MultiDict({"version": "1", "priority": typed})).problems()
    assert problems == {"priority": "Choose a priority from the list"}


@pytest.mark.parametrize("typed", ["²", "١٢", "１２"])
def test_a_version_python_reads_but_no_page_writes_is_out_of_date(request_context, typed):
    problems = PriorityForm.read(MultiDict({"version": typed, "priority": "1"})).problems()
    assert problems == {"version": "This page is out of date. Reload it and try again."}


@pytest.mark.parametrize("typed", ["9" * 20, "9" * 5000, str(2**31)])
def test_a_version_past_what_the_database_holds_is_out_of_date(request_context, typed):
    problems = PriorityForm.read(MultiDict({"version": typed, "priority": "1"})).problems()
    assert problems == {"version": "This page is out of date. Reload it and try again."}


@pytest.mark.parametrize("typed", ODD)
def test_an_odd_colleague_is_nobody(request_context, typed):
    assert HandOverForm.read(MultiDict({"version": "1", "to_user_id": typed})).to_user() in (-1, 10**18)


@pytest.mark.parametrize("typed", ODD)
def test_an_odd_age_is_refused_at_its_question(request_context, typed):
    form = ReviewForm.read(MultiDict({"version": "1", "review_kind": "seen_on_ward", "findings": "Ok", "news2": "yes"}))
    form.age.raw_data = [typed]
    with pytest.raises(FieldProblems) as refused:
        form.news2(patient_age=None)
    assert "age" in refused.value.problems


@pytest.mark.parametrize("typed", ["99999999999999999999:00", "00:99999999999999999999", "²:00", "١٢:٠٠", "-1:30"])
def test_an_odd_time_the_caller_was_told_is_refused_at_its_question(request_context, typed):
    answers = {
        "version": "1",
        "concern_type": "communication",
        "clinical_review_needed": "yes",
        "caller_update_method": "phone",
        "caller_updated_time": typed,
    }
    form = CloseForm.read(MultiDict(answers), tz="Europe/London", dob_known=True)
    assert form.problems() == {"caller_updated_time": "Enter the time like 14:30, or leave it empty for now"}
