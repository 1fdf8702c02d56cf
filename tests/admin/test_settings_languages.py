"""The families' languages on the Trust settings pages: an administrator turns languages on and writes the trust's own
words in each, every box beside the English it translates; where a language has none, the page says families see
the English. A manager reads them. Bad input is refused beside its box, nothing saved."""

from __future__ import annotations

import html

from tests.admin.settings_helpers import post, version_count
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Settings, SettingsVersion, Team, TrustWords
from tracker.services.records import audit
from tracker.services.setup import trust_words


def test_an_administrator_turns_languages_on_and_off(client, login_as, read):
    login_as("admin")
    response = client.post(
        "/admin/settings/languages",
        data={"csrf_token": _token(client), "languages": ["pl", "ar"]},
    )
    assert response.status_code == 302 and read.one(Settings).languages_enabled == "en,ar,pl"
    assert read.all(SettingsVersion)[-1].changed == ["languages_enabled"]
    page = client.get("/admin/settings/languages").get_data(as_text=True)
    assert 'value="pl" checked' in page and 'value="es">' in page
    assert post(client, "/admin/settings/languages", {}).status_code == 302
    assert read.one(Settings).languages_enabled == "en"


def test_a_language_not_listed_is_refused(app, client, login_as, read):
    login_as("admin")
    before = version_count(app)
    response = client.post("/admin/settings/languages", data={"csrf_token": _token(client), "languages": ["pl", "xx"]})
    assert response.status_code == 400 and "Choose from the languages listed" in response.get_data(as_text=True)
    assert read.one(Settings).languages_enabled == "en" and version_count(app) == before


def test_each_box_is_beside_the_english_and_an_empty_one_says_families_see_the_english(client, login_as, trust):
    login_as("admin")
    text = html.unescape(client.get("/admin/settings/languages/ar").get_data(as_text=True))
    instruction = text[text.index('data-words="emergency_instruction"') :]
    assert "Press the red buzzer or ask any nurse now. Call 2222." in instruction.split("</div>")[0] + instruction
    assert "None yet: families reading Arabic see the English" in instruction
    assert 'data-words="team-' in text and "Team name: Outreach Team" in text
    assert 'lang="ar" dir="rtl"' in text  # typed right to left


def test_team_names_and_the_privacy_contact_are_saved_at_once(app, client, login_as, trust, read):
    login_as("admin")
    response = post(
        client,
        "/admin/settings/languages/pl",
        {"emergency_instruction": "", "privacy_contact": "Inspektor Ochrony Danych", f"team-{trust['team']}": "Zespół"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/settings/languages/pl"
    words = {w.key: w.text for w in read.all(TrustWords)}
    assert words == {"privacy_contact": "Inspektor Ochrony Danych", f"team_name:{trust['team']}": "Zespół"}
    version = read.all(SettingsVersion)[-1]
    assert version.changed == ["words:pl"] and version.snapshot["words"]["pl"] == words  # one version for both
    # Emptying a box removes the words: families see the English again.
    post(
        client,
        "/admin/settings/languages/pl",
        {"emergency_instruction": "", "privacy_contact": "", f"team-{trust['team']}": "Zespół"},
    )
    assert {w.key for w in read.all(TrustWords)} == {f"team_name:{trust['team']}"}


def test_words_too_long_or_on_two_lines_are_refused_and_nothing_is_saved(client, login_as, trust, read):
    login_as("admin")
    response = post(
        client,
        "/admin/settings/languages/pl",
        {"emergency_instruction": "a\nb", "privacy_contact": "x" * 201, f"team-{trust['team']}": "Zespół"},
    )
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "The emergency instruction must be on one line" in text
    assert "The privacy contact must be 200 characters or fewer" in text
    assert 'href="#words-emergency_instruction"' in text and "Zespół" in text  # what was typed is kept
    assert read.count(TrustWords) == 0


def test_a_manager_reads_the_words_and_cannot_change_them(app, client, login_as, trust, read):
    with app.app_context(), write_intent():
        trust_words.save_words(audit.Actor.cli(), "pl", trust_words.EMERGENCY_INSTRUCTION, "Naciśnij przycisk.")
        db.session.commit()
        team = db.session.get(Team, trust["team"])
        team_words = f"team-{team.id}"
    login_as("manager")
    text = client.get("/admin/settings/languages/pl").get_data(as_text=True)
    assert "Naciśnij przycisk." in text and "<textarea" not in text and "None: families see the English." in text
    assert client.get("/admin/settings/languages").status_code == 200
    assert post(client, "/admin/settings/languages/pl", {team_words: "Zespół"}).status_code == 403
    assert post(client, "/admin/settings/languages", {"languages": "pl"}).status_code == 403
    assert read.count(TrustWords) == 1


def test_english_and_unknown_languages_have_no_words_page(client, login_as):
    login_as("admin")
    assert client.get("/admin/settings/languages/en").status_code == 404
    assert client.get("/admin/settings/languages/xx").status_code == 404
    assert client.get("/admin/settings/check/words-xx").status_code == 404


def _token(client) -> str:
    from tests.admin.settings_helpers import csrf

    return csrf(client, "/admin/settings/languages")
