"""One web idiom: every form a view reads is a Flask-WTF form whose first problem names its HTML field,
and every refusal reaches the screen through one function (`web/refusals.py`). The first test reads the
source, so a view that starts picking fields out of the posted form by hand fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from tracker.problems import FieldProblem, Problem
from tracker.triage import forms as triage_forms
from tracker.web.refusals import shown

TRACKER = Path(__file__).resolve().parents[1] / "tracker"
# Twilio's webhooks post its fields, not ours: they are read after the signature check.
NOT_OUR_FORMS = {"outbox/webhooks.py"}
# A field picked out by name; re-showing everything typed (`to_dict`, `getlist` of a ticked list) is not reading.
HAND_READ = re.compile(r"request\.form(\.get\(|\[)")


def views() -> list[Path]:
    return [p for p in TRACKER.rglob("*.py") if str(p.relative_to(TRACKER)) not in NOT_OUR_FORMS]


def test_no_view_picks_a_field_out_of_the_posted_form_by_hand():
    hand_read = [
        f"{path.relative_to(TRACKER)}:{number}"
        for path in views()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if HAND_READ.search(line)
    ]
    assert hand_read == []


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"version": "3", "reason": ""}, "reason", "Give a reason for releasing it"),
        ({"version": "x", "reason": "back to the team"}, "version", "This page is out of date"),
        ({"version": "3", "reason": "a" * 4001}, "reason", "The reason must be 4000 characters or fewer"),
    ],
)
def test_a_form_names_its_first_problem_by_its_html_field(app, posted, field, message):
    with app.test_request_context(method="POST"), pytest.raises(FieldProblem, match=message) as refused:
        triage_forms.ReleaseForm.read(MultiDict(posted)).checked()
    assert refused.value.field == field


def test_a_field_problem_redraws_the_form_and_any_other_refusal_is_flashed_on_its_page(app):
    with app.test_request_context(method="POST"):
        drawn = shown(FieldProblem("note", "Write the note"), lambda problem: (f"form: {problem.field}", 400))
        assert drawn == ("form: note", 400)
        at_field = shown(Problem("Not a number for texts"), lambda problem: problem.field, at_field="number")
        assert at_field == "number"
        response = shown(Problem("This call is closed."), lambda problem: "not drawn", page="/triage/c/MR-1")
        assert response.status_code == 302 and response.location == "/triage/c/MR-1"
