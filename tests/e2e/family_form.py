"""Filling in the family's form in a real browser, the way a person does: by the labels on screen."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

REFERENCE = re.compile(r"MR-[A-Z0-9]{4}-[A-Z0-9]{2}")

# What a family types on the full form. The Back-button checks look for each of these.
FAMILY = {
    "relationship": "Daughter",
    "caller_name": "Sam Jones",
    "patient_name": "Pat Jones",
    "bed": "Bay 4, bed 2",
    "details": "Mum is breathing fast and is not making sense.",
    "ward_response": "They said the doctor would come later.",
    "phone": "07400 123456",
    "dob_year": "1947",
}

# What someone types before walking away from a kiosk.
HALF = {
    "patient_name": "Robin Hartley",
    "details": "Dad keeps drifting off and will not wake properly.",
}


def group(page: Page, legend: str):
    """A fieldset, found by its legend (radios and checkboxes share labels like "Yes")."""
    return page.get_by_role("group", name=legend, exact=True)


def english(text: str) -> str:
    return text


def fill_in_everything(page: Page, answers: dict = FAMILY, say: Callable[[str], str] = english) -> None:
    """Every question of the first page: radios with a conditional question, text boxes, checkboxes, a text
    area, the phone number and the consent to texts. `say` gives a label in the page's language."""
    page.get_by_label(say("I am a family member, carer, friend or advocate")).check()
    page.get_by_label(say("How do you know the patient? (optional)")).fill(answers["relationship"])
    page.get_by_label(say("Your name (optional)")).fill(answers["caller_name"])
    page.get_by_label(say("Patient's full name")).fill(answers["patient_name"])
    if answers["bed"] is not None:  # None: the ward lists its beds, to be chosen from instead
        page.get_by_label(say("Bed or bay (optional)")).fill(answers["bed"])
    page.get_by_label(say("Their breathing has changed")).check()
    page.get_by_label(say("They are sleepier than usual, or confused")).check()
    page.get_by_label(say("Tell us what worries you most right now")).fill(answers["details"])
    page.get_by_label(say("Phone number (optional)")).fill(answers["phone"])
    page.get_by_label(say("Yes, send me text messages about this request")).check()


def fill_in_more_details(page: Page, answers: dict = FAMILY) -> None:
    """The optional second page, from the confirmation: the ward question with its conditional follow-up, the
    language list, the interpreter radios and the date of birth."""
    group(page, "Have you talked to the ward staff about this? (optional)").get_by_label("Yes", exact=True).check()
    page.get_by_label("What happened when you talked to them? (optional)").fill(answers["ward_response"])
    page.get_by_label("Which language do you prefer to speak? (optional)").select_option("Polish")
    group(page, "Do you need an interpreter? (optional)").get_by_label("Yes", exact=True).check()
    page.get_by_label("Day").fill("15")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill(answers["dob_year"])


def fill_in_half(page: Page, answers: dict = HALF) -> None:
    """The start of a form: who they are, the patient, and a few words."""
    page.get_by_label("I am a family member, carer, friend or advocate").check()
    page.get_by_label("Patient's full name").fill(answers["patient_name"])
    page.get_by_label("Tell us what worries you most right now").fill(answers["details"])


def send(page: Page, say: Callable[[str], str] = english) -> None:
    page.get_by_role("button", name=say("Send request")).click()


def reference_on(page: Page, say: Callable[[str], str] = english) -> str:
    """The reference on the confirmation page, checked against the printed format."""
    expect(page.get_by_role("heading", name=say("Request sent"))).to_be_visible()
    reference = page.locator("[data-reference]").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def make_tablet(tab, app, trust, base_url: str, ward: str = "ward") -> None:
    """Make this browser an enrolled tablet of the test trust's ward 7, as opening a manager's one-time set-up
    link on it would (the link's own page is tested in tests/devices/test_ward_tablets.py)."""
    from tests.conftest import enrol_tablet

    cookies = _Cookies()
    enrol_tablet(app, cookies, trust, ward)
    tab.context.add_cookies([{"name": cookies.name, "value": cookies.value, "url": base_url}])


class _Cookies:
    """Takes the cookie `enrol_tablet` gives a test client."""

    name = value = ""

    def set_cookie(self, name: str, value: str) -> None:
        self.name, self.value = name, value
