"""A family with only a keyboard (or a switch that sends Tab, Space and Enter) asks for an urgent review, in
Chromium on a phone and on the ward tablet: from the top of the page, Tab reaches the emergency phone number
before the form, every stop shows where focus is (a visible outline, box-shadow or background that the control does
not have unfocused, on screen), Tab always moves on and leaves the page at its end (never trapped); the form is answered
with Tab, arrow keys for the radios, Space for the checkboxes, typing, and Enter to send, and the confirmation
page's controls are reached the same way. The hazard log (HAZ-076) names these tests."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.family_form import FAMILY, reference_on
from tests.e2e.journeys import FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET, at
from tracker.models import Concern

pytestmark = pytest.mark.browser

MOST_STOPS = 120  # more Tab presses than any family page has controls: beyond it, focus is going round in circles

# Records each control's focus styles while nothing is focused, so a stop can be compared with the control at rest.
AT_REST = """() => {
  window.__atRest = new WeakMap();
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')) {
    window.__atRest.set(el, JSON.stringify(window.__focusMarks(el).map(m => m.style)));
  }
}"""

# Where focus is now, and what shows it: the first of the control, its ::before/::after, its labels (and their
# ::before, where NHS radios and checkboxes draw the ring) and its children (a summary's text) whose outline,
# box-shadow or background is visible and differs from the control at rest.
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  window.__ids = window.__ids || new WeakMap();
  if (!window.__ids.has(el)) window.__ids.set(el, (window.__nextId = (window.__nextId || 0) + 1));
  const rest = window.__atRest && window.__atRest.get(el);
  const before = rest ? JSON.parse(rest) : null;
  const now = window.__focusMarks(el);
  const shown = now.find((m, i) => m.visible && (!before || before[i] !== m.style));
  const r = el.getBoundingClientRect();
  const cls = typeof el.className === 'string' ? el.className.trim().split(/\\s+/)[0] : '';
  const text = (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText || el.value || '')
    .replace(/\\s+/g, ' ').trim().slice(0, 50);
  return {
    key: window.__ids.get(el), name: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : cls ? '.' + cls : ''} '${text}'`,
    shown: shown ? `${shown.where}: ${shown.style}` : null,
    onScreen: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth && r.width > 0,
  };
}"""

MARKS = """() => {
  const TRANSPARENT = /transparent|rgba\\([^)]*,\\s*0\\)/;
  window.__focusMarks = (el) => {
    const parts = [[el, null, 'itself'], [el, '::before', '::before'], [el, '::after', '::after']];
    for (const label of el.labels || []) parts.push([label, null, 'label'], [label, '::before', 'label::before']);
    for (const child of el.children) parts.push([child, null, child.tagName.toLowerCase()]);
    return parts.map(([node, pseudo, where]) => {
      const s = getComputedStyle(node, pseudo);
      const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && !TRANSPARENT.test(s.outlineColor);
      const shadow = s.boxShadow !== 'none' && !TRANSPARENT.test(s.boxShadow);
      const background = s.backgroundImage !== 'none' || !TRANSPARENT.test(s.backgroundColor);
      return {where, visible: outline || shadow || background,
              style: `outline ${s.outlineWidth} ${s.outlineStyle} ${s.outlineColor}; box-shadow ${s.boxShadow}; `
                     + `background ${s.backgroundColor} ${s.backgroundImage}`};
    });
  };
}"""


def _prepare(page: Page) -> None:
    """Before the first Tab on a newly loaded page: learn each control's look at rest."""
    page.wait_for_load_state()
    page.evaluate(MARKS)
    page.evaluate(AT_REST)


def _press_tab(page: Page, path: list[str]) -> dict | None:
    """One Tab; the stop it reaches (None once focus has left the page), checked: focus moved and is visible."""
    before = page.evaluate(FOCUS)
    page.keyboard.press("Tab")
    stop = page.evaluate(FOCUS)
    if stop is None:
        return None
    path.append(stop["name"])
    assert before is None or stop["key"] != before["key"], f"Tab left focus on {stop['name']}; after {path}"
    assert stop["shown"], f"no visible focus on {stop['name']} ; after {path}"
    assert stop["onScreen"], f"{stop['name']} has focus but is off the screen; after {path}"
    return stop


def tab_to(page: Page, target: Locator, path: list[str]) -> None:
    """Tab (and only Tab) until `target` has focus, checking every stop on the way."""
    for _ in range(MOST_STOPS):
        if _press_tab(page, path) is None:
            raise AssertionError(f"focus left the page before reaching {target}; the stops were {path}")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} not reached in {MOST_STOPS} Tabs; the stops were {path}")


def tab_through(page: Page) -> list[str]:
    """Tab from the top of the page until focus leaves it, each control once: the stops, in order."""
    _prepare(page)
    path: list[str] = []
    seen = set()
    for _ in range(MOST_STOPS):
        stop = _press_tab(page, path)
        if stop is None:
            return path
        assert stop["key"] not in seen, f"focus came back to {stop['name']} (trapped?); the stops were {path}"
        seen.add(stop["key"])
    raise AssertionError(f"focus never left the page in {MOST_STOPS} Tabs; the stops were {path}")


def _answer_by_keyboard(page: Page, path: list[str]) -> None:
    """The first page's questions, as fill_in_everything answers them (tests/e2e/family_form.py), by keyboard."""
    keyboard = page.keyboard
    tab_to(page, page.get_by_label("I am the patient"), path)
    keyboard.press("ArrowDown")  # moves to, and chooses, the next answer
    expect(page.get_by_label("I am a family member, carer, friend or advocate")).to_be_checked()
    for label, value in (
        ("How do you know the patient? (optional)", FAMILY["relationship"]),  # the further question just shown
        ("Your name (optional)", FAMILY["caller_name"]),
        ("Patient's full name", FAMILY["patient_name"]),
        ("Bed or bay (optional)", FAMILY["bed"]),
    ):
        tab_to(page, page.get_by_label(label, exact=True), path)
        keyboard.type(value)
    for label in ("Their breathing has changed", "They are sleepier than usual, or confused"):
        tab_to(page, page.get_by_label(label), path)
        keyboard.press("Space")
    tab_to(page, page.get_by_label("Tell us what worries you most right now"), path)
    keyboard.type(FAMILY["details"])
    tab_to(page, page.get_by_label("Phone number (optional)"), path)
    keyboard.type(FAMILY["phone"])
    tab_to(page, page.get_by_label("Yes, send me text messages about this request"), path)
    keyboard.press("Space")


@at(FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET)
def test_a_family_sends_the_form_with_the_keyboard_alone(tab, read):
    page = tab.page
    page.goto("/w/w7")
    stops = tab_through(page)
    phone = next((i for i, name in enumerate(stops) if name.startswith("a.tracker-phone")), None)
    first_question = next(i for i, name in enumerate(stops) if name.startswith("input#caller_route"))
    assert phone is not None and phone < first_question, f"the emergency number is not reached first: {stops}"

    page.goto("/w/w7")
    _prepare(page)
    path: list[str] = []
    _answer_by_keyboard(page, path)
    tab_to(page, page.get_by_role("button", name="Send request"), path)
    page.keyboard.press("Enter")
    page.wait_for_url("**/w/w7/sent")
    reference = reference_on(page)
    concern = read.one(Concern)
    assert (concern.reference, concern.patient_name, concern.bed) == (reference, FAMILY["patient_name"], FAMILY["bed"])
    assert (concern.caller_relationship, concern.sms_consent) == (FAMILY["relationship"], True)
    assert concern.worry_categories == ["breathing", "sleepy_or_confused"]

    stops = tab_through(page)
    assert any(name.startswith("a.nhsuk-button 'Answer a few more questions") for name in stops), stops
    assert any(name.startswith("a.tracker-phone") for name in stops), stops
    tab.assert_clean()
