"""The staff route's form with what no browser sends (docs/architecture.md#the-wards-calls): a missing or malformed
one-time submission id, and a ward id that is not ASCII digits. The id only makes a second press of Send the same
call; without a good one the call is a new call (as on the family's form), never another call sent back as if it
were this one. A ward id that is not one of the person's wards gets the form's own message, never a 500."""

from __future__ import annotations

import pytest

from tests.triage.test_callback_extension import raise_form
from tracker.models import AuditEvent, Concern


@pytest.mark.parametrize("submission_id", ["", "   ", "short", "<bad id>" * 20])
def test_a_staff_call_without_a_good_submission_id_is_a_new_call_never_an_older_one(
    client, login_as, read, submission_id
):
    login_as("outreach")
    first = raise_form(client, submission_id=submission_id, patient_name="First Patient")
    second = raise_form(client, submission_id=submission_id, patient_name="Second Patient", worry_details="Other")
    assert first.status_code == second.status_code == 302
    concerns = read.all(Concern)
    assert [c.patient_name for c in concerns] == ["First Patient", "Second Patient"]
    assert len({c.submission_id for c in concerns}) == 2 and all(len(c.submission_id) >= 16 for c in concerns)
    assert second.headers["Location"].endswith(concerns[1].reference)
    assert read.count(AuditEvent, AuditEvent.action == "concern_raised") == 2


def test_a_staff_call_sent_twice_with_its_good_submission_id_is_still_one_call(client, login_as, read):
    login_as("outreach")
    assert raise_form(client, submission_id="k" * 24).status_code == 302
    assert raise_form(client, submission_id="k" * 24).status_code == 302
    assert read.count(Concern) == 1


@pytest.mark.parametrize("ward_id", ["²", "１", "١", "1" * 5000, "1e999", str(2**63), "-1", " 1", ""])
@pytest.mark.parametrize("role", ["outreach", "ward_staff"])
def test_a_ward_id_that_is_not_one_of_the_persons_wards_gets_the_forms_message(client, login_as, read, role, ward_id):
    login_as(role)
    response = raise_form(client, ward_id=ward_id, worry_details="Keep this")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose the patient&#39;s ward" in html and "Keep this" in html
    assert read.count(Concern) == 0
