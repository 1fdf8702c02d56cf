"""The Trust settings page (issue 15, point 1): an administrator edits every setting `setup-trust` sets, a group at a
time, each change a version of the settings history named by its audit row; a manager reads them and cannot post.
Bad input gets a plain message beside its field and saves nothing of the group. A change to what families are told
in an emergency or to a retention period is checked first (tests/admin/test_settings_check.py)."""

from __future__ import annotations

import html

import pytest

from tests.admin.settings_helpers import CONTACT, REPORTS, RETENTION, post, version_count
from tracker.models import AuditEvent, Settings, SettingsVersion

GOOD = {
    "contact": {**CONTACT, "trust_name": "Renamed Hospitals NHS Trust"},
    "texting": {"text_relatives_allowed": "no", "sms_allowed_regions": "gb, ie"},
    "sign-in": {"idle_timeout_minutes": "15", "mfa_for_all_staff": "yes"},
    "reports": {**REPORTS, "in_hours_start": "07:30", "linked_calls_counted": "once"},
    "retention": RETENTION,
    "safeguarding": {"safeguarding_lead_name": "Dr Sam Lead", "safeguarding_lead_phone": "07400 900777"},
    "text-in": {"text_in_team": "gen-ccot", "text_in_paging": "yes"},
    "devices": {"device_address_ranges": "10.20.0.0/16, 192.168.4.0/24"},
}


def test_a_manager_reads_every_setting_and_can_change_none(app, client, login_as, read):
    login_as("manager")
    page = client.get("/admin/settings")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Press the red buzzer or ask any nurse now. Call 2222." in text and "020 7946 0199" in text
    assert "Until their 25th birthday" in text and "Only an administrator can change them." in text
    assert 'action="/admin/settings/' not in text  # no form
    before = version_count(app)
    for group, values in GOOD.items():
        assert post(client, f"/admin/settings/{group}", values).status_code == 403, group
    assert version_count(app) == before and read.one(Settings).trust_name == "Test Hospitals NHS Trust"


def test_the_set_up_page_lists_the_trust_settings_for_both(client, login_as):
    login_as("manager")
    assert 'href="/admin/settings"' in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("group", [g for g in GOOD if g not in ("retention",)])
def test_an_administrator_saves_each_group_as_a_version_named_by_its_audit_row(app, client, login_as, read, group):
    admin = login_as("admin")
    before = version_count(app)
    response = post(client, f"/admin/settings/{group}", GOOD[group])
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/settings#{group}"
    assert version_count(app) == before + 1
    version = read.all(SettingsVersion)[-1]
    assert (version.actor_type, version.actor_id) == ("user", admin)
    events = read.all(AuditEvent, AuditEvent.object_type == "settings_version", AuditEvent.object_id == version.id)
    assert events and all(event.actor_id == admin for event in events)
    assert "saved." in client.get("/admin/settings").get_data(as_text=True)


def test_what_each_group_saves(app, client, login_as, read):
    login_as("admin")
    for group, values in GOOD.items():
        if group != "retention":
            post(client, f"/admin/settings/{group}", values)
    settings = read.one(Settings)
    assert settings.trust_name == "Renamed Hospitals NHS Trust" and settings.pals_phone == "+442079460199"
    assert (settings.text_relatives_allowed, settings.sms_allowed_regions) == (False, "GB,IE")
    assert (settings.idle_timeout_minutes, settings.mfa_for_all_staff) == (15, True)
    assert (settings.in_hours_start.strftime("%H:%M"), settings.linked_calls_counted) == ("07:30", "once")
    assert (settings.safeguarding_lead_name, settings.safeguarding_lead_phone) == ("Dr Sam Lead", "+447400900777")
    assert settings.text_in_paging is True and settings.text_in_team_id is not None
    assert settings.device_address_ranges == "10.20.0.0/16, 192.168.4.0/24"


def test_the_time_zone_is_one_of_the_settings(client, login_as, read):
    login_as("admin")
    assert post(client, "/admin/settings/reports", {**REPORTS, "timezone": "Europe/Dublin"}).status_code == 302
    assert read.one(Settings).timezone == "Europe/Dublin"


def test_the_improvement_charts_run_length_is_one_of_the_settings(client, login_as, read):
    login_as("admin")
    assert read.one(Settings).spc_run_length == 7
    assert post(client, "/admin/settings/reports", {**REPORTS, "spc_run_length": "6"}).status_code == 302
    assert read.one(Settings).spc_run_length == 6
    event = read.one(AuditEvent, AuditEvent.action == "spc_run_length_saved")
    assert event.changes == {"from": 7, "to": 6}
    assert "6 months (allowed by NHS England" in client.get("/admin/settings").get_data(as_text=True)


@pytest.mark.parametrize(
    ("group", "values", "expected"),
    [
        (
            "contact",
            {**CONTACT, "trust_name": " ", "outreach_phone": "not a number", "pals_phone": "12"},
            {
                "trust_name": "Enter the trust's name",
                "outreach_phone": "The outreach team's number is not a phone number",
                "pals_phone": "The PALS number is not a phone number",
            },
        ),
        (
            "contact",
            {**CONTACT, "emergency_instruction": "x" * 401},
            {"emergency_instruction": "The emergency instruction must be 400 characters or fewer"},
        ),
        (
            "contact",
            {**CONTACT, "emergency_instruction": "Line one\nline two"},
            {"emergency_instruction": "The emergency instruction must be on one line"},
        ),
        ("texting", {"text_relatives_allowed": "maybe", "sms_allowed_regions": "GBR"}, None),
        (
            "sign-in",
            {"idle_timeout_minutes": "60", "mfa_for_all_staff": "yes"},
            {"idle_timeout_minutes": "from 5 to 30"},
        ),
        ("reports", {**REPORTS, "timezone": "Mars/Olympus"}, {"timezone": "Write a time zone the tz database knows"}),
        (
            "reports",
            {**REPORTS, "in_hours_start": "18:00", "in_hours_end": "08:00"},
            {"in_hours_end": "must end after"},
        ),
        ("reports", {**REPORTS, "in_hours_start": "25:00"}, {"in_hours_start": "24-hour time"}),
        ("reports", {**REPORTS, "bank_holiday_region": "wales"}, {"bank_holiday_region": "Choose whose bank holidays"}),
        ("reports", {**REPORTS, "spc_run_length": "9"}, {"spc_run_length": "a shift or a trend: 6 or 7"}),
        ("reports", {**REPORTS, "spc_run_length": ""}, {"spc_run_length": "a shift or a trend: 6 or 7"}),
        (
            "retention",
            {**RETENTION, "retention_adult_years": "5", "retention_child_until_age": "eighteen"},
            {
                "retention_adult_years": "the Records Management Code's 8 is the least allowed",
                "retention_child_until_age": "whole number",
            },
        ),
        (
            "safeguarding",
            {"safeguarding_lead_name": "Dr Lead", "safeguarding_lead_phone": "abc"},
            {"safeguarding_lead_phone": "The safeguarding lead's number is not a phone number"},
        ),
        (
            "text-in",
            {"text_in_team": "no-such-team", "text_in_paging": "no"},
            {"text_in_team": "Choose one of the teams"},
        ),
        (
            "devices",
            {"device_address_ranges": "10.20.0.0/16, the ward"},
            {"device_address_ranges": "is not an address range"},
        ),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_of_the_group_is_saved(
    app, client, login_as, read, group, values, expected
):
    login_as("admin")
    before = (version_count(app), read.one(Settings).updated_at)
    response = post(client, f"/admin/settings/{group}", values)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "There is a problem" in page
    for field, message in (expected or {}).items():
        assert f'id="{group}-{field}-error"' in page, field
        assert message in page, message
    if expected is None:
        assert page.count('class="nhsuk-error-message"') == 2  # both fields
    assert (version_count(app), read.one(Settings).updated_at) == before


def test_what_was_typed_is_shown_again_beside_the_problem(client, login_as):
    login_as("admin")
    page = post(client, "/admin/settings/contact", {**CONTACT, "trust_name": "A New Name", "pals_phone": "12"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and 'value="A New Name"' in text and 'value="12"' in text
    assert 'href="#contact-pals_phone"' in text  # the error summary links to the field


def test_an_unknown_group_is_not_found(client, login_as):
    login_as("admin")
    assert post(client, "/admin/settings/everything", {}).status_code == 404


def test_setup_trust_and_the_page_share_the_history(app, client, login_as, read):
    """The CLI stays, for automation: its changes are versions too, said to come from the server's command."""
    result = app.test_cli_runner().invoke(
        args=[
            "tracker",
            "setup-trust",
            "--name",
            "Test Hospitals NHS Trust",
            "--emergency-instruction",
            "Press the red buzzer or ask any nurse now. Call 2222.",
            "--outreach-phone",
            "020 7946 0100",
            "--pals-phone",
            "020 7946 0199",
            "--text-relatives",
            "--timezone",
            "Europe/Dublin",
        ]
    )
    assert result.exit_code == 0, result.output
    version = read.all(SettingsVersion)[-1]
    assert version.actor_type == "cli" and version.changed == ["timezone"]
    login_as("manager")
    history = client.get("/admin/settings/history").get_data(as_text=True)
    assert "a set-up command on the server" in history and "Time zone" in history
