"""The ward's daily check page (triage/daily_check.py): a nurse admits a patient, records an answer in one form per
bed, sees a worse answer at the top and marks it seen and acted on; outreach read it; anything else is refused in
plain words (4xx), never a 500."""

from __future__ import annotations

import re

import pytest

from tests.conftest import create_staff
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Bed, BedOccupancy, DailyCheckAnswer, User, Ward
from tracker.services.daily_check import occupancy

PAGE = "/triage/ward/check"


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def bed_id(app, ward_id: int, label: str = "Bay 1") -> int:
    with app.app_context():
        return db.session.query(Bed).filter_by(ward_id=ward_id, label=label).one().id


@pytest.fixture
def nurse(login_as, trust):
    return login_as("ward_staff", ward_id=trust["beds_ward"])


def post(client, path: str, **fields):
    return client.post(path, data={"csrf_token": token(client.get(PAGE).get_data(as_text=True)), **fields})


def section(html: str, label: str) -> str:
    return html.split(f'data-bed="{label}"', 1)[1].split("</section>", 1)[0]


def test_a_nurse_admits_records_sees_worse_at_the_top_and_marks_it_seen_then_acted_on(app, client, trust, nurse):
    bay1 = bed_id(app, trust["beds_ward"])
    assert "Daily check" in client.get("/triage/ward").get_data(as_text=True)
    assert "Empty" in section(client.get(PAGE).get_data(as_text=True), "Bay 1")
    response = post(client, f"/triage/ward/check/bed/{bay1}/admit", patient_name="Pat Jones")
    assert response.status_code == 302
    html = client.get(PAGE).get_data(as_text=True)
    assert "Pat Jones" in section(html, "Bay 1") and "Not asked today" in section(html, "Bay 1")
    assert "0 of 1 occupied bed asked today" in html and "Not asked yet: Bay 1" in html
    response = post(client, f"/triage/ward/check/bed/{bay1}/answer", feeling="okay", compared="worse", text="Dizzy")
    assert response.status_code == 302
    html = client.get(PAGE).get_data(as_text=True)
    assert re.search(r"Asked today</strong>\. Latest answer at \d\d:\d\d: Okay, worse", section(html, "Bay 1"))
    top = html.split("data-worse>", 1)[1].split("</section>", 1)[0]
    assert "Bay 1: Okay, worse" in top and "not seen yet" in top and "Dizzy" in top
    assert html.index("data-worse>") < html.index('data-bed="Bay 1"')
    with app.app_context():
        answer_id = db.session.query(DailyCheckAnswer.id).scalar()
    assert post(client, f"/triage/ward/check/answer/{answer_id}/seen").status_code == 302
    html = client.get(PAGE).get_data(as_text=True)
    assert "not yet marked as acted on" in html and "/seen" not in html
    assert post(client, f"/triage/ward/check/answer/{answer_id}/acted-on").status_code == 302
    assert "data-worse>" not in client.get(PAGE).get_data(as_text=True)
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).filter(AuditEvent.action.like("daily_check_%"))]
    assert actions == ["daily_check_recorded", "daily_check_seen", "daily_check_acted_on"]
    assert post(client, f"/triage/ward/check/bed/{bay1}/discharge").status_code == 302
    assert "Empty" in section(client.get(PAGE).get_data(as_text=True), "Bay 1")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"feeling": "great", "compared": "same"}, "Choose how the patient is feeling today"),
        ({"feeling": "good"}, "Choose how the patient feels compared with yesterday"),
        ({"feeling": "good", "compared": "same", "text": "x" * 1001}, "1000 characters or fewer"),
    ],
)
def test_answers_off_the_scale_are_refused_with_a_message(app, client, trust, nurse, fields, message):
    bay1 = bed_id(app, trust["beds_ward"])
    post(client, f"/triage/ward/check/bed/{bay1}/admit")
    response = post(client, f"/triage/ward/check/bed/{bay1}/answer", **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_an_empty_bed_and_a_second_answer_within_a_minute_are_refused_with_a_message(app, client, trust, nurse):
    bay1 = bed_id(app, trust["beds_ward"])
    response = post(client, f"/triage/ward/check/bed/{bay1}/answer", feeling="good", compared="same")
    assert response.status_code == 400 and "Mark the bed as occupied first" in response.get_data(as_text=True)
    post(client, f"/triage/ward/check/bed/{bay1}/admit")
    assert post(client, f"/triage/ward/check/bed/{bay1}/answer", feeling="good", compared="same").status_code == 302
    for _ in range(9):
        response = post(client, f"/triage/ward/check/bed/{bay1}/answer", feeling="bad", compared="worse")
        assert response.status_code == 400
        assert "This bed&#39;s answer was saved a moment ago" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(DailyCheckAnswer).count() == 1


def test_another_wards_bed_an_unknown_bed_and_a_missing_csrf_token_are_refused(app, client, trust, nurse):
    other_ward_bed = bed_id(app, trust["beds_ward"])
    with app.app_context(), write_intent():
        db.session.get(Bed, other_ward_bed).ward_id = trust["ward"]  # Bay 1 now belongs to Ward 7
        db.session.commit()
    assert post(client, f"/triage/ward/check/bed/{other_ward_bed}/admit").status_code == 404
    assert post(client, "/triage/ward/check/bed/424242/answer", feeling="good", compared="same").status_code == 404
    assert post(client, "/triage/ward/check/answer/424242/seen").status_code == 404
    bay2 = bed_id(app, trust["beds_ward"], "Bay 2")
    assert client.post(f"/triage/ward/check/bed/{bay2}/admit").status_code == 400
    with app.app_context():
        assert db.session.query(BedOccupancy).count() == 0


def test_without_a_nurse_in_charge_number_the_page_says_alerts_cannot_reach_them(app, client, trust, nurse):
    html = client.get(PAGE).get_data(as_text=True)
    assert "data-no-nurse-in-charge" in html and "update-ward w8 --nurse-in-charge-phone" in html
    with app.app_context(), write_intent():
        db.session.get(Ward, trust["beds_ward"]).nurse_in_charge_phone = "+447700900123"
        db.session.commit()
    assert "data-no-nurse-in-charge" not in client.get(PAGE).get_data(as_text=True)


def test_outreach_see_their_teams_wards_read_only(app, client, trust, login_as):
    ward_nurse, _ = create_staff(app, "ward_staff", ward_id=trust["beds_ward"])
    with app.app_context(), write_intent():
        bay1 = db.session.query(Bed).filter_by(ward_id=trust["beds_ward"], label="Bay 1").one()
        occupancy.admit(db.session.get(User, ward_nurse), bay1, "Pat")
        db.session.commit()
    login_as("outreach")
    chooser = client.get(PAGE).get_data(as_text=True)
    assert "Ward 8" in chooser and "?ward=w8" in chooser
    html = client.get(PAGE + "?ward=w8").get_data(as_text=True)
    assert "Not asked today" in html and "its staff record them" in html and "<form" not in html.split("<main")[1]
    assert client.get(PAGE + "?ward=nope").status_code == 404


def test_outreach_of_another_team_cannot_see_the_ward(app, client, trust, login_as):
    login_as("outreach", team_ids=[])
    assert client.get(PAGE + "?ward=w8").status_code == 404
