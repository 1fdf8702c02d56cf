"""A concern's page and its actions through the web: what a clinician sees, what each action
does, and the clear refusals (a colleague got there first, the page was stale)."""

from __future__ import annotations

import html as html_lib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import time_machine

from tests.conftest import create_staff, live_server, sign_in_directly
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, ConcernNote, ConcernStatus, Message


def token(html: str) -> str:
    return re.search(r'(?:name="csrf_token" value|data-csrf-token)="([^"]+)"', html).group(1)


def version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def open_page(client, reference) -> str:
    response = client.get(f"/triage/c/{reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def act(client, reference, action, **fields):
    html = open_page(client, reference)
    data = {"csrf_token": token(html), **fields}
    if "version" not in fields and 'name="version"' in html:
        data["version"] = version(html)
    return client.post(f"/triage/c/{reference}/{action}", data=data)


def test_the_page_shows_everything_the_caller_gave(client, nurse, call):
    html = open_page(client, call)
    for text in [
        "Pat Jones",
        "Sam Jones",
        "daughter",
        "Breathing has changed",
        "Sleepier or confused",
        "Mum is breathing fast and is not making sense.",
        "They said the doctor would come later.",
        "07400 123456",
        "can be texted",
        "Claim this call",
        "Raised",
    ]:
        assert text in html, text


def test_what_the_family_wrote_comes_before_the_forms(client, nurse, call):
    """On a phone the page is one column: the clinician reads the worry before the review and close forms."""
    act(client, call, "claim")
    html = open_page(client, call)
    wrote = html.index("Mum is breathing fast")
    assert wrote < html.index("Record the review")


def test_what_people_typed_is_shown_as_text_in_an_isolated_block(client, nurse, family, app):
    family.submit(worry_details="<img src=x onerror=alert(1)>", patient_name="Ali\u202egnp")
    with app.app_context():
        reference = db.session.scalar(db.select(Concern.reference))
    html = open_page(client, reference)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'class="tracker-user-text" dir="auto"' in html


def test_claim_then_review_with_news2_then_close(client, nurse, call, read):
    assert act(client, call, "claim").status_code == 302
    assert "You have claimed this call" in open_page(client, call)
    preview = act(
        client,
        call,
        "review",
        intent="calculate",
        review_kind="seen_on_ward",
        findings="On O2",
        news2="yes",
        age="70",
        pregnant="no",
        respiration_rate="22",
        spo2="95",
        scale_2="no",
        on_oxygen="yes",
        systolic_bp="105",
        pulse="112",
        consciousness="A",
        temperature="38.4",
    )
    assert preview.status_code == 200 and "NEWS2: 9" in preview.get_data(as_text=True)
    assert read.one(Concern).status is ConcernStatus.ACKNOWLEDGED  # calculating saves nothing
    saved = act(
        client,
        call,
        "review",
        intent="save",
        review_kind="seen_on_ward",
        findings="On O2",
        news2="yes",
        age="70",
        pregnant="no",
        respiration_rate="22",
        spo2="95",
        scale_2="no",
        on_oxygen="yes",
        systolic_bp="105",
        pulse="112",
        consciousness="A",
        temperature="38.4",
    )
    assert saved.status_code == 302
    assert "NEWS2 at review: 9" in open_page(client, call)
    closed = act(
        client,
        call,
        "close",
        concern_type="acute_deterioration",
        clinical_review_needed="yes",
        deterioration_outcome="change_in_care",
        change_in_care=["oxygen", "medication"],
        caller_update_method="phone",
        caller_updated_time="",
    )
    assert closed.status_code == 302
    concern = read.one(Concern)
    assert concern.status is ConcernStatus.CLOSED and concern.change_in_care == ["oxygen", "medication"]
    assert concern.news2_total == 9 and concern.caller_updated_at is not None


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"review_kind": "", "findings": "x"}, "Choose how the patient was reviewed"),
        ({"review_kind": "seen_on_ward", "findings": ""}, "Write what you found"),
        (
            {"review_kind": "seen_on_ward", "findings": "x", "news2": "yes", "age": "12", "pregnant": "no"},
            "not valid for under-16s",
        ),
        (
            {"review_kind": "seen_on_ward", "findings": "x", "news2": "yes", "age": "40", "pregnant": "yes"},
            "not valid in pregnancy",
        ),
        (
            {
                "review_kind": "seen_on_ward",
                "findings": "x",
                "news2": "yes",
                "age": "40",
                "pregnant": "no",
                "respiration_rate": "500",
                "spo2": "95",
                "on_oxygen": "no",
                "systolic_bp": "120",
                "pulse": "80",
                "consciousness": "A",
                "temperature": "37",
            },
            "Respiration rate must be between 1 and 80",
        ),
    ],
)
def test_review_problems_come_back_with_a_clear_message_and_the_text_kept(client, nurse, call, fields, message):
    act(client, call, "claim")
    response = act(client, call, "review", intent="save", **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and "There is a problem" in html


def test_a_second_clinician_is_told_who_has_the_call(client, app, trust, call):
    first, _ = create_staff(app, "outreach", team_ids=[trust["team"]])
    second, _ = create_staff(app, "outreach", team_ids=[trust["team"]])
    sign_in_directly(app, client, second)
    stale = open_page(client, call)
    other = app.test_client()
    sign_in_directly(app, other, first)
    act(other, call, "claim")
    response = client.post(f"/triage/c/{call}/claim", data={"csrf_token": token(stale)})
    assert response.status_code == 302
    assert "Test outreach has already claimed this call" in open_page(client, call)


def test_a_decision_on_a_stale_page_is_refused_with_a_clear_message(client, nurse, call):
    act(client, call, "claim")
    html = open_page(client, call)
    old_version = version(html)
    act(client, call, "priority", priority="1")
    response = client.post(
        f"/triage/c/{call}/release", data={"csrf_token": token(html), "version": old_version, "reason": "Busy"}
    )
    assert response.status_code == 302
    assert "changed since you opened it, so nothing was saved" in open_page(client, call)


def test_a_forbidden_move_is_refused_with_a_clear_message(client, nurse, call):
    response = act(
        client, call, "close", concern_type="communication", clinical_review_needed="no", caller_update_method="phone"
    )
    assert response.status_code == 302
    assert "This call is new, so it cannot be closed" in open_page(client, call)


def test_notes_and_canned_texts_appear_on_the_timeline(client, nurse, call, read, app, sms):
    from tracker.worker import Worker

    act(client, call, "note", note="Discussed with the ward sister")
    act(client, call, "update-caller", template_id="update_team_coming")
    Worker(app, sender=sms).run_once()
    html = open_page(client, call)
    assert "Discussed with the ward sister" in html
    assert "update to the caller: team coming" in html
    assert read.one(ConcernNote).text == "Discussed with the ward sister"
    update = read.one(Message, Message.template_id == "update_team_coming")
    assert update.send_state.value == "accepted"
    assert any("coming to see the patient" in text for text in sms.texts_to("+447400123456"))
    assert read.one(Concern).caller_updated_at is None  # only the clinician's record at close says the caller was told


def test_free_text_cannot_be_sent_as_a_text(client, nurse, call):
    response = act(client, call, "update-caller", template_id="Your relative is dying")
    assert response.status_code == 302
    assert "Choose one of the messages" in open_page(client, call)


def test_cancelling_as_a_duplicate_needs_the_original_reference(client, nurse, call, family, app):
    family.submit(worry_details="Same patient, second form", callback_number="07400 555666")
    with app.app_context():
        second = db.session.scalars(db.select(Concern.reference).order_by(Concern.id)).all()[1]
    missing = act(client, second, "cancel", cancel_kind="duplicate", reason="Same")
    assert missing.status_code == 400 and "reference of the call this one repeats" in missing.get_data(as_text=True)
    done = act(client, second, "cancel", cancel_kind="duplicate", reason="Same", duplicate_of=call.lower())
    assert done.status_code == 302 and "Call cancelled" in open_page(client, second)


def test_viewing_is_audited_with_who(client, nurse, call, read):
    open_page(client, call)
    viewed = read.all(AuditEvent, AuditEvent.action == "viewed")
    assert len(viewed) == 1 and viewed[0].actor_id == nurse


def test_staff_raise_a_call_on_the_staff_route(client, login_as, read):
    login_as("ward_staff")
    html = client.get("/triage/raise").get_data(as_text=True)
    submission = re.search(r'name="submission_id" value="([^"]+)"', html).group(1)
    ward_id = re.search(r'<option value="(\d+)"', html).group(1)
    response = client.post(
        "/triage/raise",
        data={
            "csrf_token": token(html),
            "submission_id": submission,
            "ward_id": ward_id,
            "caller_route": "staff",
            "patient_name": "Jo Bloggs",
            "hospital_number": "RX1234567",
            "worry_categories": ["breathing"],
            "worry_details": "RR 28, not improving",
            "callback_number": "020 7946 0123",
            "preferred_language": "",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/triage/ward"
    concern = read.one(Concern)
    assert concern.caller_route.value == "staff" and concern.channel.value == "staff"
    assert concern.hospital_number == "RX1234567"
    assert "Call MR-" in client.get("/triage/ward").get_data(as_text=True)


def test_outreach_log_a_call_taken_by_phone_for_a_family(client, login_as, read):
    login_as("outreach")
    html = client.get("/triage/raise").get_data(as_text=True)
    response = client.post(
        "/triage/raise",
        data={
            "csrf_token": token(html),
            "submission_id": re.search(r'name="submission_id" value="([^"]+)"', html).group(1),
            "ward_id": re.search(r'<option value="(\d+)"', html).group(1),
            "caller_route": "family_carer_advocate",
            "caller_name": "Mo",
            "caller_relationship": "son",
            "patient_name": "Dee",
            "worry_categories": ["pain"],
            "callback_number": "07400 765432",
            "sms_consent": "y",
            "preferred_language": "",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/triage/c/MR-")
    concern = read.one(Concern)
    assert concern.channel.value == "phone_call" and concern.caller_route.value == "family_carer_advocate"


def test_ward_staff_can_raise_only_for_their_own_ward(client, login_as, trust, read):
    login_as("ward_staff")
    html = client.get("/triage/raise").get_data(as_text=True)
    response = client.post(
        "/triage/raise",
        data={
            "csrf_token": token(html),
            "submission_id": "x" * 24,
            "ward_id": str(trust["beds_ward"]),
            "caller_route": "staff",
            "patient_name": "Jo",
            "worry_details": "x",
            "preferred_language": "",
        },
    )
    assert response.status_code == 400 and "Choose the patient" in response.get_data(as_text=True)
    assert read.count(Concern) == 0


def test_twenty_clinicians_pressing_claim_at_once_over_http_give_one_winner(app, trust, call, read):
    clinicians = [create_staff(app, "outreach", team_ids=[trust["team"]])[0] for _ in range(20)]
    with live_server(app) as base:
        sessions = []
        for user_id in clinicians:
            client = app.test_client()
            sign_in_directly(app, client, user_id)
            browser = requests.Session()
            browser.trust_env = False
            browser.cookies.set("session", client.get_cookie("session").value, domain="127.0.0.1", path="/")
            html = browser.get(f"{base}/triage/c/{call}").text
            sessions.append((browser, token(html)))
        start = threading.Barrier(len(sessions))

        def claim(pair):
            browser, csrf = pair
            start.wait(timeout=60)
            return browser.post(
                f"{base}/triage/c/{call}/claim", data={"csrf_token": csrf}, allow_redirects=True, timeout=60
            ).text

        with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
            pages = list(pool.map(claim, sessions))
    winners = [p for p in pages if "You have claimed this call" in p]
    told = [p for p in pages if "has already claimed this call" in p]
    assert len(winners) == 1 and len(told) == 19
    assert read.count(AuditEvent, AuditEvent.action == "claimed") == 1


def test_a_caller_told_at_2358_is_recorded_after_midnight_as_last_night_and_shown_in_full(
    client, family, login_as, app
):
    with time_machine.travel("2026-12-02 23:40:00+00:00", tick=False):
        family.submit()
        login_as("outreach")
        with app.app_context():
            reference = db.session.scalar(db.select(Concern.reference))
        act(client, reference, "claim")
        act(client, reference, "review", intent="save", review_kind="seen_on_ward", findings="Settled", news2="no")
    with time_machine.travel("2026-12-03 00:05:00+00:00", tick=False):
        closed = act(
            client,
            reference,
            "close",
            concern_type="clinical_concern",
            clinical_review_needed="yes",
            caller_update_method="phone",
            caller_updated_time="23:58",
        )
        assert closed.status_code == 302, closed.get_data(as_text=True)
        page = open_page(client, reference)
    with app.app_context():
        told = db.session.scalar(db.select(Concern.caller_updated_at))
    assert told.isoformat() == "2026-12-02T23:58:00+00:00"
    shown = re.sub(r"<[^>]+>", "", html_lib.unescape(page))
    assert "Caller told the outcome: 2 Dec 2026, 23:58 (by phone)" in shown, shown[shown.find("Outcome") :][:400]


def test_a_typed_time_in_the_hour_the_clocks_skip_is_refused_with_a_message(client, family, login_as, app):
    with time_machine.travel("2026-03-29 00:40:00+00:00", tick=False):  # 00:40 GMT; at 01:00 the clocks go forward
        family.submit()
        login_as("outreach")
        with app.app_context():
            reference = db.session.scalar(db.select(Concern.reference))
        act(client, reference, "claim")
        act(client, reference, "review", intent="save", review_kind="seen_on_ward", findings="Settled", news2="no")
    with time_machine.travel("2026-03-29 01:10:00+00:00", tick=False):  # 02:10 BST
        refused = act(
            client,
            reference,
            "close",
            concern_type="clinical_concern",
            clinical_review_needed="yes",
            caller_update_method="phone",
            caller_updated_time="01:30",
        )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "01:30 did not happen on 29 March: the clocks went forward" in body


def test_a_close_coded_no_review_needed_after_a_recorded_review_is_refused_at_that_question(client, nurse, call, read):
    act(client, call, "claim")
    act(client, call, "review", intent="save", review_kind="seen_on_ward", findings="Settled", news2="no")
    refused = act(
        client,
        call,
        "close",
        concern_type="communication",
        clinical_review_needed="no",
        caller_update_method="phone",
        caller_updated_time="",
    )
    body = html_lib.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert "A clinical review was recorded for this call, so it needed one: answer yes" in body
    assert 'href="#close-clinical_review_needed' in body
    assert read.one(Concern).status is ConcernStatus.REVIEWED


def test_the_close_form_asks_whether_a_patient_without_a_birth_date_was_under_18(client, nurse, call, read):
    from tracker.models import AgeGroup

    act(client, call, "claim")
    act(client, call, "review", intent="save", review_kind="seen_on_ward", findings="Settled", news2="no")
    assert "Was the patient under 18?" in open_page(client, call)
    closed = act(
        client,
        call,
        "close",
        concern_type="communication",
        clinical_review_needed="yes",
        caller_update_method="phone",
        caller_updated_time="",
        age_group="under_18",
    )
    assert closed.status_code == 302
    assert read.one(Concern).age_group is AgeGroup.UNDER_18
