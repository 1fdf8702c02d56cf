"""The Sites, teams and Wards pages through the test client (docs/architecture.md#set-up): an administrator sets up
a site, a team and a ward and prints its link; a manager reads their site and changes its wards; bad input is refused
with a plain message beside its field and nothing half-saved; numbers that cannot get texts are saved with a warning
that says why; a ward closes with its link kept working."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from tests.admin.hospital_helpers import post
from tests.conftest import FamilyForm
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Bed, Concern, SessionRecord, Site, Team, Ward

NEW_TEAM = {
    "code": "north-ccot",
    "name": "North Outreach",
    "population": "adult",
    "ack_target_minutes": "5",
    "review_target_minutes": "30",
    "public_phone": "020 7946 0700",
    "duty_phone": "07400 900700",
}
NEW_WARD = {
    "code": "north-4",
    "name": "Ward 4",
    "team": "north-ccot",
    "beds": "Bay 1\nBay 2",
    "nurse_in_charge_phone": "",
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def followed(client, response) -> str:
    assert response.status_code == 302, (response.status_code, text(response)[:2000])
    return text(client.get(response.headers["Location"]))


def ward_form(client, code: str) -> dict:
    """What the ward's page shows in its form, as a browser would post it back."""
    page = client.get(f"/admin/wards/{code}")
    assert page.status_code == 200
    with client.application.app_context():
        ward = db.session.scalar(db.select(Ward).where(Ward.code == code))
        beds = "\n".join(
            db.session.scalars(
                db.select(Bed.label).where(Bed.ward_id == ward.id, Bed.retired_at.is_(None)).order_by(Bed.position)
            )
        )
        return {"name": ward.name, "team": ward.team.code, "beds": beds, "nurse_in_charge_phone": ""}


def test_an_admin_adds_a_site_a_team_and_a_ward_prints_its_link_and_a_family_uses_it(
    app, client, trust, login_as, read
):
    login_as("admin")
    page = followed(client, post(client, "/admin/sites", {"code": "north", "name": "North Hospital"}))
    assert "North Hospital was added, with the code north" in page
    page = followed(client, post(client, "/admin/sites/north/teams", NEW_TEAM))
    assert "North Outreach was added to North Hospital" in page and "020 7946 0700" in page
    page = followed(client, post(client, "/admin/sites/north/wards", NEW_WARD))
    link = f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/w/north-4"
    assert f"Ward 4 was added. Its link, {link}, never changes" in page
    printable = text(client.get("/admin/wards/north-4/link"))
    assert f'href="{link}"' in printable and "Ward 4" in printable and "North Hospital" in printable
    assert 'href="/records/posters#ward-north-4"' in printable  # its poster, with the link as a QR code
    assert 'id="ward-north-4"' in text(client.get("/records/posters"))
    assert [row.code for row in read.all(Site, order_by=Site.id)] == ["gen", "north"]
    ward = read.one(Ward, Ward.code == "north-4")
    assert [bed.label for bed in read.all(Bed, Bed.ward_id == ward.id, order_by=Bed.position)] == ["Bay 1", "Bay 2"]
    actions = [event.action for event in read.all(AuditEvent, AuditEvent.actor_type == "user")]
    assert actions[1:] == ["site_added", "team_added", "ward_added", "bed_added", "bed_added"]  # after signed_in

    family = FamilyForm(app.test_client(), code="north-4")
    response = family.submit()
    assert response.status_code in (302, 303) and response.headers["Location"].endswith("/w/north-4/sent")
    concern = read.one(Concern)
    assert (concern.ward_id, concern.team_id) == (ward.id, read.one(Team, Team.code == "north-ccot").id)


def test_the_printed_link_is_the_public_address_whatever_address_the_page_was_opened_at(app, client, trust, login_as):
    """An administrator on the trust's network may reach the tracker at an internal name: a poster printed with
    that name would fail every family's phone."""
    login_as("admin")
    name = app.config["SESSION_COOKIE_NAME"]
    client.set_cookie(name, client.get_cookie(name).value, domain="tracker.internal.invalid")
    page = text(client.get("/admin/wards/w7/link", base_url="http://tracker.internal.invalid"))
    assert "Ward 7" in page
    assert f'href="{app.config["PUBLIC_BASE_URL"].rstrip("/")}/w/w7"' in page
    assert "tracker.internal.invalid/w/w7" not in page


def test_the_setup_page_offers_sites_and_wards_to_managers_and_administrators(client, trust, login_as):
    login_as("manager")
    page = text(client.get("/admin/"))
    assert 'href="/admin/sites"' in page and 'href="/admin/wards"' in page


def test_a_manager_reads_their_sites_teams_but_cannot_change_them(client, trust, login_as):
    login_as("manager")
    site = text(client.get("/admin/sites/gen"))
    assert "Outreach Team" in site and "Rename the site" not in site and "Add a team" not in site
    team = text(client.get("/admin/teams/gen-ccot"))
    assert "Only an administrator can change a team" in team and "<form" not in team.split("<main", 1)[1]
    assert "07400 900101" in team
    assert post(client, "/admin/teams/gen-ccot", {**NEW_TEAM, "name": "Mine"}).status_code == 403
    assert post(client, "/admin/sites/gen", {"name": "Mine"}).status_code == 403


def test_a_manager_adds_a_ward_to_their_own_site_and_changes_it(client, trust, login_as, read):
    login_as("manager")
    ward = {**NEW_WARD, "code": "gen-12", "team": "gen-ccot"}
    followed(client, post(client, "/admin/sites/gen/wards", ward))
    changed = {**ward_form(client, "gen-12"), "name": "Ward 12 (Stroke)", "beds": "Bay 1\nBay 2A"}
    page = followed(client, post(client, "/admin/wards/gen-12", changed))
    assert "Ward 12 (Stroke) was saved: name, beds changed." in page
    saved = read.one(Ward, Ward.code == "gen-12")
    assert saved.name == "Ward 12 (Stroke)"


@pytest.mark.parametrize(
    "code, message",
    [
        ("w7", "The code w7 is taken"),
        ("w-old", "never reused, even after a ward closes"),
        ("ward 9", "lower-case letters, digits or hyphens"),
        ("ward-", "cannot end with a hyphen"),
        ("admin", "keeps for its own pages"),
        ("Ward-9", "Write the code in lower-case letters, as it will be printed: ward-9"),
        ("", "Enter the ward's code"),
    ],
)
def test_a_ward_code_that_cannot_be_used_is_refused_beside_its_field_and_nothing_is_added(
    client, trust, login_as, read, code, message
):
    login_as("admin")
    before = read.count(Ward)
    response = post(client, "/admin/sites/gen/wards", {**NEW_WARD, "team": "gen-ccot", "code": code})
    page = text(response)
    assert response.status_code == 400
    assert message in page and 'id="ward-code-error"' in page and 'href="#ward-code"' in page
    assert read.count(Ward) == before and read.count(Bed, Bed.label == "Bay 1") == 1  # w8's own


def test_a_crafted_post_that_changes_a_wards_code_is_refused_and_nothing_else_is_saved(client, trust, login_as, read):
    login_as("admin")
    crafted = {**ward_form(client, "w7"), "name": "Renamed", "code": "w7-new"}
    response = post(client, "/admin/wards/w7", crafted)
    assert response.status_code == 400
    assert "A ward's code never changes: it is its link, printed on posters" in text(response)
    ward = read.one(Ward, Ward.id == trust["ward"])
    assert (ward.code, ward.name) == ("w7", "Ward 7")
    assert read.count(AuditEvent, AuditEvent.action == "ward_renamed") == 0
    assert "code" not in text(client.get("/admin/wards/w7")).split('id="ward-name"')[0].split("<form", 1)[1]


def test_a_ward_change_refused_part_way_keeps_nothing(client, trust, login_as, read):
    """The name is fine, the beds are not: the name is not saved either."""
    login_as("admin")
    response = post(client, "/admin/wards/w8", {**ward_form(client, "w8"), "name": "Ward 8B", "beds": "Bay 1\nBay 1"})
    assert response.status_code == 400 and "listed twice" in text(response) and 'id="ward-beds-error"' in text(response)
    assert read.one(Ward, Ward.id == trust["beds_ward"]).name == "Ward 8"


def test_a_landline_for_the_nurse_in_charge_is_saved_with_a_warning_that_says_why(client, trust, login_as, read):
    login_as("manager")
    response = post(client, "/admin/wards/w7", {**ward_form(client, "w7"), "nurse_in_charge_phone": "020 7946 0300"})
    page = followed(client, response)
    assert "Ward 7 was saved: nurse in charge's number changed." in page
    assert "The nurse in charge's number 020 7946 0300 was saved, but it cannot get texts: it is a landline" in page
    assert "voice calls instead of texts" in page
    assert read.one(Ward, Ward.id == trust["ward"]).nurse_in_charge_phone == "+442079460300"


def test_a_team_is_changed_by_an_admin_with_a_warning_when_its_duty_phone_cannot_get_texts(
    client, trust, login_as, read, app
):
    from tracker.models import SmsOptOut

    with app.app_context(), write_intent():
        db.session.add(SmsOptOut(number="+447400900777", opted_out=True, keyword="STOP"))
        db.session.commit()
    login_as("admin")
    changed = {**NEW_TEAM, "name": "Outreach Team", "duty_phone": "07400 900777", "review_target_minutes": "45"}
    page = followed(client, post(client, "/admin/teams/gen-ccot", changed))
    assert "Outreach Team was saved: public number, duty phone, target to review changed." in page
    assert "The duty phone 07400 900777 was saved, but it cannot get texts: it replied STOP" in page
    team = read.one(Team, Team.id == trust["team"])
    assert (team.duty_phone, team.review_target_minutes, team.code) == ("+447400900777", 45, "gen-ccot")


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"duty_phone": "020 7946 0102"}, "duty_phone", "a landline cannot get texts"),
        ({"public_phone": ""}, "public_phone", "Enter the number families may phone"),
        ({"public_phone": "call us"}, "public_phone", "as a phone number"),
        ({"review_target_minutes": "2"}, "review_target_minutes", "cannot be sooner than the target to acknowledge"),
        ({"ack_target_minutes": "five"}, "ack_target_minutes", "must be a whole number from 1 to 1440"),
        ({"population": "paediatric"}, "population", "fixed once it has wards or calls"),
        ({"population": "elderly"}, "population", "Choose whether the team sees adults or children"),
    ],
)
def test_a_bad_team_change_is_refused_beside_its_field(client, trust, login_as, read, change, field, message):
    login_as("admin")
    response = post(client, "/admin/teams/gen-ccot", {**NEW_TEAM, "name": "Changed", **change})
    assert response.status_code == 400
    page = text(response)
    assert message in page and f'id="team-{field}-error"' in page
    assert read.one(Team, Team.id == trust["team"]).name == "Outreach Team"


def test_changing_a_team_needs_a_recent_sign_in(app, client, trust, login_as, read):
    login_as("admin")
    with app.app_context(), write_intent():
        for record in db.session.scalars(db.select(SessionRecord)):
            record.authenticated_at = utcnow() - timedelta(minutes=20)
        db.session.commit()
    assert (
        client.get("/admin/teams/gen-ccot").headers["Location"].startswith("/auth/confirm?next=/admin/teams/gen-ccot")
    )
    response = post(client, "/admin/teams/gen-ccot", {**NEW_TEAM, "name": "Changed"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/confirm")
    assert read.one(Team, Team.id == trust["team"]).name == "Outreach Team"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/nowhere",
        "/admin/teams/nobody",
        "/admin/wards/no-ward",
        "/admin/wards/no-ward/link",
        "/admin/sites/nowhere/wards/new",
        "/admin/wards/" + "a" * 300,
    ],
)
def test_made_up_sites_teams_and_wards_are_not_found(client, trust, login_as, path):
    login_as("admin")
    assert client.get(path).status_code == 404


def test_a_duplicate_site_code_is_refused_plainly(client, trust, login_as, read):
    login_as("admin")
    response = post(client, "/admin/sites", {"code": "gen", "name": "Again"})
    assert response.status_code == 400 and "There is already a site with the code gen" in text(response)
    assert read.count(Site) == 1


def test_closing_a_ward_lists_its_open_calls_first_and_keeps_its_link_working(app, client, trust, login_as, read):
    with app.app_context(), write_intent():
        reference = raise_one(db.session.get(Ward, trust["ward"])).concern.reference
    login_as("manager")
    page = text(client.get("/admin/wards/w7/retire"))
    assert reference in page and "keeps working" in page and "Ward 8" in page
    assert "Old Ward" not in page.split('id="retire-successor"', 1)[1]  # a closed ward is no successor
    response = post(client, "/admin/wards/w7/retire", {"successor": "w8"})
    page = followed(client, response)
    assert "Ward 7 has closed. Its link still works: it says the ward has closed, and offers Ward 8." in page
    assert "Its open calls (1) stay on the team's queue." in page
    ward = read.one(Ward, Ward.id == trust["ward"])
    assert ward.retired_at is not None and ward.successor_id == trust["beds_ward"]
    assert read.one(Concern).status.value == "new"
    family = app.test_client().get("/w/w7")
    assert family.status_code == 410 and 'href="/w/w8"' in family.get_data(as_text=True)
    closed = followed(client, post(client, "/admin/wards/w7", {"name": "Reopened?"}))
    assert "Ward 7 has closed: its details are kept as they were" in closed
    assert read.one(Ward, Ward.id == trust["ward"]).name == "Ward 7"
