"""The on-call pages through the web: the rota and the policy edited by managers, "test the rota",
the failed-messages page (correct the number and resend), and the warnings staff see."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import create_staff, sign_in_directly
from tests.services.test_escalation import build_team_on_call
from tests.triage.test_authorization_matrix import csrf_token
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    Audience,
    AuditEvent,
    Concern,
    EscalationPolicy,
    Message,
    RecipientKind,
    RotaPattern,
    SendState,
    Shift,
    SmsOptOut,
    Tier,
    User,
    WorkerHeartbeat,
)
from tracker.services.paging import warnings as staff_warnings
from tracker.worker import Worker

TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TEAM = "/on-call/gen-ccot"


@pytest.fixture
def on_call(app):
    """The test trust with a primary, a secondary and a lead on call and the default policy; a
    manager of its site; a fresh worker heartbeat."""
    with app.app_context(), write_intent():
        team = build_team_on_call(app)
        site_id, team_id, ward_id = team["team"].site_id, team["team"].id, team["ward"].id
        db.session.add(WorkerHeartbeat(worker_id="w", hostname="h", pid=1, started_at=utcnow(), beat_at=utcnow()))
        db.session.commit()
    manager_id, _ = create_staff(app, "manager", site_id=site_id, totp_secret=TOTP)
    staff_warnings.forget()
    return {"people": team["people"], "team_id": team_id, "manager": manager_id, "ward_id": ward_id}


def post(client, path, data=None):
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})})


def problem_text(response) -> str:
    found = re.search(
        r'<span class="nhsuk-error-message"[^>]*>.*?</span>\s*(.*?)</span>', response.get_data(as_text=True), re.S
    )
    return html.unescape(found.group(1).strip()) if found else ""


# --- the rota -------------------------------------------------------------------------------------


def test_the_rota_page_shows_who_is_on_call_now_and_the_next_week(app, client, on_call):
    sign_in_directly(app, client, on_call["people"]["primary"])
    page = client.get(f"{TEAM}/rota").get_data(as_text=True)
    assert "On call now" in page and "Test primary" not in page  # names, not roles
    assert page.count("Test outreach") >= 3 and "07400 100001" in page
    assert "The next 7 days" in page and "Add a repeating pattern" not in page  # outreach cannot edit


def test_a_manager_adds_a_night_pattern_and_cover(app, client, read, on_call):
    sign_in_directly(app, client, on_call["manager"])
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    response = post(
        client,
        f"{TEAM}/rota/patterns",
        {
            "form": "pattern",
            "name": "Secondary nights",
            "tier": "secondary",
            "start_local": "20:00",
            "shift_hours": "12",
            "anchor_date": tomorrow,
            "people": [str(on_call["people"]["secondary"]), "", str(on_call["people"]["lead"])],
        },
    )
    assert response.status_code == 302
    pattern = read.one(RotaPattern, RotaPattern.name == "Secondary nights")
    assert pattern.people == [on_call["people"]["secondary"], on_call["people"]["lead"]]
    assert pattern.start_local == "20:00" and pattern.shift_hours == 12
    response = post(
        client,
        f"{TEAM}/rota/shifts",
        {
            "form": "shift",
            "tier": "primary",
            "kind": "override",
            "user_id": str(on_call["people"]["lead"]),
            "start_date": tomorrow,
            "start_time": "08:00",
            "end_date": tomorrow,
            "end_time": "20:00",
        },
    )
    assert response.status_code == 302
    shift = read.one(Shift)
    assert (shift.tier, shift.user_id) == (Tier.PRIMARY, on_call["people"]["lead"])
    assert {"rota_pattern_added", "shift_added"} <= {e.action for e in read.all(AuditEvent)}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "tier": "primary",
                "kind": "override",
                "start_date": "2026-12-01",
                "start_time": "08:00",
                "end_date": "2026-12-01",
                "end_time": "20:00",
            },
            "Choose someone from this team",
        ),
        (
            {
                "tier": "primary",
                "kind": "override",
                "start_date": "1 Dec",
                "start_time": "08:00",
                "end_date": "2026-12-01",
                "end_time": "20:00",
            },
            "Enter the start date as a date, like 2026-12-01",
        ),
        (
            {
                "tier": "primary",
                "kind": "override",
                "start_date": "2027-03-28",
                "start_time": "01:30",
                "end_date": "2027-03-28",
                "end_time": "08:00",
            },
            "01:30 does not exist on 28 March 2027",
        ),
        (
            {
                "tier": "primary",
                "kind": "override",
                "start_date": "2026-12-02",
                "start_time": "20:00",
                "end_date": "2026-12-02",
                "end_time": "08:00",
            },
            "The shift must end after it starts",
        ),
        ({"tier": "chief", "kind": "override"}, "Choose the tier"),
        (
            {
                "tier": "primary",
                "kind": "override",
                "start_date": "2026-12-01",
                "start_time": "25:00",
                "end_date": "2026-12-01",
                "end_time": "20:00",
            },
            "Enter the start time as a 24-hour time",
        ),
    ],
)
def test_a_bad_shift_comes_back_with_a_plain_message_and_nothing_saved(app, client, read, on_call, data, message):
    sign_in_directly(app, client, on_call["manager"])
    if "start_date" in data and "user_id" not in data and message != "Choose someone from this team":
        data = {**data, "user_id": str(on_call["people"]["lead"])}
    response = post(client, f"{TEAM}/rota/shifts", {"form": "shift", **data})
    assert response.status_code == 400
    assert message in problem_text(response)
    assert read.count(Shift) == 0


def test_someone_from_another_team_cannot_be_put_on_the_rota(app, client, read, on_call):
    stranger, _ = create_staff(app, "outreach")
    sign_in_directly(app, client, on_call["manager"])
    response = post(
        client,
        f"{TEAM}/rota/patterns",
        {
            "form": "pattern",
            "tier": "primary",
            "start_local": "08:00",
            "shift_hours": "12",
            "anchor_date": date.today().isoformat(),
            "people": [str(stranger)],
        },
    )
    assert response.status_code == 400 and "Choose people from this team" in problem_text(response)


def test_ending_a_pattern_shows_the_gap_it_leaves(app, client, read, on_call):
    sign_in_directly(app, client, on_call["manager"])
    primary = read.one(RotaPattern, RotaPattern.tier == Tier.PRIMARY)
    assert post(client, f"{TEAM}/rota/patterns/{primary.id}/end").status_code == 302
    page = client.get(f"{TEAM}/rota").get_data(as_text=True)
    assert "Gaps in the next 24 hours" in page and "nobody on the rota" in page
    assert "Outreach Team: nobody on the rota is on call now" in page  # the red banner


def test_a_team_elsewhere_is_not_found(app, client, on_call):
    with app.app_context(), write_intent():
        from tracker.models import Population, Site
        from tracker.services.records import audit
        from tracker.services.setup import hospital

        site = hospital.add_site(audit.Actor.cli(), code="far", name="Far Hospital")
        hospital.add_team(
            audit.Actor.cli(),
            code="far-ccot",
            site=db.session.get(Site, site.id),
            name="Far Team",
            population=Population.ADULT,
            public_phone="020 7946 0555",
            duty_phone="07400 900555",
        )
        db.session.commit()
    sign_in_directly(app, client, on_call["manager"])
    assert client.get("/on-call/far-ccot/rota").status_code == 404
    assert post(client, "/on-call/far-ccot/rota/patterns").status_code == 404


# --- the policy ---------------------------------------------------------------------------------------


def policy_form(**changes):
    form = {
        "step0_tiers": ["primary"],
        "step0_channel": "sms",
        "step0_wait": "5",
        "step1_tiers": ["secondary", "lead"],
        "step1_channel": "sms",
        "step1_wait": "5",
        "repeat_times": "1",
        "fallback_name": "Hospital at night",
        "fallback_number": "020 7946 0999",
        "fallback_channel": "voice",
        "fallback_wait_minutes": "10",
        "ack_pause_minutes": "5",
        "ack_ceiling_minutes": "10",
        "alert_accept_seconds": "120",
        "review_reminder_minutes": "10",
    }
    form.update(changes)
    return form


def test_a_manager_saves_a_policy_with_a_voice_fallback(app, client, read, on_call):
    sign_in_directly(app, client, on_call["manager"])
    response = post(client, f"{TEAM}/policy", policy_form(step2_tiers=["lead"], step2_channel="voice", step2_wait="3"))
    assert response.status_code == 302
    policy = read.one(EscalationPolicy)
    assert policy.fallback_name == "Hospital at night" and policy.fallback_number == "+442079460999"
    page = client.get(f"{TEAM}/policy").get_data(as_text=True)
    assert "Hospital at night" in page and "020 7946 0999" in page
    summary = html.unescape(page.split("data-policy-summary>", 1)[1].split("</div>", 1)[0])
    steps = [re.sub(r"\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", summary, re.S)]
    assert steps[0] == "Text the primary on call."
    assert steps[2] == "After 5 minutes: phone the lead on call."
    assert steps[-1].startswith("Finally, after 3 minutes: phone Hospital at night (020 7946 0999), and again every")
    assert "ACKs hold one call for at most 10 minutes in all, then the next tier is paged" in summary
    # Steps not in use are shown empty, not as if filled in.
    assert 'name="step3_wait" value=""' in page or re.search(r'name="step3_wait"[^>]*value=""', page)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"step0_tiers": [], "step1_tiers": []}, "Tick at least one tier in the first step"),
        ({"step0_wait": "0"}, "Step 1: the wait must be a whole number from 1 to 60"),
        ({"fallback_number": "not a number"}, "The fallback's phone number is not a valid number"),
        ({"fallback_number": "020 7946 0999", "fallback_channel": "sms"}, "The fallback must be a mobile to be texted"),
        ({"repeat_times": "9"}, "Repeats must be a whole number from 0 to 5"),
        ({"fallback_name": ""}, "Name the fallback"),
        ({"ack_pause_minutes": "-1"}, "The ACK pause must be a whole number from 1 to 30"),
        ({"ack_pause_minutes": "15"}, "An ACK's pause cannot be longer than the most ACKs may hold"),
        ({"ack_ceiling_minutes": "45"}, "The most ACKs may hold a call must be a whole number from 1 to 30"),
    ],
)
def test_a_policy_that_cannot_work_comes_back_with_the_reason(app, client, read, on_call, changes, message):
    sign_in_directly(app, client, on_call["manager"])
    before = read.one(EscalationPolicy).fallback_name
    response = post(client, f"{TEAM}/policy", policy_form(**changes))
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert read.one(EscalationPolicy).fallback_name == before


def test_outreach_may_read_the_policy_but_not_change_it(app, client, on_call):
    sign_in_directly(app, client, on_call["people"]["primary"])
    assert "Only managers and administrators can change the policy" in client.get(f"{TEAM}/policy").get_data(
        as_text=True
    )
    assert post(client, f"{TEAM}/policy", policy_form()).status_code == 403


# --- test the rota ---------------------------------------------------------------------------------------


def test_the_rota_test_texts_everyone_on_call_and_shows_who_got_it(app, client, read, on_call, sms):
    with app.app_context(), write_intent():
        db.session.get(User, on_call["people"]["lead"]).mobile = "020 7946 0000"  # a landline: cannot be texted
        db.session.commit()
    sign_in_directly(app, client, on_call["people"]["primary"])
    response = post(client, f"{TEAM}/test")
    assert response.status_code == 302
    results_url = response.headers["Location"]
    page = client.get(results_url).get_data(as_text=True)
    assert page.count("Sending") == 2 and "Not sent" in page
    Worker(app, sender=sms).run_once()
    assert sorted(text.to for text in sms.sent) == ["+447400100001", "+447400100002"]
    assert all("No action needed" in text.body for text in sms.sent)
    with app.app_context(), write_intent():
        db.session.execute(
            update(Message).where(Message.to_number == "+447400100001").values(delivery_status="delivered")
        )
        db.session.commit()
    page = client.get(results_url).get_data(as_text=True)
    assert "Received" in page and "Sent" in page and "Not sent" in page
    assert read.one(AuditEvent, AuditEvent.action == "rota_tested").changes["texts"] == 2


# --- failed messages -----------------------------------------------------------------------------------


@pytest.fixture
def failed_receipt(app, on_call):
    from tests.services.test_concerns import raise_one

    with app.app_context(), write_intent():
        from tracker.models import Ward

        concern = raise_one(db.session.get(Ward, on_call["ward_id"])).concern
        receipt = db.session.scalar(
            select(Message).where(Message.concern_id == concern.id, Message.audience == Audience.FAMILY)
        )
        receipt.send_state, receipt.error_code = SendState.DEAD, "21614"
        receipt.error_reason = "This number cannot receive texts: it is not a mobile number. Phone the caller instead."
        db.session.commit()
        return {"message": receipt.id, "concern": concern.id, "reference": concern.reference}


def test_a_failed_text_is_listed_with_its_reason_and_the_call(app, client, on_call, failed_receipt):
    sign_in_directly(app, client, on_call["people"]["primary"])
    page = client.get("/on-call/failed-messages").get_data(as_text=True)
    assert "To deal with (1)" in page and failed_receipt["reference"] in page
    assert "it is not a mobile number" in page
    staff_warnings.forget()
    assert "did not get through and nobody has dealt with them yet" in client.get("/triage/").get_data(as_text=True)


def test_correcting_the_number_resends_and_fixes_it_on_the_call(app, client, read, on_call, failed_receipt, sms):
    sign_in_directly(app, client, on_call["people"]["primary"])
    response = post(client, f"/on-call/failed-messages/{failed_receipt['message']}/resend", {"number": "07400 123999"})
    assert response.status_code == 302
    again = read.one(Message, Message.resend_of_id == failed_receipt["message"])
    assert again.to_number == "+447400123999" and again.template_id == "family_receipt"
    assert read.one(Concern, Concern.id == failed_receipt["concern"]).callback_number == "+447400123999"
    assert read.one(Message, Message.id == failed_receipt["message"]).dealt_with_at is not None
    Worker(app, sender=sms).run_once()
    assert sms.texts_to("+447400123999")
    assert "To deal with (0)" in client.get("/on-call/failed-messages").get_data(as_text=True)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("hello", "Enter a valid phone number"),
        ("020 7946 0000", "Texts can only go to a mobile number"),
        ("07400 555000", "This number replied STOP"),
    ],
)
def test_a_resend_that_cannot_work_says_why(app, client, read, on_call, failed_receipt, number, message):
    with app.app_context(), write_intent():
        db.session.add(SmsOptOut(number="+447400555000", opted_out=True, changed_at=utcnow(), keyword="STOP"))
        db.session.commit()
    sign_in_directly(app, client, on_call["people"]["primary"])
    response = post(client, f"/on-call/failed-messages/{failed_receipt['message']}/resend", {"number": number})
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    assert read.count(Message, Message.resend_of_id == failed_receipt["message"]) == 0


def test_dealt_with_another_way_takes_it_off_the_list(app, client, read, on_call, failed_receipt):
    sign_in_directly(app, client, on_call["manager"])
    assert post(client, f"/on-call/failed-messages/{failed_receipt['message']}/dealt-with").status_code == 302
    page = client.get("/on-call/failed-messages").get_data(as_text=True)
    assert "To deal with (0)" in page and "Dealt with" in page
    assert read.one(AuditEvent, AuditEvent.action == "failed_message_dealt_with").changes == {
        "how": "handled_otherwise"
    }


def test_a_colleagues_corrected_mobile_is_saved_on_their_account(app, client, read, on_call):
    with app.app_context(), write_intent():
        alert = Message(
            audience=Audience.CLINICIAN,
            recipient_kind=RecipientKind.USER,
            recipient_user_id=on_call["people"]["secondary"],
            to_number="+447400100002",
            template_id="rota_test",
            variables={"team": "Outreach Team", "tier": "secondary"},
            idempotency_key="rota-test:x",
            send_state=SendState.DEAD,
            error_reason="Unknown number",
        )
        db.session.add(alert)
        db.session.commit()
        alert_id = alert.id
    sign_in_directly(app, client, on_call["people"]["primary"])
    assert post(client, f"/on-call/failed-messages/{alert_id}/resend", {"number": "07400 100222"}).status_code == 302
    assert read.one(User, User.id == on_call["people"]["secondary"]).mobile == "+447400100222"


# --- warnings ---------------------------------------------------------------------------------------------


def test_someone_on_call_without_a_mobile_is_a_warning(app, client, on_call):
    with app.app_context(), write_intent():
        db.session.get(User, on_call["people"]["lead"]).mobile = None
        db.session.commit()
    sign_in_directly(app, client, on_call["people"]["primary"])
    staff_warnings.forget()
    assert "is on call for Outreach Team (lead) but has no mobile number" in client.get("/triage/").get_data(
        as_text=True
    )


def test_a_stopped_worker_shows_on_the_next_queue_refresh(app, client, on_call):
    sign_in_directly(app, client, on_call["people"]["primary"])
    first = client.get("/triage/queue/rows")
    assert "message worker is not running" not in first.get_data(as_text=True)
    with app.app_context(), write_intent():
        db.session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    staff_warnings.forget()
    again = client.get("/triage/queue/rows", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "message worker is not running" in again.get_data(as_text=True)


# --- one's own mobile --------------------------------------------------------------------------------------


def test_a_clinician_sets_the_mobile_their_alerts_go_to(app, client, read, on_call):
    sign_in_directly(app, client, on_call["people"]["primary"])
    assert post(client, "/auth/mobile", {"mobile": "07400 100555"}).status_code == 302
    assert read.one(User, User.id == on_call["people"]["primary"]).mobile == "+447400100555"
    assert "07400 100555" in client.get("/auth/account").get_data(as_text=True)
    assert read.one(AuditEvent, AuditEvent.action == "user_mobile_changed").changes == {"removed": False}


@pytest.mark.parametrize(
    ("mobile", "message"),
    [
        ("020 7946 0000", "Enter a mobile number that can get texts"),
        ("call me", "Enter a mobile number, like 07700 900123"),
        ("+1 202 555 0143", "Enter a mobile number that can get texts"),
    ],
)
def test_a_mobile_that_cannot_get_alerts_is_refused_plainly(app, client, read, on_call, mobile, message):
    sign_in_directly(app, client, on_call["people"]["primary"])
    response = post(client, "/auth/mobile", {"mobile": mobile})
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    assert read.one(User, User.id == on_call["people"]["primary"]).mobile == "+447400100001"


def test_removing_ones_mobile_shows_the_warning_to_the_team(app, client, on_call):
    sign_in_directly(app, client, on_call["people"]["primary"])
    assert post(client, "/auth/mobile", {"mobile": ""}).status_code == 302
    assert "has no mobile number that can get texts" in client.get("/triage/").get_data(as_text=True)


def test_the_warnings_fingerprint_is_the_same_in_every_process_and_changes_with_the_warnings():
    # The queue's ETag carries it: a fingerprint that changed with each process's hash seed would
    # make every open queue fetch its full rows again after each restart.
    import subprocess
    import sys
    from pathlib import Path

    from tracker.services.paging.warnings import StaffWarning, digest

    made = "[StaffWarning('The message worker has stopped.'), StaffWarning('Nobody is on call now.', 'oncall.rota')]"
    program = f"from tracker.services.paging.warnings import StaffWarning, digest; print(digest({made}))"
    repository = Path(__file__).resolve().parents[2]
    in_other_processes = {
        subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            text=True,
            check=True,
            cwd=repository,
            env={"PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    warnings = [StaffWarning("The message worker has stopped."), StaffWarning("Nobody is on call now.", "oncall.rota")]
    assert in_other_processes == {digest(warnings)}
    assert digest(warnings[:1]) != digest(warnings) != digest([])
