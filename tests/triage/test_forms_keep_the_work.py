"""The call's forms keep the nurse's work (issue: "closing an acute-deterioration call without its outcome
wipes the whole coding"): every refusal goes to the error summary, marks its field and keeps every answer;
NEWS2 names every missing or wrong value at once, reads "37,5", and shows each parameter's score."""

from __future__ import annotations

import html as html_lib
import re

import pytest
import time_machine

from tests.triage.test_concern_page import act
from tracker.models import Concern, ConcernStatus

CODING = {
    "concern_type": "acute_deterioration",
    "clinical_review_needed": "yes",
    "caller_update_method": "phone",
    "caller_updated_time": "",
    "summary": "Reviewed on the ward; fluids started.",
}


@pytest.fixture
def before_the_last_minute_of_the_day():
    """A time of day when 23:59 is still more than the minute's grace away (run from 23:58 London time, the
    "not in the future" case failed)."""
    with time_machine.travel("2026-06-10 11:00:00+00:00", tick=True):  # noon, British Summer Time
        yield


def checked(body: str, name: str, value: str) -> bool:
    return bool(
        re.search(rf'name="{name}"[^>]*value="{value}"[^>]*checked|value="{value}"[^>]*name="{name}"[^>]*checked', body)
    )


@pytest.mark.parametrize(
    "wrong, field, message",
    [
        ({}, "deterioration_outcome", "Choose what happened for this acute deterioration"),
        ({"deterioration_outcome": "change_in_care"}, "change_in_care", "Choose what changed"),
        (
            {"deterioration_outcome": "no_change", "clinical_review_needed": "no"},
            "clinical_review_needed",
            "always needs",
        ),
        (
            {"deterioration_outcome": "no_change", "caller_updated_time": "23:59"},
            "caller_updated_time",
            "not in the future",
        ),
    ],
)
def test_a_refused_close_keeps_every_answer_and_marks_the_question(
    before_the_last_minute_of_the_day, client, nurse, call, read, wrong, field, message
):
    act(client, call, "claim")
    act(client, call, "review", intent="save", review_kind="seen_on_ward", findings="Settled", news2="no")
    refused = act(client, call, "close", **{**CODING, **wrong})
    body = html_lib.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400, "the coding was thrown away with a redirect"
    assert message in body
    assert f'href="#close-{field}' in body  # in the error summary, linked to its question
    assert checked(body, "concern_type", "acute_deterioration")
    assert checked(body, "caller_update_method", "phone")
    assert "Reviewed on the ward; fluids started." in body
    assert read.one(Concern).status is ConcernStatus.REVIEWED


NEWS2 = {
    "intent": "calculate",
    "review_kind": "seen_on_ward",
    "findings": "",
    "news2": "yes",
    "age": "70",
    "pregnant": "no",
    "respiration_rate": "22",
    "spo2": "95",
    "systolic_bp": "105",
    "pulse": "112",
    "temperature": "38,5",
    "scale_2": "no",
    "on_oxygen": "no",
    "consciousness": "A",
}


def test_news2_reads_a_decimal_comma_and_shows_each_parameters_score(client, nurse, call):
    act(client, call, "claim")
    page = act(client, call, "review", **NEWS2)
    body = html_lib.unescape(page.get_data(as_text=True))
    assert page.status_code == 200, body[:300]
    assert "NEWS2: 7" in body
    parts = dict(re.findall(r'data-news2-part="(\w+)">(\d)<', body))
    assert parts == {
        "respiration_rate": "2",
        "spo2": "1",
        "air_or_oxygen": "0",
        "systolic_bp": "1",
        "pulse": "2",
        "consciousness": "0",
        "temperature": "1",
    }


def test_news2_names_every_missing_or_wrong_value_at_once_and_keeps_the_rest(client, nurse, call):
    act(client, call, "claim")
    page = act(
        client,
        call,
        "review",
        **{**NEWS2, "respiration_rate": "", "pulse": "fast", "temperature": "1e999", "consciousness": ""},
    )
    body = html_lib.unescape(page.get_data(as_text=True))
    assert page.status_code == 400
    summary = body[body.index("There is a problem") : body.index("There is a problem") + 2000]
    for field in ("respiration_rate", "pulse", "temperature", "consciousness"):
        assert f'href="#review-{field}"' in summary, field
        assert f'id="review-{field}-error"' in body, field
    assert 'value="95"' in body and 'value="105"' in body  # what was right is kept
