"""A family raises a concern in Polish and in Arabic on the ward tablet (docs/architecture.md#languages):
they choose their language with the picker, fill in the form by its translated labels, and get their
reference; the page is in their language and direction, says the translation is a draft, keeps the
emergency instruction on screen, never scrolls sideways, and passes axe-core on every page. The call
records the language, and the family's receipt text is in it.

The hazard log (docs/clinical-safety/hazard-log.md, HAZ-077 to HAZ-079) names tests here."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from tests.e2e.family_form import fill_in_everything, make_tablet, reference_on, send
from tests.e2e.journeys import FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET, at
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, Message
from tracker.services.languages import LANGUAGES
from tracker.services.messaging.sms_text import render
from tracker.services.records import audit
from tracker.services.setup.trust_words import save_languages

pytestmark = pytest.mark.browser


@pytest.fixture
def every_language(app, trust):
    with app.app_context(), write_intent():
        save_languages(audit.Actor.cli(), ",".join(language.code for language in LANGUAGES))
        db.session.commit()


def speaker(app, code: str):
    def say(text: str) -> str:
        with app.test_request_context(), force_locale(code):
            return gettext(text)

    return say


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width[0]} px wide in a {width[1]} px window"


@pytest.mark.parametrize(
    ("code", "native", "tag", "direction"), [("pl", "Polski", "pl", "ltr"), ("ar", "العربية", "ar", "rtl")]
)
@at(FAMILY_ON_A_WARD_TABLET)
def test_a_family_raises_a_concern_in_their_own_language_on_the_ward_tablet(
    tab, app, trust, every_language, base_url, read, code, native, tag, direction
):
    page = tab.page
    say = speaker(app, code)
    make_tablet(tab, app, trust, base_url)
    page.goto("/w/w7")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("navigation", name="Choose a language").get_by_role("link", name=native).click()
    expect(page.locator("html")).to_have_attribute("lang", tag)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(page.get_by_role("heading", name=say("Ask for an urgent review"), exact=True)).to_be_visible()
    expect(page.locator("[data-draft-notice]")).to_contain_text(
        say(
            "This translation has not yet been checked by the hospital's translators. If anything is unclear, ask a "
            "member of staff."
        )
    )
    expect(page.locator(".tracker-emergency__instruction")).to_have_text(
        "Press the red buzzer or ask any nurse now. Call 2222."
    )
    _no_sideways_scroll(page)
    tab.check(f"family-form-{code}")

    send(page, say)  # empty: the errors, in the language
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(say("There is a problem"))
    tab.check(f"family-form-errors-{code}")

    fill_in_everything(page, say=say)
    send(page, say)
    reference = reference_on(page, say)
    expect(page.locator("html")).to_have_attribute("lang", tag)
    _no_sideways_scroll(page)
    tab.check(f"family-sent-{code}")

    concern = read.one(Concern, Concern.reference == reference)
    assert concern.locale == code
    receipt = [m for m in read.all(Message) if m.template_id == "family_receipt"]
    assert len(receipt) == 1 and receipt[0].locale == code
    with app.app_context():
        body = render("family_receipt", receipt[0].variables, code)
    assert reference in body and say("If the patient is very unwell now, tell a nurse.") in body


@at(FAMILY_ON_A_PHONE)
def test_the_phones_own_language_is_the_default_and_right_to_left_pages_pass_axe(tab, app, every_language):
    """Urdu from the phone's Accept-Language: every family page in it, right to left, axe-clean."""
    page = tab.page
    say = speaker(app, "ur")
    page.context.set_extra_http_headers({"Accept-Language": "ur-PK,ur;q=0.9,en;q=0.5"})
    for path, name in (
        ("/", "choose"),
        ("/w/w8/daily", "daily"),
        ("/privacy?ward=w8", "privacy"),
        ("/accessibility", "access"),
    ):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        _no_sideways_scroll(page)
        tab.check(f"family-{name}-ur")
    expect(page.get_by_role("heading", name=say("Accessibility statement"), exact=True)).to_be_visible()
