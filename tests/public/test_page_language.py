"""Which language a family page is in (docs/architecture.md#languages): the browser's language by
default among those the trust has enabled, the picker's choice kept for the journey, right to left for
Arabic and Urdu, a notice on a draft translation, the trust's own words in the language or in English
beside it, and the language recorded on the concern for the clinician."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern
from tracker.services.languages import LANGUAGES
from tracker.services.records import audit
from tracker.services.setup.hospital import SetupProblem
from tracker.services.setup.trust_words import EMERGENCY_INSTRUCTION, save_languages, save_words, team_key

POLISH_INSTRUCTION = "Naciśnij czerwony przycisk lub poproś pielęgniarkę. Zadzwoń pod 2222."


@pytest.fixture
def languages(app, trust):
    with app.app_context(), write_intent():
        save_languages(audit.Actor.cli(), ",".join(language.code for language in LANGUAGES))
        save_words(audit.Actor.cli(), "pl", EMERGENCY_INSTRUCTION, POLISH_INSTRUCTION)
        save_words(audit.Actor.cli(), "pl", team_key(trust["team"]), "Zespół Wyjazdowy")
        db.session.commit()
    return trust


def _html_tag(page: str) -> str:
    found = re.search(r"<html[^>]*>", page)
    assert found
    return found.group(0)


def in_(app, code: str, message: str) -> str:
    with app.test_request_context(), force_locale(code):
        return gettext(message)


def test_english_only_by_default_whatever_the_browser_asks(client, trust):
    page = client.get("/w/w7", headers={"Accept-Language": "pl,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="en"' in _html_tag(page)
    assert "tracker-languages" not in page


def test_the_browsers_language_is_the_default_once_enabled(app, client, languages):
    page = client.get("/w/w7", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="pl"' in _html_tag(page)
    assert in_(app, "pl", "Skip to main content") in page


@pytest.mark.parametrize(
    ("header", "tag"), [("zh-CN", "zh-Hans"), ("zh", "zh-Hans"), ("pa-IN", "pa-Guru"), ("ur-PK", "ur")]
)
def test_browser_tags_under_other_spellings_find_their_language(client, languages, header, tag):
    page = client.get("/w/w7", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'lang="{tag}"' in _html_tag(page)


def test_the_picker_names_each_language_in_its_own_script_and_the_choice_is_kept(client, languages):
    page = client.get("/w/w7").get_data(as_text=True)
    for name in ("Polski", "العربية", "اردو", "বাংলা", "ગુજરાતી", "ਪੰਜਾਬੀ", "简体中文", "Română", "Español", "Português"):
        assert name in page
    assert 'hreflang="ar"' in page
    chosen = client.get("/w/w7?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in _html_tag(chosen) and "app/rtl.css" in chosen
    later = client.get("/privacy?ward=w7").get_data(as_text=True)
    assert 'lang="ar"' in _html_tag(later)
    forgotten = client.get("/w/w7?lang=auto").get_data(as_text=True)
    assert 'lang="en"' in _html_tag(forgotten) and "app/rtl.css" not in forgotten


# NUL is refused before any view (tests/security/test_nul_refused.py).
@pytest.mark.parametrize("asked", ["xx", "", "../en", "a" * 500])
def test_an_unknown_language_is_ignored_not_an_error(client, languages, asked):
    response = client.get("/w/w7", query_string={"lang": asked})
    assert response.status_code == 200
    assert 'lang="en"' in _html_tag(response.get_data(as_text=True))


def test_a_language_the_trust_has_not_enabled_cannot_be_chosen(client, trust):
    page = client.get("/w/w7?lang=pl").get_data(as_text=True)
    assert 'lang="en"' in _html_tag(page)


def test_staff_pages_stay_in_english(client, languages):
    page = client.get("/auth/sign-in", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert 'lang="en"' in _html_tag(page)


def test_a_draft_translation_says_so_with_the_emergency_instruction_in_english(app, client, languages):
    page = client.get("/w/w7?lang=pl").get_data(as_text=True)
    assert "data-draft-notice" in page
    notice = "This translation has not yet been checked by the hospital's translators. If anything is unclear, ask a member of staff."
    assert in_(app, "pl", notice) in page
    assert POLISH_INSTRUCTION in page
    assert "Press the red buzzer or ask any nurse now. Call 2222." in page  # the English, beside it
    assert "data-draft-notice" not in client.get("/w/w7?lang=en").get_data(as_text=True)


def test_the_trusts_words_missing_in_a_language_are_shown_in_english_marked_as_english(client, languages):
    page = client.get("/w/w7?lang=bn").get_data(as_text=True)
    assert re.search(r'lang="en" dir="ltr">Press the red buzzer or ask any nurse now\. Call 2222\.<', page)
    assert re.search(r'<span lang="en" dir="ltr">Outreach Team</span>', page)
    polish = client.get("/w/w7?lang=pl").get_data(as_text=True)
    assert "Zespół Wyjazdowy" in polish


def test_the_interpreter_question_is_prefilled_from_the_page_language_and_stays_separate(client, family, languages):
    client.get("/w/w7?lang=pl")
    response = family.submit()
    assert response.status_code in (302, 303)
    page = client.get("/w/w7/more").get_data(as_text=True)
    assert re.search(r'<option value="Polish"\s+selected', page)
    assert re.search(r'<option value="British Sign Language"', page)


def test_the_concern_records_the_page_language_and_the_clinician_sees_it(app, client, family, languages, login_as):
    client.get("/w/w7?lang=ar")
    family.submit()
    with app.app_context():
        concern = db.session.scalars(db.select(Concern)).one()
        assert concern.locale == "ar"
        reference = concern.reference
    login_as("outreach")
    page = client.get(f"/triage/c/{reference}").get_data(as_text=True)
    assert "Read the pages in Arabic" in page and 'lang="ar"' in page


def test_setting_languages_refuses_unknown_codes(app, trust):
    with app.app_context(), write_intent(), pytest.raises(SetupProblem, match="xx"):
        save_languages(audit.Actor.cli(), "pl,xx")


def test_the_trusts_words_are_one_line_and_for_a_known_language(app, trust):
    with app.app_context(), write_intent():
        with pytest.raises(SetupProblem):
            save_words(audit.Actor.cli(), "en", EMERGENCY_INSTRUCTION, "x")
        with pytest.raises(SetupProblem):
            save_words(audit.Actor.cli(), "pl", EMERGENCY_INSTRUCTION, "two\nlines")
        with pytest.raises(SetupProblem):
            save_words(audit.Actor.cli(), "pl", "team_name:999999", "x")


def test_a_ward_tablet_starts_the_next_family_in_its_own_language(app, client, languages):
    from tests.conftest import enrol_tablet

    enrol_tablet(app, client, languages)
    page = client.get("/w/w7?lang=ar").get_data(as_text=True)
    assert 'lang="ar"' in _html_tag(page)
    assert 'data-reset-url="/w/w7?lang=auto"' in page  # "Are you still there?" clears to the tablet's language
    nobody_there = client.get("/w/w7?lang=auto").get_data(as_text=True)
    assert 'lang="en"' in _html_tag(nobody_there)


def test_a_family_page_tells_caches_it_depends_on_the_browsers_languages(client, languages):
    assert "Accept-Language" in client.get("/w/w7").headers.get("Vary", "")
    assert "Accept-Language" not in client.get("/auth/sign-in").headers.get("Vary", "")


def test_the_time_a_request_was_sent_names_the_month_in_the_familys_language(app, client, family, languages):
    from tracker.clock import utcnow

    client.get("/w/w7?lang=pl")
    family.submit()
    page = client.get("/w/w7/sent").get_data(as_text=True)
    with app.test_request_context(), force_locale("pl"):
        from flask_babel import format_datetime

        polish_month = format_datetime(utcnow(), "MMM")
    assert polish_month in page
    english = client.get("/w/w7/sent?lang=en").get_data(as_text=True)
    assert utcnow().strftime("%b") in english


def test_every_place_a_family_page_shows_the_english_instruction_marks_it_as_english(client, family, languages):
    client.get("/w/w7?lang=bn")
    family.submit()
    page = client.get("/w/w7/sent").get_data(as_text=True)
    shown = re.findall(r"<p([^>]*)>\s*Press the red buzzer or ask any nurse now\. Call 2222\.", page)
    assert len(shown) >= 2 and all('lang="en"' in attributes for attributes in shown), shown
