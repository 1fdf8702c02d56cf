"""The settings history page: anyone who may see the set-up chooses a day and time and sees the settings in force
then (what families were shown that night), and every version, with who made it and when."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import update

from tests.admin.settings_helpers import CONTACT, post
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import SettingsVersion
from tracker.services.records import audit
from tracker.services.setup import settings_changes

# 22:00 on 1 December 2026, London time (GMT, so UTC too).
NIGHT = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


@pytest.fixture
def history(app, trust):
    """The trust set up a month before; the instruction changed at 18:00 that day, and again the next morning."""
    with app.app_context(), write_intent():
        db.session.execute(update(SettingsVersion).values(recorded_at=NIGHT - timedelta(days=30)))
        with time_machine.travel(NIGHT - timedelta(hours=4), tick=False):
            settings_changes.change_settings(audit.Actor.cli(), emergency_instruction="Evening words: pull the cord.")
            db.session.commit()
        with time_machine.travel(NIGHT + timedelta(hours=11), tick=False):
            settings_changes.change_settings(
                audit.Actor.cli(), emergency_instruction="Morning words: press the buzzer."
            )
            db.session.commit()


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_the_settings_in_force_on_a_given_night(client, login_as, history, role):
    login_as(role)
    page = client.get("/admin/settings/history?day=2026-12-01&at=22:00")
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "In force at 22:00 on 1 December 2026" in text and "saved 1 December 2026 at 18:00" in text
    shown = text[text.index("data-in-force") : text.index("<h2>Every change</h2>")]
    assert "Evening words: pull the cord." in shown and "Morning words" not in shown
    assert 'class="tracker-emergency"' in shown  # the banner as families saw it
    assert "Until their 25th birthday" in shown  # every group's settings


def test_the_morning_after_shows_the_next_version_and_before_the_history_nothing_is_known(client, login_as, history):
    login_as("manager")
    morning = html.unescape(client.get("/admin/settings/history?day=2026-12-02&at=09:00").get_data(as_text=True))
    assert "Morning words: press the buzzer." in morning[morning.index("data-in-force") :]
    before = html.unescape(client.get("/admin/settings/history?day=2026-10-01&at=09:00").get_data(as_text=True))
    assert "data-in-force" not in before and "Nothing is known of the settings at that moment" in before


def test_every_version_is_listed_with_who_and_what_changed_and_opens(client, login_as, history, read):
    admin = login_as("admin")
    now_said = {**CONTACT, "emergency_instruction": "Morning words: press the buzzer."}
    assert post(client, "/admin/settings/contact", {**now_said, "trust_name": "Renamed NHS Trust"}).status_code == 302
    text = html.unescape(client.get("/admin/settings/history").get_data(as_text=True))
    rows = text[text.index("data-versions") :]
    assert rows.count("data-version=") == 4
    assert "Test admin" in rows and "a set-up command on the server" in rows and "Trust name" in rows
    assert "Emergency instruction" in rows
    version = read.all(SettingsVersion)[-1]
    assert version.actor_id == admin
    opened = html.unescape(client.get(f"/admin/settings/history?version={version.id}").get_data(as_text=True))
    assert f"Version {version.id}" in opened and "Renamed NHS Trust" in opened


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("day=2026-13-01&at=22:00", "Enter the day as a date"),
        ("day=2026-12-01&at=25:61", "Enter the time as a 24-hour time"),
        ("day=2027-03-28&at=01:30", "That time did not happen that day: the clocks went forward"),
        ("version=99999", "There is no such version of the settings"),
        ("version=x", "The version must be a whole number"),
    ],
)
def test_a_moment_that_cannot_be_read_gets_a_plain_message(client, login_as, history, query, message):
    login_as("manager")
    page = client.get(f"/admin/settings/history?{query}")
    assert page.status_code == 400 and message in html.unescape(page.get_data(as_text=True))


def test_people_without_the_set_up_cannot_see_the_history(client, login_as, trust):
    login_as("outreach")
    assert client.get("/admin/settings/history").status_code == 403


def test_a_trust_words_label_is_the_same_on_the_check_page_and_in_the_history():
    from tracker.admin.settings_groups import words_label

    names = {3: "Critical Care Outreach"}
    assert words_label("emergency_instruction", names) == "Emergency instruction"
    assert words_label("privacy_contact", names) == "Privacy contact"
    assert words_label("team_name:3", names) == "Team name: Critical Care Outreach"
    assert words_label("team_name:4", names) == "A team's name"  # removed since
    assert words_label("team_name:²", names) == "A team's name"
    assert words_label("team_name:" + "9" * 5000, names) == "A team's name"
