"""The manager's reports in Chromium, on a ward-office tablet and on a phone: sign in with the
authenticator code on the real pages, read the dashboard for October 2025 (every chart drawn by
Chart.js from the table beside it, under the pages' Content Security Policy), meet a bad filter,
open the NHS England monthly return for August 2025, record the site's implementation status and
download the CSV. Every page passes axe-core's WCAG 2.2 AA rules and is saved as a screenshot for
review; nothing leaves 127.0.0.1 and nothing breaks the CSP (a violation is a console error)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import create_staff
from tests.e2e.journeys import SERVICE_MANAGER, at
from tests.reports.calls import ACUTE, CHANGE, CRITICAL_CARE, MEDICATION, F, P, S, call
from tests.reports.test_dashboard_figures import october_calls
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Ward

pytestmark = pytest.mark.browser

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MANAGER = "lead@test.invalid"
OCTOBER = "/reports/?site=gen&from-day=1&from-month=10&from-year=2025&to-day=31&to-month=10&to-year=2025"
RETURN = "/reports/return?site=gen&month=10&year=2025"
CHARTS = ["route", "ward", "hour", "hours", "type", "outcome", "change", "trend"]


@pytest.fixture
def seeded(app, trust):
    with app.app_context(), write_intent():
        ward, beds = db.session.get(Ward, trust["ward"]), db.session.get(Ward, trust["beds_ward"])
        october_calls(ward, beds)
        call(ward, "2025-08-31 22:30", S, kind=ACUTE, outcome=CRITICAL_CARE)  # 23:30 BST on 31 August
        call(beds, "2025-08-10 10:00", F, kind=ACUTE, outcome=CHANGE, changes=[MEDICATION])
        call(ward, "2025-08-12 10:00", P)
        db.session.commit()
    _user_id, password = create_staff(app, "manager", email=MANAGER, site_id=trust["site"], totp_secret=SECRET)
    return password


def sign_in_as_manager(page: Page, password: str) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(MANAGER)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/triage/")


@at(SERVICE_MANAGER)
def test_the_dashboard_draws_every_chart_beside_its_table(tab, seeded):
    page = tab.page
    sign_in_as_manager(page, seeded)
    page.get_by_role("link", name="Reports").first.click()
    page.wait_for_url("**/reports/")
    page.goto(OCTOBER)
    expect(page.get_by_role("heading", name="Martha's Rule dashboard")).to_be_visible()
    expect(page.get_by_text("calls raised October 2025")).to_be_visible()
    for name in CHARTS:
        canvas = page.locator(f"#{name}-chart")
        expect(canvas).to_be_visible()
        assert page.evaluate("id => Boolean(window.Chart.getChart(document.getElementById(id)))", f"{name}-chart"), name
        expect(page.locator(f"#{name}-table")).to_be_visible()
    # The chart is drawn from the table: Chart.js holds exactly the table's figures.
    assert page.evaluate(
        "() => window.Chart.getChart(document.getElementById('route-chart')).data.datasets[0].data"
    ) == [2, 5, 2]
    assert page.evaluate("() => window.Chart.getChart(document.getElementById('hour-chart')).data.datasets[0].data")[
        :2
    ] == [1, 2]
    expect(page.locator("h3#breaches-acknowledge")).to_contain_text("Calls past the claim target: 3")
    expect(page.locator("#breaches-acknowledge + table a").first).to_have_attribute(
        "href", re.compile(r"^/triage/c/MR-T")
    )
    tab.check("reports-dashboard", emergency=False)

    page.goto("/reports/?colour=red")
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("This page has no filter called “colour”")
    tab.check("reports-dashboard-bad-filter", emergency=False)
    tab.assert_clean()


@at(SERVICE_MANAGER)
def test_the_monthly_return_records_the_status_and_downloads_as_csv(tab, seeded):
    page = tab.page
    sign_in_as_manager(page, seeded)
    page.goto("/reports/return?site=gen&month=8&year=2025")
    expect(page.get_by_role("heading", name="NHS England monthly return")).to_be_visible()
    expect(page.locator('[data-measure="calls_total"] [data-value]')).to_have_text("3")
    expect(page.locator('[data-measure="outcome_critical_care"] [data-value]')).to_have_text("1")
    expect(page.get_by_text("Implementation status not recorded")).to_be_visible()
    tab.check("reports-return", emergency=False)

    page.get_by_role("button", name="Save implementation status").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Say whether the patient and family route was live")
    tab.check("reports-return-errors", emergency=False)

    page.get_by_label("Yes, the route was live").check()
    page.get_by_label("Partly live (for example some wards or some hours)").check()
    page.get_by_role("button", name="Save implementation status").click()
    expect(page.get_by_text("Implementation status for August 2025 saved.")).to_be_visible()
    expect(page.locator('[data-measure="staff_route_status"] [data-value]')).to_have_text("Partly live")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download this return as a spreadsheet (CSV)").click()
    assert download.value.suggested_filename == "marthas-rule-return-gen-2025-08.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    values = {row[4]: row[5] for row in rows[1:]}
    assert values["All escalation calls"] == "3" and values["Staff escalation route"] == "Partly live"
    tab.assert_clean()


@at(SERVICE_MANAGER)
def test_calls_without_report_facts_are_named_as_missing_on_both_pages(app, tab, seeded):
    # A call restored around the app has no UK-time day or response times: the pages say some
    # calls are missing from the figures rather than show a quietly smaller total.
    with app.app_context(), write_intent():
        db.session.execute(
            sa.text(
                "UPDATE concern SET raised_local_date = NULL, raised_local_month = NULL, "
                "raised_local_hour = NULL, raised_local_seconds = NULL, raised_local_weekday = NULL "
                "WHERE raised_at < '2025-08-11'"
            )
        )
        db.session.commit()
    page = tab.page
    sign_in_as_manager(page, seeded)
    for path, name in (
        (OCTOBER, "reports-dashboard-facts-missing"),
        ("/reports/return?site=gen&month=8&year=2025", "reports-return-facts-missing"),
    ):
        page.goto(path)
        heading = page.get_by_role("heading", name="Some calls are missing from these figures")
        expect(heading).to_be_visible()
        expect(page.get_by_text("An administrator should run flask tracker report-facts")).to_be_visible()
        tab.check(name, emergency=False)
        heading.scroll_into_view_if_needed()
        tab.screenshot(f"{name}-in-view", full_page=False)
    tab.assert_clean()


def sideways_overflow(page: Page) -> list[str]:
    """The page's width beyond the screen's, and the elements that stick out past its right edge (empty when
    nothing makes the page scroll sideways)."""
    return page.evaluate(
        """() => {
            const root = document.documentElement;
            if (root.scrollWidth <= root.clientWidth) return [];
            const wide = [...document.querySelectorAll("body *")]
                .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5)
                .filter((el) => !el.closest("[data-scrolls-sideways]"))
                .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")}`);
            return [`page ${root.scrollWidth}px wide on a ${root.clientWidth}px screen`, ...wide.slice(0, 8)];
        }"""
    )


def assert_fits_the_screen(page: Page, path: str) -> None:
    """NHS.UK's header lays its links out in one line while it measures them, then moves what does not fit into
    its "More" menu (on a loaded machine the page is wider for a moment): wait for the page to settle, then
    nothing may stick out."""
    try:
        page.wait_for_function(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth", timeout=5000
        )
    except PlaywrightTimeoutError:
        pass  # the assertion below names what sticks out
    overflow = sideways_overflow(page)
    assert overflow == [], f"{path}: {overflow}"


# Each label line of the charts on their side, measured in the chart's own font, against the width Chart.js gave
# the labels' axis: wider, and the label's beginning is drawn off the canvas.
WIDEST_LABELS = """() => [...document.querySelectorAll('[data-chart="horizontal"] canvas')].map((canvas) => {
  const chart = window.Chart.getChart(canvas);
  const context = canvas.getContext("2d");
  context.font = `${window.Chart.defaults.font.size}px ${window.Chart.defaults.font.family}`;
  const lines = chart.data.labels.flatMap((label) => [].concat(label));
  const widest = Math.max(...lines.map((line) => context.measureText(line).width));
  const shown = chart.scales.y.ticks.length;
  return [canvas.id, Math.ceil(widest), Math.floor(chart.scales.y.width), shown, chart.data.labels.length];
})"""


@pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)
def test_a_long_label_on_a_chart_on_its_side_is_shown_whole(tab, seeded):
    # Seen in a screenshot: "Transferred to enhanced care or a tertiary centre" was drawn as "erred to enhanced
    # care or a tertiary centre". Long labels are now broken into lines, and the chart is tall enough for every
    # label (Chart.js skipped those that did not fit).
    page = tab.page
    sign_in_as_manager(page, seeded)
    page.goto(OCTOBER)
    expect(page.locator("#outcome-chart")).to_be_visible()
    measured = page.evaluate(WIDEST_LABELS)
    assert {m[0] for m in measured} >= {"ward-chart", "type-chart", "outcome-chart", "change-chart"}
    assert [m for m in measured if m[1] > m[2]] == [], "a label is wider than its axis: [chart, label, axis] px"
    assert [m for m in measured if m[3] != m[4]] == [], "a label is skipped: [chart, …, labels shown, labels]"
    tab.check("reports-dashboard-long-labels", emergency=False)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_on_a_phone_the_reports_never_scroll_sideways(tab, seeded):
    page = tab.page
    sign_in_as_manager(page, seeded)
    for path, name in ((OCTOBER, "reports-dashboard-phone-width"), (RETURN, "reports-return-phone-width")):
        page.goto(path)
        if path == OCTOBER:
            expect(page.locator("#trend-chart")).to_be_visible()  # the charts are drawn: the page is laid out
        assert_fits_the_screen(page, path)
        # A table too wide for the screen scrolls in its own labelled box, reachable by keyboard.
        tab.check(name, emergency=False)
        for index, box in enumerate(page.locator("[data-scrolls-sideways]").all()):
            expect(box).to_have_attribute("role", "region")
            expect(box).to_have_accessible_name(re.compile(r"\w"))
            box.focus()  # by keyboard, as the box is focusable
            page.keyboard.press("ArrowRight")
            page.wait_for_function("box => box.scrollLeft > 0", arg=box.element_handle())
            tab.screenshot(f"{name}-table-{index}", full_page=False)
    tab.assert_clean()
