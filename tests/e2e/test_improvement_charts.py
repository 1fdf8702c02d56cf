"""The improvement charts in Chromium, on a ward-office tablet and on a phone: a manager opens them from the
reports navigation; every chart is drawn by Chart.js from the table under it (value, mean and limit lines,
flagged months marked), under the Content Security Policy; the icons are words as well as colours; a month
count out of range is a message on the form. Every page passes axe-core's WCAG 2.2 AA rules and is saved as a
screenshot for review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.journeys import SERVICE_MANAGER, at
from tests.e2e.test_manager_reports import MANAGER, SECRET, sign_in_as_manager
from tests.reports.calls import F, P, S, call
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Ward
from tracker.services.reports.periods import _add_months

pytestmark = pytest.mark.browser

KEYS = ["calls", "calls-patient", "calls-family-carer-advocate", "calls-staff", "review-median", "review-p90",
        "review-share", "check-coverage"]  # fmt: skip


@pytest.fixture
def seeded(app, trust):
    """Eighteen whole months before this one, the fourth empty; the last with a burst of quick staff calls."""
    with app.app_context(), write_intent():
        ward = db.session.get(Ward, trust["ward"])
        this_month = utcnow().date().replace(day=1)
        for back in range(18, 0, -1):
            month = _add_months(this_month, -back)
            if back == 15:
                continue
            raised = f"{month:%Y-%m}-10 12:00"
            call(ward, raised, P, reviewed=600 + 60 * (back % 4))
            call(ward, raised, P, reviewed=1200)
            call(ward, raised, F, reviewed=3000 - 120 * (back % 3))
            if back == 1:
                for _ in range(10):
                    call(ward, raised, S, reviewed=300)
        db.session.commit()
    _user_id, password = create_staff(app, "manager", email=MANAGER, site_id=trust["site"], totp_secret=SECRET)
    return password


@at(SERVICE_MANAGER)
def test_the_improvement_charts_are_drawn_from_their_tables(tab, seeded):
    page = tab.page
    sign_in_as_manager(page, seeded)
    page.goto("/reports/?site=gen")
    page.get_by_role("link", name="Improvement charts", exact=True).click()
    page.wait_for_url("**/reports/improvement**")
    expect(page.get_by_role("heading", name="Improvement charts", level=1)).to_be_visible()
    for key in KEYS:
        expect(page.locator(f"#{key}-table")).to_be_attached()
        assert page.evaluate("id => Boolean(window.Chart.getChart(document.getElementById(id)))", f"{key}-chart"), key
    # Drawn from the table: the value line holds the table's figures, a missing month a gap (null), not 0.
    data = page.evaluate("() => window.Chart.getChart(document.getElementById('review-median-chart')).data")
    assert [d["label"] for d in data["datasets"]] == ["Value", "Mean", "Lower limit", "Upper limit"]
    values = data["datasets"][0]["data"]
    assert len(values) == 24 and values[:6] == [None] * 6 and values[9] is None and values[-1] == 5
    calls = page.evaluate("() => window.Chart.getChart(document.getElementById('calls-chart')).data.datasets[0]")
    assert calls["data"][-1] == 13 and calls["pointStyle"][-1] == "rectRot"  # the flagged month is marked
    expect(page.locator("#calls-heading ~ .tracker-spc-icon").first).to_contain_text("Special cause neither, high")
    expect(page.locator("#check-coverage-reason")).to_contain_text("There are no figures yet.")
    tab.check("reports-improvement", emergency=False)

    # A change recorded through the form: listed, and every chart starts a new segment in its month.
    changed = _add_months(utcnow().date().replace(day=1), -6)
    page.get_by_label("Month", exact=True).first.fill(str(changed.month))
    page.get_by_label("Year", exact=True).first.fill(str(changed.year))
    page.get_by_label("Ward (optional)").select_option(label="Ward 7")
    page.get_by_label("What changed").fill("Family route launched on Ward 7")
    page.get_by_role("button", name="Record the change").click()
    page.wait_for_url("**/reports/improvement?site=gen#changes")
    expect(page.locator("#changes-table")).to_contain_text("Family route launched on Ward 7")
    expect(page.locator("#changes-table")).to_contain_text(f"{changed:%b %Y}")
    expect(page.locator("#calls-table tr[data-change]")).to_have_count(1)
    assert page.evaluate("() => window.Chart.getChart(document.getElementById('calls-chart')).data.labels[18]") == (
        f"{changed:%b %Y}"
    )
    page.locator("#changes").scroll_into_view_if_needed()
    tab.check("reports-improvement-change", emergency=False)

    page.get_by_label("What changed").fill("Too early")
    page.get_by_label("Month", exact=True).first.fill("13")
    page.get_by_label("Year", exact=True).first.fill("2025")
    page.get_by_role("button", name="Record the change").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("The month must be a whole number from 1 to 12")
    tab.check("reports-improvement-change-error", emergency=False)

    page.goto("/reports/improvement?site=gen&months=6")
    expect(page.locator("#calls-reason")).to_contain_text("Limits need at least 12 months")
    tab.check("reports-improvement-short", emergency=False)

    page.goto("/reports/improvement?site=gen&months=99")
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("from 2 to 60")
    tab.check("reports-improvement-bad-months", emergency=False)
    tab.assert_clean()


@at(SERVICE_MANAGER)
def test_the_dashboard_shows_the_improvement_charts_and_their_tables(tab, seeded):
    page = tab.page
    sign_in_as_manager(page, seeded)
    page.goto("/reports/?site=gen")
    section = page.locator("section#improvement")
    expect(section.get_by_role("heading", name="Improvement over time", level=2)).to_be_visible()
    for key in KEYS:
        expect(
            section.get_by_role("heading", level=3).and_(page.locator(f"#improvement-{key}-heading"))
        ).to_be_visible()
        expect(page.locator(f"#improvement-{key}-chart")).to_be_visible()
        assert page.evaluate(
            "id => Boolean(window.Chart.getChart(document.getElementById(id)))", f"improvement-{key}-chart"
        ), key
        expect(page.locator(f"#improvement-{key}-table")).to_be_attached()
    # The same figures as the full page's chart, drawn from the table folded under it.
    calls = page.evaluate(
        "() => window.Chart.getChart(document.getElementById('improvement-calls-chart')).data.datasets[0]"
    )
    assert len(calls["data"]) == 24 and calls["data"][-1] == 13 and calls["pointStyle"][-1] == "rectRot"
    expect(page.locator("#improvement-calls-heading ~ .tracker-spc-icon").first).to_contain_text(
        "Special cause neither, high"
    )
    table = page.locator("#improvement-review-median-table")
    expect(table).to_be_hidden()
    section.locator("[data-xmr='review-median'] summary").click()
    expect(table).to_be_visible()
    expect(table.get_by_role("row").last).to_contain_text("5.00")
    link = section.get_by_role("link", name="See the improvement charts page")
    expect(link).to_have_attribute("href", "/reports/improvement?site=gen")
    tab.check("reports-dashboard-improvement", emergency=False)
    page.locator("#improvement-heading").scroll_into_view_if_needed()
    tab.screenshot("reports-dashboard-improvement-in-view", full_page=False)
    table.scroll_into_view_if_needed()
    tab.screenshot("reports-dashboard-improvement-table", full_page=False)
    link.click()
    page.wait_for_url("**/reports/improvement?site=gen")
    tab.assert_clean()
