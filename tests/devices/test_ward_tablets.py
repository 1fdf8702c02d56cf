"""A ward's tablet for families is an enrolled device: kiosk mode follows the tablet a manager set up, never a
family's own phone that opened the ward's link (the phone gets the ordinary form, and the call's channel says
so). Wards that were set to kiosk mode for every device keep it until their tablet is enrolled, and for 30 days
after the upgrade at most, with a warning to the manager until then."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from tests.conftest import build_trust, create_staff, enrol_tablet, make_config, sign_in_directly
from tests.triage.test_authorization_matrix import csrf_token
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, Settings, Ward
from tracker.services.setup.settings import forget_settings

MFA = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def page(response) -> str:
    return response.get_data(as_text=True)


def legacy_kiosk_ward(app, trust, until) -> None:
    """Ward 7 as the upgrade left a ward that was set to kiosk mode for every device."""
    with app.app_context(), write_intent():
        db.session.get_one(Ward, trust["ward"]).kiosk_default = True
        db.session.get_one(Settings, 1).kiosk_default_until = until
        db.session.commit()
        forget_settings()


def test_a_phone_opening_a_wards_link_gets_the_ordinary_form_and_its_channel_says_so(family, client, read, trust):
    html = page(client.get("/w/w7"))
    assert "data-kiosk-form" not in html and "Staff sign in" in html and "Choose a different ward" in html
    family.submit()
    assert read.one(Concern).channel.value == "own_device"


def test_a_query_argument_never_puts_a_phone_in_kiosk_mode(family, client, read, trust):
    assert "data-kiosk-form" not in page(client.get("/w/w7?kiosk=1"))
    client.post("/w/w7", data={"kiosk": "1"})  # the old hidden field is ignored too
    family.submit(kiosk="1")
    assert read.one(Concern).channel.value == "own_device"


def test_an_enrolled_tablet_is_a_kiosk_even_after_the_old_ward_setting_has_ended(app, client, family, read, trust):
    legacy_kiosk_ward(app, trust, utcnow() - timedelta(days=1))
    enrol_tablet(app, client, trust)
    assert "data-kiosk-form" in page(client.get("/w/w7"))
    family.submit()
    assert read.one(Concern).channel.value == "tablet"


def test_the_old_ward_setting_keeps_kiosk_mode_for_30_days_after_the_upgrade(app, client, trust):
    legacy_kiosk_ward(app, trust, utcnow() + timedelta(days=30))
    assert "data-kiosk-form" in page(client.get("/w/w7"))  # no ward tablet suddenly loses kiosk mode
    with time_machine.travel(utcnow() + timedelta(days=30, minutes=1), tick=False):
        forget_settings()
        assert "data-kiosk-form" not in page(client.get("/w/w7"))


def test_the_old_ward_setting_ends_when_the_wards_tablet_is_enrolled(app, client, trust):
    legacy_kiosk_ward(app, trust, utcnow() + timedelta(days=30))
    enrol_tablet(app, app.test_client(), trust)
    assert "data-kiosk-form" not in page(client.get("/w/w7"))  # a family's phone: the ordinary form


@pytest.mark.parametrize("kiosk_ward", [True, False])
def test_the_upgrade_gives_wards_set_to_kiosk_mode_30_days(empty_database_url, build_app, kiosk_ward):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade()
        with write_intent():
            built = build_trust()
            built["ward"].kiosk_default = kiosk_ward
            db.session.commit()
        db.session.remove()
        downgrade(revision="0019")  # as the trust's database was before this upgrade
        upgrade()
        until = db.session.execute(text("SELECT kiosk_default_until FROM settings")).scalar()
        if kiosk_ward:
            until = until if isinstance(until, datetime) else datetime.fromisoformat(str(until))
            days = (until.replace(tzinfo=UTC) - utcnow()).total_seconds() / 86400
            assert 29.9 < days <= 30
        else:
            assert until is None  # no ward was in kiosk mode: nothing to keep
        db.session.remove()
        db.engine.dispose()


def test_the_ward_tablets_page_warns_the_manager_until_the_old_setting_ends(app, client, trust, login_as):
    legacy_kiosk_ward(app, trust, utcnow() + timedelta(days=30))
    login_as("manager")
    html = page(client.get("/devices/tablets"))
    assert "data-legacy-kiosk" in html and "Ward 7: until" in html
    enrol_tablet(app, app.test_client(), trust)
    html = page(client.get("/devices/tablets"))
    assert "data-legacy-kiosk" not in html and "Bay 2 tablet" in html and "Working" in html


def test_a_manager_sets_up_a_wards_tablet_with_a_one_time_link_and_it_opens_the_wards_kiosk_form(
    app, client, trust, login_as
):
    login_as("manager")
    made = client.post("/devices/tablets", data={"csrf_token": csrf_token(client), "ward": "w7", "label": "Bay 2"})
    assert made.status_code == 200
    link = re.search(r"<code data-enrol-link>[^<]*(/devices/enrol/[^<]+)</code>", page(made)).group(1)
    tablet = app.test_client()
    assert "Set up this tablet for Ward 7" in page(tablet.get(link))
    set_up = tablet.post(link, data={"csrf_token": csrf_token(tablet)})
    assert set_up.status_code == 302 and set_up.headers["Location"] == "/w/w7"
    cookie = next(c for c in set_up.headers.getlist("Set-Cookie") if c.startswith("mr_enrolment="))
    assert "HttpOnly" in cookie and 364 * 86400 < int(re.search(r"Max-Age=(\d+)", cookie).group(1)) <= 365 * 86400
    assert "data-kiosk-form" in page(tablet.get("/w/w7"))
    # A tablet is no display, and no person: it opens nothing staff pages guard.
    assert tablet.get("/display").status_code == 403
    assert tablet.get("/triage/").status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"ward": "", "label": "Bay 2"}, "Choose the ward this tablet is for"),
        ({"ward": "not-mine", "label": "Bay 2"}, "Choose the ward this tablet is for"),
        ({"ward": "w7", "label": "  "}, "Enter a name for this tablet"),
    ],
)
def test_a_bad_tablet_request_says_what_to_fix(client, trust, login_as, form, message):
    login_as("manager")
    refused = client.post("/devices/tablets", data={"csrf_token": csrf_token(client), **form})
    assert refused.status_code == 400 and message in page(refused)


def test_a_turned_off_tablet_shows_the_ordinary_form_and_everything_is_audited(app, client, trust):
    device_id = enrol_tablet(app, client, trust)
    manager = app.test_client()
    manager_id, _ = create_staff(app, "manager", site_id=trust["site"], totp_secret=MFA)
    sign_in_directly(app, manager, manager_id)
    turned_off = manager.post(f"/devices/{device_id}/revoke", data={"csrf_token": csrf_token(manager)})
    assert turned_off.status_code == 302 and turned_off.headers["Location"] == "/devices/tablets"
    assert "data-kiosk-form" not in page(client.get("/w/w7"))
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"device_enrolment_created", "device_enrolled", "device_revoked"} <= actions


def test_a_tablet_is_set_up_off_the_trusts_display_ranges_too(app, trust):
    """The ranges keep the queue display on the office network; a tablet's kiosk mode only protects families,
    so it is never refused for its address (that would leave one family's answers for the next)."""
    with app.app_context(), write_intent():
        db.session.get_one(Settings, 1).device_address_ranges = "10.20.0.0/16"
        db.session.commit()
        forget_settings()
    client = app.test_client()
    enrol_tablet(app, client, trust)
    assert "data-kiosk-form" in page(client.get("/w/w7"))


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", *args])


def test_the_command_line_prints_a_tablet_set_up_link(app, trust):
    result = run_cli(app, "enrol-tablet", "w7", "--name", "Bay 1 tablet")
    assert result.exit_code == 0, result.output
    token = re.search(r"/devices/enrol/(\S+)", result.output).group(1)
    tablet = app.test_client()
    assert "Set up this tablet for Ward 7" in page(tablet.get(f"/devices/enrol/{token}"))
    assert run_cli(app, "enrol-tablet", "no-such-ward").exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= 1
