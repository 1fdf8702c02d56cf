"""Numbers no one would type on a call's actions: digits Python reads but a form should not (`²`,
`١٢٣`), numbers too long for the database, `1e999`. Each gets the form's plain error (400) or a
refusal, never a server error (docs/architecture.md#one-web-idiom)."""

from __future__ import annotations

import html

from tests.triage.test_concern_page import act
from tracker.models import Concern, ConcernStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# Superscript digits pass str.isdigit() but int() refuses them; Arabic-Indic digits pass both; the
# long ones overflow a database integer; 1e999 is float("inf").
ODD_WHOLE_NUMBERS = ["²", "١٢٣", "9" * 5000, str(2**31), str(2**63)]

NEWS2 = {
    "review_kind": "seen_on_ward",
    "findings": "Settled",
    "news2": "yes",
    "age": "70",
    "pregnant": "no",
    "respiration_rate": "22",
    "spo2": "95",
    "scale_2": "no",
    "on_oxygen": "yes",
    "systolic_bp": "105",
    "pulse": "112",
    "consciousness": "A",
    "temperature": "38.4",
}


def test_an_odd_priority_is_refused_at_the_field(client, nurse, call, read):
    act(client, call, "claim")
    for value in ODD_WHOLE_NUMBERS:
        response = act(client, call, "priority", priority=value)
        assert response.status_code == 400, value
        assert "Choose a priority from the list" in text(response), value
    assert read.one(Concern).priority is None


def test_an_odd_page_version_is_out_of_date_not_an_error(client, nurse, call, read):
    act(client, call, "claim")
    for value in ODD_WHOLE_NUMBERS:
        response = act(client, call, "release", version=value, reason="Going home")
        assert response.status_code == 400, value
        assert "This page is out of date" in text(response), value
    assert read.one(Concern).status is ConcernStatus.ACKNOWLEDGED


def test_odd_observations_and_ages_are_refused_at_their_questions(client, nurse, call, read):
    act(client, call, "claim")
    for name in ("temperature", "respiration_rate", "spo2", "systolic_bp", "pulse", "age"):
        for value in ("1e999", "nan", "²", "9" * 5000):
            response = act(client, call, "review", intent="save", **{**NEWS2, name: value})
            assert response.status_code == 400, (name, value)
            assert 'href="#review-' + name in text(response) or name in text(response), (name, value)
    assert read.one(Concern).status is ConcernStatus.ACKNOWLEDGED


def test_an_odd_time_the_caller_was_updated_is_refused_at_its_question(client, nurse, call, read):
    act(client, call, "claim")
    act(client, call, "review", intent="save", review_kind="seen_on_ward", findings="Settled", news2="no")
    for typed in ("99999999999999999999:00", "00:99999999999999999999", "²:00", "١٢:٠٠", "12:30:00", "-1:30", "24:00"):
        response = act(
            client,
            call,
            "close",
            concern_type="communication",
            clinical_review_needed="yes",
            caller_update_method="phone",
            caller_updated_time=typed,
            age_group="unknown",
        )
        assert response.status_code == 400, typed
        assert "Enter the time like 14:30" in text(response), typed
    assert read.one(Concern).status is ConcernStatus.REVIEWED


def test_handing_over_to_an_odd_person_is_refused(client, nurse, call, read):
    act(client, call, "claim")
    for value in ODD_WHOLE_NUMBERS:
        response = act(client, call, "hand-over", to_user_id=value, reason="Going home")
        assert response.status_code in (302, 400), value
    assert read.one(Concern).claimed_by_id == nurse
