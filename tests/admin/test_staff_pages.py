"""The Staff accounts pages (docs/architecture.md#set-up) through the test client: each action and each refusal,
what a manager may and may not do (another site's accounts are 404; managers' and administrators' accounts read
only), the invitation used once, and that a closed or moved account's very next request is refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from tests.conftest import build_site_with_team, create_staff, sign_in_directly
from tests.triage.test_authorization_matrix import csrf_token
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Role, SessionRecord, Shift, StaffInvitation, Tier, User
from tracker.services.paging import rota
from tracker.services.records import audit
from tracker.services.setup import hospital

PASSWORD = "correct horse battery staple"  # create_staff's
NEW_PASSWORD = "marble kettle orchard lantern"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def page(response) -> str:
    return response.get_data(as_text=True)


def flashed(client, response) -> str:
    assert response.status_code == 302, response.status_code
    return page(client.get(response.headers["Location"]))


@pytest.fixture
def admin(login_as) -> int:
    return login_as("admin")


@pytest.fixture
def nurse(app, trust) -> int:
    return create_staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])[0]


def on_the_rota(app, trust, user_id: int) -> int:
    """A one-off shift for the person, from now for twelve hours; returns its id."""
    with app.app_context(), write_intent():
        team = db.session.get_one(hospital.Team, trust["team"])
        shift = rota.add_shift(
            audit.Actor.cli(),
            team,
            tier=Tier.PRIMARY,
            user_id=user_id,
            starts_at=utcnow() - timedelta(minutes=5),
            ends_at=utcnow() + timedelta(hours=12),
        )
        db.session.commit()
        return shift.id


def other_site_nurse(app) -> int:
    with app.app_context(), write_intent():
        team = build_site_with_team(
            "north", "North Hospital", team_name="North Team", public_phone="020 7946 0555", duty_phone="07400 900555"
        )
        db.session.commit()
        team_id = team.id
    return create_staff(app, "outreach", email="north@test.invalid", team_ids=[team_id])[0]


# --- the list and a new account ------------------------------------------------------------------


def test_the_list_filters_by_role_and_by_whether_active(client, admin, nurse, app, trust):
    create_staff(app, "ward_staff", email="ward@test.invalid", ward_id=trust["ward"])
    create_staff(app, "outreach", email="gone@test.invalid", team_ids=[trust["team"]], active=False)
    everyone = page(client.get("/admin/staff"))
    assert "nurse@test.invalid" in everyone and "ward@test.invalid" in everyone and "gone@test.invalid" not in everyone
    outreach = page(client.get("/admin/staff?role=outreach"))
    assert "nurse@test.invalid" in outreach and "ward@test.invalid" not in outreach
    gone = page(client.get("/admin/staff?active=no"))
    assert "gone@test.invalid" in gone and "nurse@test.invalid" not in gone
    assert "nurse@test.invalid" in page(client.get("/admin/staff?role=nonsense&active=nonsense"))


def new_nurse(client, trust, **overrides):
    data = {
        "name": "Nia Nurse",
        "email": "nia@test.invalid",
        "role": "outreach",
        "teams": str(trust["team"]),
        "mobile": "07400 100077",
        "first_sign_in": "invitation",
        **overrides,
    }
    return post(client, "/admin/staff/new", **data)


def test_an_invitation_is_shown_once_and_sets_the_password_once(app, client, admin, trust, read):
    response = new_nurse(client, trust)
    assert response.status_code == 200
    link = re.search(r"<code data-invitation-link>http://localhost(/auth/invitation/[^<]+)</code>", page(response))
    assert link, page(response)
    assert read.one(StaffInvitation).token_hash not in page(response)

    invitee = app.test_client()
    opened = invitee.get(link.group(1))
    assert opened.status_code == 200 and "nia@test.invalid" in page(opened)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(opened)).group(1)
    mismatch = invitee.post(link.group(1), data={"csrf_token": token, "new": NEW_PASSWORD, "confirm": "other"})
    assert mismatch.status_code == 400 and "The two passwords do not match" in page(mismatch)
    saved = invitee.post(link.group(1), data={"csrf_token": token, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 302 and saved.headers["Location"] == "/auth/sign-in"

    again = invitee.get(link.group(1))
    assert again.status_code == 410 and "already been used" in page(again)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(invitee.get("/auth/sign-in"))).group(1)
    signed_in = invitee.post(
        "/auth/sign-in", data={"csrf_token": token, "email": "nia@test.invalid", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/triage/"
    assert invitee.get("/triage/").status_code == 200


def test_an_invitation_opened_late_is_refused_with_a_plain_page(app, client, admin, trust):
    link = re.search(r"http://localhost(/auth/invitation/[^<]+)</code>", page(new_nurse(client, trust))).group(1)
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1), tick=False):
        late = app.test_client().get(link)
    assert late.status_code == 410 and "This invitation has expired" in page(late)
    assert app.test_client().get("/auth/invitation/made-up").status_code == 404


def test_a_one_time_password_is_shown_once_and_must_be_changed(app, client, admin, trust, read):
    response = new_nurse(client, trust, first_sign_in="password", mobile="")
    password = re.search(r"<code data-one-time-password>([^<]+)</code>", page(response)).group(1)
    assert "No mobile number: they cannot be alerted" in page(response)
    assert read.one(User, User.email == "nia@test.invalid").password_hash != password
    invitee = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(invitee.get("/auth/sign-in"))).group(1)
    signed_in = invitee.post(
        "/auth/sign-in", data={"csrf_token": token, "email": "nia@test.invalid", "password": password}
    )
    assert signed_in.headers["Location"] == "/auth/password"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not an address"}, "email", "Enter an email address"),
        ({"role": "superuser"}, "role", "Choose their role"),
        ({"teams": ""}, "teams", "Choose the team or teams"),
        ({"teams": "99999"}, "teams", "Choose teams from the list"),
        ({"mobile": "call me"}, "mobile", "Enter the mobile number like 07700 900123"),
        ({"name": ""}, "name", "Enter their name"),
        ({"first_sign_in": "carrier pigeon"}, "first_sign_in", "Choose how they will sign in"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(
    client, admin, trust, read, changes, field, message
):
    response = new_nurse(client, trust, **changes)
    assert response.status_code == 400 and message in page(response)
    assert f'href="#{field}"' in page(response)
    assert read.count(User, User.email == "nia@test.invalid") == 0


def test_set_up_changes_need_a_recent_sign_in(client, admin, trust, nurse):
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        assert client.get("/admin/staff/new").headers["Location"].startswith("/auth/confirm?next=/admin/staff/new")
        refused = post(client, f"/admin/staff/{nurse}/deactivate")
        assert refused.headers["Location"].startswith("/auth/confirm")
        assert "Changes to the hospital" in page(client.get(refused.headers["Location"]))


# --- a manager's reach ---------------------------------------------------------------------------------


def test_a_manager_sees_only_their_site_and_changes_only_its_ward_staff_and_outreach(
    app, client, login_as, trust, nurse, read
):
    login_as("manager")
    colleague = create_staff(app, "manager", email="colleague@test.invalid", site_id=trust["site"])[0]
    boss = create_staff(app, "admin", email="boss@test.invalid")[0]
    north = other_site_nurse(app)
    listed = page(client.get("/admin/staff"))
    assert "nurse@test.invalid" in listed and "colleague@test.invalid" in listed
    assert "north@test.invalid" not in listed and "boss@test.invalid" not in listed
    assert client.get(f"/admin/staff/{north}").status_code == 404
    assert client.get(f"/admin/staff/{boss}").status_code == 404
    assert post(client, f"/admin/staff/{north}/deactivate").status_code == 404
    theirs = page(client.get(f"/admin/staff/{colleague}"))
    assert "Only an administrator can change this account." in theirs and "Deactivate" not in theirs
    refused = post(client, f"/admin/staff/{colleague}/deactivate")
    assert "Only an administrator can change" in flashed(client, refused)
    assert read.one(User, User.id == colleague).active
    assert post(client, f"/admin/staff/{nurse}/reset-password").status_code == 403
    assert client.get(f"/admin/staff/{nurse}/change").status_code == 403
    made = new_nurse(client, trust, role="manager", site=str(trust["site"]))
    assert made.status_code == 400 and "Choose their role" in page(made)
    done = post(client, f"/admin/staff/{nurse}/deactivate")
    assert "account is deactivated" in flashed(client, done)


# --- closing an account --------------------------------------------------------------------------------


def test_deactivating_someone_on_call_asks_for_cover_first_then_their_next_request_is_refused(
    app, client, admin, trust, nurse, read
):
    cover = create_staff(app, "outreach", email="cover@test.invalid", team_ids=[trust["team"]])[0]
    shift = on_the_rota(app, trust, nurse)
    theirs = app.test_client()
    sign_in_directly(app, theirs, nurse)
    assert theirs.get("/triage/").status_code == 200

    refused = post(client, f"/admin/staff/{nurse}/deactivate")
    assert "is still on the rota" in flashed(client, refused)
    assert read.one(User, User.id == nurse).active
    assert theirs.get("/triage/").status_code == 200

    person = page(client.get(f"/admin/staff/{nurse}"))
    assert f'data-place="shift-{shift}"' in person and "Test outreach" in person
    missing = post(client, f"/admin/staff/{nurse}/shifts/{shift}", action="cover")
    assert missing.status_code == 400 and "Choose who covers" in page(missing)
    covered = post(client, f"/admin/staff/{nurse}/shifts/{shift}", action="cover", cover=str(cover))
    assert "Shift covered." in flashed(client, covered)
    assert read.one(Shift, Shift.user_id == cover).ends_at == read.one(Shift, Shift.id == shift).ends_at

    done = post(client, f"/admin/staff/{nurse}/deactivate")
    assert "account is deactivated" in flashed(client, done)
    after = theirs.get("/triage/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/auth/sign-in")
    assert "Your account has been deactivated" in page(theirs.get(after.headers["Location"]))
    assert {r.revoked_reason for r in read.all(SessionRecord, SessionRecord.user_id == nurse)} == {"account_disabled"}
    assert post(client, f"/admin/staff/{admin}/deactivate").status_code == 302  # refused: their own
    assert read.one(User, User.id == admin).active


def test_the_pages_own_refreshes_do_not_say_the_account_was_deactivated_twice(app, client, admin, trust, nurse):
    # Found in Chromium: the queue's refresh and the session clock each met the ended session before the
    # next navigation did, and the sign-in page showed the same banner two or three times.
    theirs = app.test_client()
    sign_in_directly(app, theirs, nurse)
    assert theirs.get("/triage/").status_code == 200
    assert "account is deactivated" in flashed(client, post(client, f"/admin/staff/{nurse}/deactivate"))

    json = {"Accept": "application/json"}
    assert theirs.get("/auth/session", headers=json).status_code == 401
    assert theirs.get("/triage/queue/rows", headers=json).status_code == 401
    after = theirs.get("/triage/")
    assert after.status_code == 302
    assert page(theirs.get(after.headers["Location"])).count("Your account has been deactivated") == 1


def test_an_administrator_deactivates_at_once_with_a_reason_and_the_gap_is_raised(
    app, client, admin, trust, nurse, read
):
    with app.app_context(), write_intent():
        from tracker.models import AlertChannel, Team
        from tracker.services.paging.policy import DEFAULT_STEPS, save_policy

        save_policy(
            audit.Actor.cli(),
            db.session.get_one(Team, trust["team"]),
            steps=DEFAULT_STEPS,
            repeat_times=1,
            fallback_name="Site manager",
            fallback_number="+442079460999",
            fallback_channel=AlertChannel.VOICE,
            fallback_wait_minutes=10,
        )
        db.session.commit()
    on_the_rota(app, trust, nurse)
    no_reason = post(client, f"/admin/staff/{nurse}/deactivate-now")
    assert no_reason.status_code == 400 and "Choose why the account must be deactivated at once" in page(no_reason)
    done = post(client, f"/admin/staff/{nurse}/deactivate-now", reason="security_incident")
    said = flashed(client, done)
    assert "The rota now has nobody to alert at times for: Outreach Team" in said
    assert "A security incident" in said
    assert "rota_gap" in client.get("/healthz").get_json()["alarms"]
    event = read.one(AuditEvent, AuditEvent.action == "user_deactivated_at_once")
    assert event.changes["reason"] == "security_incident" and event.actor_id == admin
    back = post(client, f"/admin/staff/{nurse}/reactivate")
    assert "active again" in flashed(client, back)


def test_a_move_with_claimed_calls_is_refused_with_their_references_then_ends_their_sessions(
    app, client, admin, trust, nurse, family, read
):
    from tracker.models import Concern
    from tracker.services.concerns import triage

    family.submit()
    with app.app_context(), write_intent():
        concern = db.session.scalars(db.select(Concern)).one()
        triage.claim(concern.id, db.session.get_one(User, nurse))
        db.session.commit()
        reference = concern.reference
    theirs = app.test_client()
    sign_in_directly(app, theirs, nurse)
    to_ward = {"role": "ward_staff", "ward": str(trust["ward"])}
    refused = post(client, f"/admin/staff/{nurse}/change", **to_ward)
    assert refused.status_code == 400 and f"claimed calls of a team they would leave: {reference}" in page(refused)
    with app.app_context(), write_intent():
        db.session.get_one(Concern, concern.id).claimed_by_id = None
        db.session.get_one(Concern, concern.id).status = "new"
        db.session.commit()
    moved = post(client, f"/admin/staff/{nurse}/change", **to_ward)
    assert "now works as ward staff: Ward 7" in flashed(client, moved)
    assert read.one(User, User.id == nurse).role is Role.WARD_STAFF
    after = theirs.get("/triage/")
    assert after.headers["Location"].startswith("/auth/sign-in")
    assert "Your role or team has been changed" in page(theirs.get(after.headers["Location"]))


def test_resets_are_shown_once_or_said_plainly(app, client, admin, trust, nurse, read):
    reset = post(client, f"/admin/staff/{nurse}/reset-password")
    assert reset.status_code == 200 and "One-time password for Test outreach" in page(reset)
    assert read.one(User, User.id == nurse).must_change_password
    assert "must set up a new one" in flashed(client, post(client, f"/admin/staff/{nurse}/reset-authenticator"))
    assert "were forgotten" in flashed(client, post(client, f"/admin/staff/{nurse}/clear-sign-in-counts"))
    landline = post(client, f"/admin/staff/{nurse}/mobile", mobile="020 7946 0101")
    assert "This number is a landline" in flashed(client, landline)
    own = post(client, f"/admin/staff/{admin}/reset-password")
    assert "Change your own password on your account page" in flashed(client, own)
