"""Every endpoint × every role and anonymous (docs/architecture.md#security). The meta-test
fails when a route is added without a row here."""

from __future__ import annotations

import re

import pytest

from tests.authz import admin as authz_admin
from tests.authz import admin_access as authz_admin_access
from tests.authz import admin_hospital as authz_admin_hospital
from tests.authz import admin_settings as authz_admin_settings
from tests.authz import admin_staff as authz_admin_staff
from tests.authz import devices as authz_devices
from tests.authz import metrics as authz_metrics
from tests.authz import oncall as authz_oncall
from tests.authz import records as authz_records
from tests.authz import reports as authz_reports
from tests.authz import sign_on as authz_sign_on
from tests.authz import ward as authz_ward
from tests.authz import webhooks as authz_webhooks
from tests.conftest import build_other_site, create_staff, sign_in_directly
from tracker.db import write_intent
from tracker.extensions import db

ROLES = ["anonymous", "ward_staff", "outreach", "manager", "admin"]
# Principals that are not people: the outreach office's enrolled queue display and a ward's enrolled tablet for
# families. A row that does not name them expects of them what it expects of anyone not signed in (a device
# proves nothing about a person).
DEVICES = ["display", "tablet"]
S = "signin"  # 302 to the sign-in page

# endpoint: (method, path, {role: expected}). "{ref}" is a concern of the test trust's team.
MATRIX = {
    "public.choose_ward": ("GET", "/", dict.fromkeys(ROLES, 200)),
    "public.concern_form": ("GET", "/w/w7", dict.fromkeys(ROLES, 200)),
    "public.sent": ("GET", "/w/w7/sent", dict.fromkeys(ROLES, 200)),  # this browser has just sent the form
    # Its reference texted again, once, back to the confirmation: only ever this browser's own call.
    "public.text_reference": ("POST", "/w/w7/sent/text", dict.fromkeys(ROLES, 303)),
    # The optional second page: only this browser session's call, once, within half an hour (posted empty, a skip).
    "public.more_details": ("GET", "/w/w7/more", dict.fromkeys(ROLES, 200)),
    # The daily check for patients and families; its thanks and its "Yes" only for this browser's own answer
    # (none here: back to the form).
    "public.daily_check": ("GET", "/w/w8/daily", dict.fromkeys(ROLES, 200)),
    "public.daily_check_thanks": ("GET", "/w/w8/daily/thanks", dict.fromkeys(ROLES, 302)),
    "public.daily_check_review": ("POST", "/w/w8/daily/review", dict.fromkeys(ROLES, 303)),
    "public.privacy": ("GET", "/privacy", dict.fromkeys(ROLES, 200)),
    "public.accessibility": ("GET", "/accessibility", dict.fromkeys(ROLES, 200)),
    "health.livez": ("GET", "/livez", dict.fromkeys(ROLES, 200)),
    "health.healthz": ("GET", "/healthz", dict.fromkeys(ROLES, 200)),
    "static": ("GET", "/assets/app/tracker.css", dict.fromkeys(ROLES, 200)),
    "auth.sign_in": (
        "GET",
        "/auth/sign-in",
        {"anonymous": 200, "ward_staff": 302, "outreach": 302, "manager": 302, "admin": 302},
    ),
    "auth.sign_in_code": ("GET", "/auth/sign-in/code", dict.fromkeys(ROLES, 302)),
    "auth.sign_out_confirm": ("GET", "/auth/sign-out", {"anonymous": S, **dict.fromkeys(ROLES[1:], 200)}),
    "auth.sign_out": ("POST", "/auth/sign-out", {"anonymous": S, **dict.fromkeys(ROLES[1:], 302)}),
    "auth.sign_out_everywhere": (
        "POST",
        "/auth/sign-out-everywhere",
        {"anonymous": S, **dict.fromkeys(ROLES[1:], 302)},
    ),
    "auth.sign_out_others": ("POST", "/auth/sign-out-others", {"anonymous": S, **dict.fromkeys(ROLES[1:], 302)}),
    "auth.change_password": ("GET", "/auth/password", {"anonymous": S, **dict.fromkeys(ROLES[1:], 200)}),
    # Managers and admins have an authenticator already: replacing it needs a fresh code first.
    "auth.enrol_mfa": (
        "GET",
        "/auth/mfa",
        {"anonymous": S, "ward_staff": 200, "outreach": 200, "manager": 302, "admin": 302},
    ),
    "auth.remove_mfa": ("POST", "/auth/mfa/remove", {"anonymous": S, **dict.fromkeys(ROLES[1:], 302)}),
    "auth.keepalive": ("POST", "/auth/keepalive", {"anonymous": S, **dict.fromkeys(ROLES[1:], 200)}),
    "auth.session_status": ("GET", "/auth/session", {"anonymous": S, **dict.fromkeys(ROLES[1:], 200)}),
    "auth.account": ("GET", "/auth/account", {"anonymous": S, **dict.fromkeys(ROLES[1:], 200)}),
    "triage.queue_page": (
        "GET",
        "/triage/",
        {"anonymous": S, "ward_staff": 403, "outreach": 200, "manager": 200, "admin": 403},
    ),
    "triage.queue_rows": (
        "GET",
        "/triage/queue/rows",
        {"anonymous": S, "ward_staff": 403, "outreach": 200, "manager": 200, "admin": 403},
    ),
    "triage.concern_page": (
        "GET",
        "/triage/c/{ref}",
        {"anonymous": S, "ward_staff": 403, "outreach": 200, "manager": 200, "admin": 403},
    ),
    # One endpoint per action on a call. Only clinicians who work calls may act; posted empty, a claim or
    # a text to the caller goes ahead (302), every other action asks for what is missing (400).
    "triage.claim": (
        "POST",
        "/triage/c/{ref}/claim",
        {"anonymous": S, "ward_staff": 403, "outreach": 302, "manager": 403, "admin": 403},
    ),
    "triage.add_note": (
        "POST",
        "/triage/c/{ref}/note",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.update_caller": (
        "POST",
        "/triage/c/{ref}/update-caller",
        {"anonymous": S, "ward_staff": 403, "outreach": 302, "manager": 403, "admin": 403},
    ),
    "triage.release": (
        "POST",
        "/triage/c/{ref}/release",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.hand_over": (
        "POST",
        "/triage/c/{ref}/hand-over",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.set_priority": (
        "POST",
        "/triage/c/{ref}/priority",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.record_review": (
        "POST",
        "/triage/c/{ref}/review",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.close": (
        "POST",
        "/triage/c/{ref}/close",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.close_without_review": (
        "POST",
        "/triage/c/{ref}/close-without-review",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.cancel": (
        "POST",
        "/triage/c/{ref}/cancel",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.set_safeguarding": (
        "POST",
        "/triage/c/{ref}/safeguarding",
        {"anonymous": S, "ward_staff": 403, "outreach": 302, "manager": 302, "admin": 403},
    ),
    "triage.clear_safeguarding": (
        "POST",
        "/triage/c/{ref}/safeguarding/clear",
        {"anonymous": S, "ward_staff": 403, "outreach": 403, "manager": 302, "admin": 403},
    ),
    "triage.follow_up_read": (
        "POST",
        "/triage/c/{ref}/follow-up-read",
        {"anonymous": S, "ward_staff": 403, "outreach": 302, "manager": 403, "admin": 403},
    ),
    "triage.link": (
        "POST",
        "/triage/c/{ref}/link",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.unlink": (
        "POST",
        "/triage/c/{ref}/unlink",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.raise_follow_up": (
        "POST",
        "/triage/c/{ref}/follow-up-call",
        {"anonymous": S, "ward_staff": 403, "outreach": 302, "manager": 403, "admin": 403},
    ),
    "triage.set_text_in_details": (
        "POST",
        "/triage/c/{ref}/details",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.reopen": (
        "POST",
        "/triage/c/{ref}/reopen",
        {"anonymous": S, "ward_staff": 403, "outreach": 400, "manager": 403, "admin": 403},
    ),
    "triage.raise_call": (
        "GET",
        "/triage/raise",
        {"anonymous": S, "ward_staff": 200, "outreach": 200, "manager": 403, "admin": 403},
    ),
}

# Each area's rows live beside its own tests (tests/authz/).
for _area in (
    authz_admin,
    authz_admin_hospital,
    authz_admin_access,
    authz_admin_staff,
    authz_admin_settings,
    authz_devices,
    authz_metrics,
    authz_oncall,
    authz_records,
    authz_reports,
    authz_sign_on,
    authz_ward,
    authz_webhooks,
):
    assert not set(_area.ROWS) & set(MATRIX), "an endpoint is listed twice in the matrix"
    MATRIX.update(_area.ROWS)

# What a role must never see in a page it may open (field-level access, ASVS 8.2.3).
NEVER_SHOWN = {
    "ward_staff": ["Mum is breathing fast", "They said the doctor would come later"],
    # The display is read by anyone passing the office: no names, initials, free text or notes.
    "display": ["Pat Jones", "P J", "Sam Jones", "Mum is breathing fast", "They said the doctor would come later"],
}


def csrf_token(client) -> str:
    for path in ("/auth/sign-out", "/auth/sign-in"):
        page = client.get(path).get_data(as_text=True)
        found = re.search(r'(?:name="csrf_token" value|data-csrf-token)="([^"]+)"', page)
        if found:
            return found.group(1)
    raise AssertionError("no CSRF token found")


def test_every_route_is_in_the_matrix(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert routes - set(MATRIX) == set(), "add these endpoints to the authorisation matrix"
    assert set(MATRIX) - routes == set(), "these endpoints no longer exist"


def test_every_device_page_names_every_principal():
    """A page for devices must say what each principal gets, the display above all: no defaulting there."""
    for endpoint, (_method, _path, expected) in MATRIX.items():
        if endpoint.startswith("devices."):
            assert set(expected) == {*ROLES, *DEVICES}, endpoint


@pytest.mark.parametrize("role", ROLES + DEVICES)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_each_role_gets_what_the_matrix_says(app, client, family, trust, login_as, endpoint, role):
    family.submit()
    with app.app_context():
        from tracker.models import Concern

        reference = db.session.scalar(db.select(Concern.reference))
    if role != "anonymous":
        login_as(role)
    method, path, expected = MATRIX[endpoint]
    # Accounts a row names ({nurse}, {elsewhere}: tests/authz/admin_staff.py) are made only for that row.
    people = {name: make(app, trust) for name, make in authz_admin_staff.PEOPLE.items() if f"{{{name}}}" in path}
    path = path.format(ref=reference, **people)
    if method == "POST":
        response = client.post(path, data={"csrf_token": csrf_token(client)})
    else:
        response = client.get(path)
    want = expected.get(role, expected["anonymous"]) if role in DEVICES else expected[role]
    if want == S:
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in"), (
            response.status_code,
            response.headers.get("Location"),
        )
    else:
        assert response.status_code == want, (endpoint, role, response.status_code, response.headers.get("Location"))
    for secret in NEVER_SHOWN.get(role, []):
        assert secret not in response.get_data(as_text=True)
    response.close()  # a static file stays open until its response is closed


@pytest.fixture
def other_team_concern(app, trust):
    """A concern on a ward of another site and team."""
    from tests.services.test_concerns import raise_one

    with app.app_context(), write_intent():
        ward = build_other_site(duty_phone="07400 900555")
        db.session.commit()
        return raise_one(ward, submission="o" * 24).concern.reference


@pytest.mark.parametrize("role", ["outreach", "manager"])
def test_a_concern_outside_the_callers_scope_is_not_found(client, login_as, other_team_concern, role, read):
    from tracker.models import AuditEvent

    login_as(role)
    assert client.get(f"/triage/c/{other_team_concern}").status_code == 404
    if role == "outreach":
        token = csrf_token(client)
        assert client.post(f"/triage/c/{other_team_concern}/claim", data={"csrf_token": token}).status_code == 404
    assert read.count(AuditEvent, AuditEvent.action == "access_denied") >= 1


# NUL is refused before any view (tests/security/test_nul_refused.py).
@pytest.mark.parametrize("reference", ["MR-AAAA-AA", "nonsense", "1;DROP TABLE concern"])
def test_made_up_references_are_not_found(client, login_as, reference):
    login_as("outreach")
    assert client.get(f"/triage/c/{reference}").status_code == 404


def test_an_unknown_action_is_not_found(client, login_as, family, app):
    family.submit()
    login_as("outreach")
    with app.app_context():
        from tracker.models import Concern

        reference = db.session.scalar(db.select(Concern.reference))
    assert client.post(f"/triage/c/{reference}/delete", data={"csrf_token": csrf_token(client)}).status_code == 404


def test_staff_actions_need_a_csrf_token(client, login_as, family, app):
    family.submit()
    login_as("outreach")
    with app.app_context():
        from tracker.models import Concern

        reference = db.session.scalar(db.select(Concern.reference))
    assert client.post(f"/triage/c/{reference}/claim").status_code == 400
    assert client.post("/auth/sign-out").status_code == 400


def test_a_clinician_of_two_teams_sees_both(app, client, trust, other_team_concern):
    from tracker.models import Team

    with app.app_context():
        other = db.session.scalar(db.select(Team.id).where(Team.code == "other-ccot"))
    user_id, _ = create_staff(app, "outreach", team_ids=[trust["team"], other])
    sign_in_directly(app, client, user_id)
    assert client.get(f"/triage/c/{other_team_concern}").status_code == 200


def test_ward_staff_see_their_wards_calls_but_not_the_clinical_detail(client, login_as, family, app):
    family.submit()
    login_as("ward_staff")
    page = client.get("/triage/ward").get_data(as_text=True)
    assert re.search(r"MR-[A-Z0-9]{4}-[A-Z0-9]{2}", page) and "Pat Jones" in page
    assert "breathing fast" not in page


def test_admins_see_no_clinical_content(client, login_as, family):
    family.submit()
    login_as("admin")
    assert client.get("/triage/").status_code == 403
    assert "Pat Jones" not in client.get("/auth/account").get_data(as_text=True)
