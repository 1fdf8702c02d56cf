"""Questions that appear when a radio is chosen ("I am a family member…" asks how they are related),
in Chromium: our script (static/app/conditional_reveal.mjs) shows and hides them in place of the
design system's, never sets aria-expanded (which ARIA does not allow on a radio), and says in a
polite live region that a further question has appeared, so a screen-reader user does not skip it
(HAZ-065). axe-core runs after each radio is chosen and after the group's other answer is chosen.
Without JavaScript every such question shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET, at

pytestmark = pytest.mark.browser

FORM = "/w/w7"
ANNOUNCED = "A further question has appeared: {question}"


def design_system_started(page: Page) -> None:
    """initAll starts every component in one go, so once the skip link is started the radios
    would have been too."""
    expect(page.locator("[data-nhsuk-skip-link-init]")).to_have_count(1)


def words(text: str | None) -> str:
    return " ".join((text or "").split())


def exercise_further_questions(tab, page_name: str) -> int:
    """Choose each radio (or tick each box) that reveals a question, then choose another answer in
    its group (or untick it): the question shows then hides, is announced when it shows, no box
    carries aria-expanded, and axe-core finds nothing in either state. Returns how many such
    questions the page has."""
    page = tab.page
    design_system_started(page)
    announcer = page.locator("[data-conditional-announcer]")
    blocks = page.locator(".nhsuk-radios__conditional, .nhsuk-checkboxes__conditional")
    for index in range(blocks.count()):
        block = blocks.nth(index)
        box = page.locator(f'input[aria-controls="{block.get_attribute("id")}"]')
        group = box.get_attribute("name")
        question = words(block.locator("legend, label").first.text_content())
        expect(block).to_be_hidden()

        box.check()
        expect(block).to_be_visible()
        expect(announcer).to_have_text(re.compile(rf"^{re.escape(ANNOUNCED.format(question=question))}\s*$"))
        expect(page.locator("input[aria-expanded]")).to_have_count(0)
        tab.check(f"{page_name}-{group}-question-shown")

        if box.get_attribute("type") == "radio":
            page.locator(f'input[type="radio"][name="{group}"]:not([aria-controls])').first.check()
        else:
            box.uncheck()
        expect(block).to_be_hidden()
        expect(page.locator("input[aria-expanded]")).to_have_count(0)
        tab.check(f"{page_name}-{group}-question-hidden")
    return blocks.count()


@at(FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET)
def test_a_further_question_is_announced_when_it_appears_and_every_state_passes_axe(tab):
    page = tab.page
    page.goto(FORM)
    tab.check("family-form-no-question-chosen")

    assert exercise_further_questions(tab, "family-form") >= 1, "the family form reveals no further question"
    tab.assert_clean()


@at(FAMILY_ON_A_PHONE)
def test_a_question_answered_before_an_error_is_shown_again_without_being_announced(tab):
    page = tab.page
    page.goto(FORM)
    design_system_started(page)
    radio = page.locator('input[type="radio"][aria-controls]').first
    block = page.locator(f"#{radio.get_attribute('aria-controls')}")
    radio.check()
    block.locator("input, textarea").first.fill("Daughter")
    page.get_by_role("button", name="Send request").click()

    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    design_system_started(page)
    expect(block).to_be_visible()
    expect(block.locator("input, textarea").first).to_have_value("Daughter")
    expect(page.locator("[data-conditional-announcer]")).to_have_text("")
    tab.check("family-form-errors-question-kept")
    tab.assert_clean()


@at(FAMILY_ON_A_PHONE)
def test_without_javascript_every_further_question_shows(open_tab, trust):
    tab = open_tab(java_script_enabled=False)
    page = tab.page
    page.goto(FORM)

    blocks = page.locator(".nhsuk-radios__conditional, .nhsuk-checkboxes__conditional")
    assert blocks.count() >= 1
    for index in range(blocks.count()):
        expect(blocks.nth(index)).to_be_visible()
    tab.check("family-form-no-js-questions", axe=False)
    tab.assert_clean()
