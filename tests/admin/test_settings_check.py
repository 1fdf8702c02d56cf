"""HAZ-083 and HAZ-084 on the Trust settings page: a change to the emergency instruction (in English or a family
language), the outreach or PALS number, or a retention period is saved only after a fresh sign-in and a check that
shows it as families will see it (the family pages' own emergency banner) or, for retention, how many calls it would
make due for destruction now (the purge's dry run)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import quote

import pyotp
import time_machine

from tests.admin.settings_helpers import CONTACT, PASSWORD, RETENTION, TOTP, csrf, post, stale_sign_in, version_count
from tests.services.test_retention import old_call
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Settings, SettingsVersion, TrustWords, Ward
from tracker.services.records import audit
from tracker.services.setup import settings_changes, trust_words

NEW = "Pull the red cord by the bed, or tell any nurse. Dial 2222 from a ward phone."
CHECK = "/admin/settings/check/contact"


def test_a_new_emergency_instruction_is_shown_as_families_will_see_it_before_it_is_saved(app, client, login_as, read):
    login_as("admin")
    before = version_count(app)
    response = post(
        client, "/admin/settings/contact", {**CONTACT, "emergency_instruction": NEW, "outreach_phone": "020 7946 0111"}
    )
    assert response.status_code == 303 and response.headers["Location"] == CHECK
    assert version_count(app) == before and read.one(Settings).emergency_instruction != NEW  # not yet

    page = client.get(CHECK)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    preview = text[text.index("data-preview") :]
    assert 'class="tracker-emergency"' in preview and "In an emergency" in preview and NEW in preview
    assert 'href="tel:+442079460111"' in preview and "020 7946 0111" in preview
    assert "Press the red buzzer or ask any nurse now. Call 2222." in text  # what it says now, beside it

    saved = client.post(CHECK, data={"csrf_token": csrf(client, CHECK)})
    assert saved.status_code == 302 and saved.headers["Location"] == "/admin/settings#contact"
    settings = read.one(Settings)
    assert (settings.emergency_instruction, settings.outreach_phone) == (NEW, "+442079460111")
    version = read.all(SettingsVersion)[-1]
    assert version.changed == ["emergency_instruction", "outreach_phone"] and version_count(app) == before + 1
    event = read.one(AuditEvent, AuditEvent.action == "settings_changed", AuditEvent.object_id == version.id)
    assert NEW not in str(event.changes)  # the audit names the version; the words are in the history
    assert NEW in client.get("/", headers={"Cookie": ""}).get_data(as_text=True)  # families see it now
    # Once saved, there is nothing left to check.
    assert client.get(CHECK).status_code == 302


def test_a_new_pals_number_is_checked_too(client, login_as):
    login_as("admin")
    assert post(client, "/admin/settings/contact", {**CONTACT, "pals_phone": "020 7946 0555"}).status_code == 303
    text = client.get(CHECK).get_data(as_text=True)
    assert "data-pals-preview" in text and "020 7946 0555" in text[text.index("data-pals-preview") :]


def test_other_words_of_the_group_are_saved_at_once(client, login_as, read):
    login_as("admin")
    response = post(client, "/admin/settings/contact", {**CONTACT, "privacy_contact": "The DPO, dpo@test.invalid"})
    assert response.status_code == 302 and read.one(Settings).privacy_contact == "The DPO, dpo@test.invalid"


def test_the_check_needs_a_fresh_sign_in_and_nothing_is_saved_without_one(app, client, login_as, read):
    admin = login_as("admin")
    post(client, "/admin/settings/contact", {**CONTACT, "emergency_instruction": NEW})
    stale_sign_in(app, admin)
    expected = f"/auth/confirm?next={quote(CHECK, safe='')}"
    shown = client.get(CHECK)
    assert shown.status_code == 302 and shown.headers["Location"] in (expected, f"/auth/confirm?next={CHECK}")
    posted = client.post(CHECK, data={"csrf_token": csrf(client, "/admin/settings")})
    assert posted.status_code == 302 and posted.headers["Location"].startswith("/auth/confirm")
    assert read.one(Settings).emergency_instruction != NEW

    # Signing in again (password and code) comes back to the check, with the change still waiting.
    confirmed = client.post(
        shown.headers["Location"],
        data={"csrf_token": csrf(client, "/auth/confirm"), "password": PASSWORD, "code": pyotp.TOTP(TOTP).now()},
    )
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == CHECK
    assert NEW in client.get(CHECK).get_data(as_text=True)
    assert client.post(CHECK, data={"csrf_token": csrf(client, CHECK)}).status_code == 302
    assert read.one(Settings).emergency_instruction == NEW


def test_a_change_made_by_someone_else_meanwhile_stops_the_save(app, client, login_as, read):
    login_as("admin")
    post(client, "/admin/settings/contact", {**CONTACT, "emergency_instruction": NEW})
    with app.app_context(), write_intent():
        settings_changes.change_settings(audit.Actor.cli(), pals_phone="020 7946 0777")
        db.session.commit()
    refused = client.post(CHECK, data={"csrf_token": csrf(client, CHECK)})
    assert refused.status_code == 302
    assert read.one(Settings).emergency_instruction != NEW
    page = html.unescape(client.get("/admin/settings").get_data(as_text=True))
    assert "The settings were changed by someone else while you were checking yours, so nothing was saved" in page


def test_a_manager_cannot_open_or_confirm_a_check(client, login_as):
    login_as("manager")
    assert client.get(CHECK).status_code == 403
    assert client.post(CHECK, data={"csrf_token": csrf(client)}).status_code == 403


def test_a_shorter_retention_period_shows_how_many_calls_it_would_make_due_now(app, client, login_as, trust, read):
    with app.app_context(), write_intent():
        from tracker.services.records import retention

        retention.save_retention(audit.Actor.cli(), retention_adult_years=12)
        db.session.commit()
        ward = db.session.get(Ward, trust["ward"])
        with time_machine.travel(datetime.now(UTC), tick=True):
            old_call(ward, 1, when=datetime(2010, 1, 5, tzinfo=UTC))  # due under 12 years too
            old_call(ward, 2, when=datetime(2016, 1, 5, tzinfo=UTC))  # due only under 8
            old_call(ward, 3, when=datetime(2016, 2, 5, tzinfo=UTC), legal_hold=True)
    login_as("admin")
    response = post(client, "/admin/settings/retention", RETENTION)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/settings/check/retention"
    text = html.unescape(client.get("/admin/settings/check/retention").get_data(as_text=True))
    assert "1 call due" in text and "2 calls due, and 1 kept under legal hold although due" in text
    assert "1 more call</strong> would be due for destruction now" in text
    assert "You are making the adult period shorter" in text and "--confirm-shortened-retention" in text
    assert read.one(Settings).retention_adult_years == 12

    token = csrf(client, "/admin/settings/check/retention")
    assert client.post("/admin/settings/check/retention", data={"csrf_token": token}).status_code == 302
    assert read.one(Settings).retention_adult_years == 8
    version = read.all(SettingsVersion)[-1]
    assert version.retention_shortened is True and version.changed == ["retention_adult_years"]


def test_a_retention_change_needs_a_fresh_sign_in(app, client, login_as, read):
    admin = login_as("admin")
    post(client, "/admin/settings/retention", {**RETENTION, "retention_complaint_years": "12"})
    stale_sign_in(app, admin)
    assert client.get("/admin/settings/check/retention").headers["Location"].startswith("/auth/confirm")
    assert client.post("/admin/settings/check/retention", data={"csrf_token": csrf(client)}).status_code == 302
    assert read.one(Settings).retention_complaint_years == 10


POLISH = "Naciśnij czerwony przycisk lub powiedz pielęgniarce. Zadzwoń 2222."


def test_an_emergency_instruction_in_a_family_language_is_checked_in_that_language(app, client, login_as, read):
    with app.app_context(), write_intent():
        trust_words.save_languages(audit.Actor.cli(), "pl")
        db.session.commit()
    login_as("admin")
    response = post(client, "/admin/settings/languages/pl", {"emergency_instruction": POLISH, "privacy_contact": ""})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/settings/check/words-pl"
    assert read.count(TrustWords) == 0
    text = client.get("/admin/settings/check/words-pl").get_data(as_text=True)
    preview = text[text.index("data-preview") :]
    assert preview.startswith('data-preview lang="pl" dir="ltr"')
    assert "W nagłym wypadku" in preview and POLISH in preview  # the Polish page's own heading
    assert client.post("/admin/settings/check/words-pl", data={"csrf_token": csrf(client)}).status_code == 302
    assert read.one(TrustWords).text == POLISH
    assert POLISH in client.get("/w/w7?lang=pl").get_data(as_text=True)


def test_the_english_instructions_check_says_which_languages_have_their_own(app, client, login_as):
    with app.app_context(), write_intent():
        trust_words.save_languages(audit.Actor.cli(), "pl")
        trust_words.save_words(audit.Actor.cli(), "pl", trust_words.EMERGENCY_INSTRUCTION, POLISH)
        db.session.commit()
    login_as("admin")
    post(client, "/admin/settings/contact", {**CONTACT, "emergency_instruction": NEW})
    text = client.get(CHECK).get_data(as_text=True)
    assert "data-translated" in text and 'href="/admin/settings/languages/pl"' in text
