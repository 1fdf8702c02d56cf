"""Every control on the family pages is big enough to hit, on a phone and on the ward tablet
(docs/architecture.md#testing, tests/e2e/targets.py for the rules): text boxes and selects 44 px tall; radios and
checkboxes with their labels, buttons, the emergency phone link, and the footer, header and back links 44×44; links
inside running text spaced as WCAG 2.5.8 asks. Each page is measured in every state a family meets: blank, with
errors, with its further questions shown; on the ward tablet also Done and "Are you still there?".

On failure the test prints a table of the controls that fail, naming each; every run writes the whole table to
test-artifacts/touch-targets-<walk>-<viewport>.txt. The hazard log (HAZ-076) names these tests."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS
from tests.e2e.family_form import fill_in_everything, fill_in_half, make_tablet, reference_on, send
from tests.e2e.journeys import FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET, at
from tests.e2e.targets import Control, failures, measure, smallest, table

pytestmark = pytest.mark.browser


class Measured:
    """The controls of each page visited, and at the end the verdict on all of them."""

    def __init__(self, tab):
        self.tab = tab
        self.controls: list[Control] = []

    def page(self, name: str, scope: str = "body") -> None:
        self.tab.page.wait_for_load_state()
        found = measure(self.tab.page, name, scope)
        assert found, f"{name}: no controls measured"
        self.controls += found

    def assert_big_enough(self, walk: str) -> None:
        failing = failures(self.controls)
        failed = {id(control) for control, _ in failing}
        everything = [(c, "FAILS" if id(c) in failed else "ok") for c in self.controls]
        least = smallest(self.controls)
        summary = "\n".join(f"smallest {kind}: {c.w:.1f}×{c.h:.1f} {c.name} on {c.page}" for kind, c in least.items())
        path = ARTIFACTS / f"touch-targets-{walk}-{self.tab.viewport}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{summary}\n\n{table(everything)}\n\n{table(failing)}\n", encoding="utf-8")
        assert failing == [], f"controls too small or too close at {self.tab.viewport}:\n{table(failing)}\n{summary}"


def _concern_form(page: Page, measured: Measured) -> None:
    """The ward's form: blank, sent empty (errors), filled in (its further question shown, "How we use your
    information" open); then sent."""
    page.goto("/w/w7")
    measured.page("form")
    send(page)
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    measured.page("form-errors")
    fill_in_everything(page)
    page.get_by_text("How we use your information").click()
    expect(page.get_by_role("link", name="Read the full privacy notice")).to_be_visible()
    measured.page("form-filled-in")
    send(page)
    page.wait_for_url("**/w/w7/sent")
    reference_on(page)
    measured.page("confirmation")


def _second_page(page: Page, measured: Measured) -> None:
    page.get_by_role("button", name="Answer a few more questions").click()
    page.wait_for_url("**/w/w7/more")
    page.get_by_role("group", name="Have you talked to the ward staff about this? (optional)").get_by_label(
        "Yes", exact=True
    ).check()
    measured.page("more")
    page.get_by_label("Year").fill("47")
    page.get_by_role("button", name="Add these details").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    measured.page("more-errors")


def _daily_check(page: Page, measured: Measured) -> None:
    """The daily check on the ward with beds: blank, with errors, and the thanks page offering a review."""
    page.goto("/w/w8/daily")
    measured.page("daily-check")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    measured.page("daily-check-errors")
    page.get_by_label("Bed").select_option(label="Bay 2")
    page.get_by_label("The patient's name").fill("Pat Jones")
    page.get_by_label("Family, carer or advocate").check()
    page.get_by_label("Okay").check()
    page.get_by_label("Worse").check()
    page.get_by_role("button", name="Send answer").click()
    page.wait_for_url("**/w/w8/daily/thanks")
    expect(page.get_by_role("button", name="Yes, ask for an urgent review")).to_be_visible()
    measured.page("daily-check-thanks")


def _pages_around_the_form(page: Page, measured: Measured) -> None:
    """The chooser, the privacy and accessibility pages, a ward that is not there or retired, and an error page."""
    for path, name, status in (
        ("/", "ward-chooser", 200),
        ("/privacy", "privacy", 200),
        ("/accessibility", "accessibility", 200),
        ("/w/nope", "unknown-ward", 404),
        ("/w/w-old", "retired-ward", 410),
        ("/no-such-page", "error-page", 404),
    ):
        response = page.goto(path)
        assert response is not None and response.status == status, (path, response and response.status)
        measured.page(name)


@at(FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET)
def test_every_control_on_the_family_pages_is_big_enough_to_tap(tab):
    page = tab.page
    measured = Measured(tab)
    _pages_around_the_form(page, measured)
    _concern_form(page, measured)
    _second_page(page, measured)
    _daily_check(page, measured)
    measured.assert_big_enough("family")
    tab.assert_clean()


@at(FAMILY_ON_A_WARD_TABLET)
def test_every_control_on_the_ward_tablet_is_big_enough_to_tap(tab, app, trust, base_url):
    """The kiosk's own controls: no chooser link, but Done, "Are you still there?" and the Back links of the
    privacy and accessibility pages."""
    make_tablet(tab, app, trust, base_url)
    page = tab.page
    page.clock.install()
    page.goto("/w/w7")
    measured = Measured(tab)
    measured.page("kiosk-form")
    fill_in_half(page)
    page.clock.fast_forward("03:00")
    dialog = page.get_by_role("alertdialog", name="Are you still there?")
    expect(dialog).to_be_visible()
    measured.page("kiosk-still-there", scope="#kiosk-warning")
    dialog.get_by_role("button", name="Keep going").click()
    page.get_by_role("link", name="Privacy notice").click()
    expect(page.get_by_role("link", name="Back to the form")).to_be_visible()
    measured.page("kiosk-privacy")
    page.get_by_role("link", name="Back to the form").click()
    page.get_by_role("link", name="Accessibility statement").click()
    measured.page("kiosk-accessibility")
    page.get_by_role("link", name="Back to the form").click()
    fill_in_everything(page)
    send(page)
    page.wait_for_url("**/w/w7/sent")
    expect(page.get_by_role("button", name="Done")).to_be_visible()
    measured.page("kiosk-confirmation")
    measured.assert_big_enough("kiosk")
    tab.assert_clean()
