"""The improvement charts' series (services/reports/improvement.py) against a seeded set of calls worked out by
hand, and the page through the test client: icons in words, the reason when limits cannot be drawn, the table,
and bad input answered plainly. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL (where the times come
from percentile_cont grouped by month)."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import build_trust, create_staff, sign_in_directly
from tests.reports.calls import F, P, S, call
from tests.reports.test_report_pages import far_site  # noqa: F401  (a fixture: another site)
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, ReportDay, Ward
from tracker.services.records import audit
from tracker.services.reports import improvement as charts
from tracker.services.reports import spc
from tracker.services.setup.run_length import save_run_length
from tracker.services.setup.settings import current_settings

TODAY = date(2025, 3, 10)
NOW = "2025-03-10 12:00:00+00:00"
EMPTY_MONTH = date(2024, 6, 1)  # no calls at all


def seed(ward: Ward) -> None:
    """January 2024 to February 2025 (14 whole months before TODAY), June 2024 empty. Each other month: two
    patient calls reviewed after 10 and 20 minutes and a family call after 50 (the team's target is 30), so a
    median of 20, a 90th percentile of 20 + 0.8 × 30 = 44 and 2 of 3 within target. February 2025 adds ten
    staff calls reviewed after 5 minutes: 13 calls, median 5, p90 of 13 sorted at 10.8 → 20 + 0.8 × 30 = 44."""
    for index in range(14):
        year, month = 2024 + index // 12, index % 12 + 1
        if date(year, month, 1) == EMPTY_MONTH:
            continue
        raised = f"{year}-{month:02d}-10 12:00"
        call(ward, raised, P, reviewed=600)
        call(ward, raised, P, reviewed=1200)
        call(ward, raised, F, reviewed=3000)
        if (year, month) == (2025, 2):
            for _ in range(10):
                call(ward, raised, S, reviewed=300)
    db.session.commit()


@pytest.fixture
def seeded(ctx):
    built = build_trust()
    seed(built["ward"])
    return built


def by_key(figures: charts.Improvement) -> dict[str, charts.Series]:
    return {series.key: series for series in figures.series}


def values(series: charts.Series) -> list:
    return [row.value for row in series.rows]


def test_the_series_are_worked_out_month_by_month(seeded):
    with time_machine.travel(NOW, tick=False):
        figures = charts.improvement(seeded["site"], TODAY, 14, current_settings())
    assert figures.months[0] == date(2024, 1, 1) and figures.months[-1] == date(2025, 2, 1)
    series = by_key(figures)
    june = figures.months.index(EMPTY_MONTH)
    calls = values(series["calls"])
    assert calls[june] == 0 and calls[0] == 3 and calls[-1] == 13
    assert values(series["calls-patient"])[-1] == 2 and values(series["calls-staff"])[-1] == 10
    assert values(series["calls-family-carer-advocate"])[:3] == [1, 1, 1]
    median, p90, share = values(series["review-median"]), values(series["review-p90"]), values(series["review-share"])
    assert (median[0], p90[0], share[0]) == (Decimal("20.00"), Decimal("44.00"), Decimal("66.67"))
    assert median[june] is None and p90[june] is None and share[june] is None  # a month with no calls: missing
    assert median[-1] == Decimal("5.00") and share[-1] == Decimal("92.31")  # 12 of 13
    assert all(value is None for value in values(series["check-coverage"]))  # no beds occupied


def test_each_chart_carries_its_direction_target_and_icons(seeded):
    with time_machine.travel(NOW, tick=False):
        series = by_key(charts.improvement(seeded["site"], TODAY, 14, current_settings()))
    calls = series["calls"].chart
    assert calls.direction is spc.Direction.NONE and calls.assurance is None
    # February's 13 calls are far beyond the upper limit: special cause, but neither better nor worse.
    assert calls.variation is not None and calls.variation.code == "neither_high"
    # And July to February (3 calls each, then 13) are eight months above the mean of 2.75: a shift.
    assert series["calls"].rows[-1].flags == (spc.Rule.OUTSIDE_LIMITS, spc.Rule.SHIFT)
    assert (
        charts.flag_words(series["calls"].rows[-1]) == "Special cause neither: beyond a process limit; part of a shift"
    )
    assert series["calls"].rows[6].flags == (spc.Rule.SHIFT,)  # July
    assert not series["calls"].rows[4].flags  # May
    median = series["review-median"].chart
    assert median.direction is spc.Direction.LOWER_IS_BETTER and median.target == 30
    assert median.variation is not None and median.variation.code == "improvement_low"  # 5 minutes, lower is better
    assert median.assurance is not None  # a direction and the team's target
    share = series["review-share"].chart
    assert share.direction is spc.Direction.HIGHER_IS_BETTER and share.assurance is None
    assert series["check-coverage"].chart.variation is None
    assert "no figures" in series["check-coverage"].chart.variation_reason


def test_fewer_than_twelve_months_say_why_no_limits(seeded):
    with time_machine.travel(NOW, tick=False):
        series = by_key(charts.improvement(seeded["site"], TODAY, 6, current_settings()))
    chart = series["calls"].chart
    assert chart.variation is None and "Limits need at least 12 months" in chart.variation_reason
    assert all(row.lower is None and row.upper is None and not row.flags for row in series["calls"].rows)


def test_one_grouped_query_per_figure_however_many_months(seeded):
    counted: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        counted.append(statement)

    engine = db.engine
    with time_machine.travel(NOW, tick=False):
        charts.improvement(seeded["site"], TODAY, 2, current_settings())  # settings and the like, read once
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with time_machine.travel(NOW, tick=False):
            charts.improvement(seeded["site"], TODAY, 12, current_settings())
            twelve = len(counted)
            counted.clear()
            charts.improvement(seeded["site"], TODAY, 60, current_settings())
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(counted) == twelve


@pytest.mark.parametrize("months", [0, 1, 61, -3])
def test_months_out_of_range_are_refused(seeded, months):
    with pytest.raises(charts.Problem, match="Choose from 2 to 60 months"):
        charts.improvement(seeded["site"], TODAY, months, current_settings())


# --- the page ---------------------------------------------------------------------------------------


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def seeded_page(app, trust):
    with app.app_context(), write_intent():
        seed(db.session.get(Ward, trust["ward"]))


def test_the_page_shows_each_chart_with_its_icons_in_words_and_its_table(client, login_as, seeded_page):
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        response = client.get("/reports/improvement?months=14")
    assert response.status_code == 200
    html = html_lib.unescape(page(response))
    assert "Improvement charts" in html and "January 2024 to February 2025" in html
    for key in ("calls", "calls-patient", "review-median", "review-p90", "review-share", "check-coverage"):
        assert f'id="{key}-table"' in html and f'data-chart-table="{key}-table"' in html
    assert "Variation: Special cause neither, high" in html
    assert "Variation: Special cause improvement, low" in html
    assert "Assurance:" in html
    assert "Special cause neither: beyond a process limit" in html  # the flag in the table, in words
    assert 'data-flag="neither"' in html
    assert "No process limits yet." in html  # the daily check has no figures
    assert 'aria-current="page">Improvement charts' in re.sub(r"\s+", " ", html)
    assert "<script>" not in html  # no inline script (CSP)


def test_the_default_is_twenty_four_months_and_short_series_say_why(client, login_as, seeded_page):
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        default = html_lib.unescape(page(client.get("/reports/improvement")))
        short = html_lib.unescape(page(client.get("/reports/improvement?months=6")))
    assert "March 2023 to February 2025" in default
    assert "Limits need at least 12 months of figures; there are 6 so far." in short


BAD = [
    ("months=61", "from 2 to 60"),
    ("months=1", "from 2 to 60"),
    ("months=abc", "from 2 to 60"),
    ("months=-5", "from 2 to 60"),
    ("months=" + "9" * 5000, "from 2 to 60"),
    ("months=%EF%BC%91%EF%BC%92", "from 2 to 60"),  # full-width digits
    ("months=12&colour=red", "no filter called “colour”"),
]


@pytest.mark.parametrize(("query", "message"), BAD)
def test_bad_input_gets_a_clear_message_not_an_error_page(client, login_as, query, message):
    login_as("manager")
    response = client.get(f"/reports/improvement?{query}")
    assert response.status_code == 400 and response.mimetype == "text/html"
    html = page(response)
    assert "There is a problem" in html and message in html_lib.unescape(html)


@pytest.mark.parametrize("code", ["far", "nowhere", "../gen"])
def test_another_sites_charts_are_not_found(client, login_as, far_site, read, code):  # noqa: F811
    login_as("manager")
    assert client.get(f"/reports/improvement?site={code}").status_code == 404
    assert read.count(AuditEvent, AuditEvent.action == "access_denied") >= 1


def test_a_manager_without_a_site_is_told_so(app, client, trust):
    user_id, _ = create_staff(app, "manager", site_id=None, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    sign_in_directly(app, client, user_id)
    assert "not linked to a hospital site" in page(client.get("/reports/improvement"))


def test_the_dashboard_shows_every_improvement_chart_with_its_icons_table_and_a_link(client, login_as, seeded_page):
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        response = client.get("/reports/?from-day=1&from-month=2&from-year=2025&to-day=28&to-month=2&to-year=2025")
    assert response.status_code == 200
    html = html_lib.unescape(page(response))
    section = html[html.index('id="improvement-heading"') :]
    assert "Improvement over time" in section and "March 2023 to February 2025" in section
    for key in ("calls", "calls-patient", "review-median", "review-p90", "review-share", "check-coverage"):
        assert f'id="improvement-{key}-table"' in section and f'data-chart-table="improvement-{key}-table"' in section
    assert "Variation: Special cause neither, high" in section  # February's burst of calls
    assert "Variation: Special cause improvement, low" in section and "Assurance:" in section
    assert "Special cause neither: beyond a process limit" in section
    assert section.count("<details") == 8 and "No process limits yet." in section
    assert 'href="/reports/improvement?site=gen"' in section
    assert "<script>" not in html


def test_the_dashboards_words_give_the_trusts_run_length(app, client, login_as, seeded_page):
    with app.app_context(), write_intent():
        save_run_length(audit.Actor.system(), 6)
        db.session.commit()
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        html = page(client.get("/reports/?from-day=1&from-month=2&from-year=2025&to-day=28&to-month=2&to-year=2025"))
    section = html[html.index('id="improvement-heading"') :]
    assert "part of a run of 6 on one" in section and "a trend of 6 rising" in section and "run of 7" not in section


def test_a_series_the_arithmetic_refuses_is_said_on_the_dashboard_not_an_error_page(
    client, login_as, seeded_page, monkeypatch
):
    def refuse(*_args):
        raise charts.Problem("A figure in the series is nan, which is not a number that can be charted.")

    monkeypatch.setattr(charts, "improvement", refuse)
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        response = client.get("/reports/")
    html = html_lib.unescape(page(response))
    assert response.status_code == 200 and "Calls raised" in html
    assert "The improvement charts cannot be shown: A figure in the series is nan" in html


def test_the_page_keeps_the_days_it_added_up(app, client, login_as, seeded_page):
    """Rebuild on read (docs/architecture.md#daily-rollups), as the dashboard does: the months shown are kept."""
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        first = page(client.get("/reports/improvement?months=14"))
        with app.app_context():
            kept = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ReportDay)
                .where(ReportDay.built_generation == ReportDay.generation)
            )
        second = page(client.get("/reports/improvement?months=14"))
    assert kept == 366 + 31 + 28  # January 2024 to February 2025
    strip = re.compile(r'name="csrf_token" value="[^"]*"|nonce="[^"]*"')
    assert strip.sub("", first) == strip.sub("", second)


def test_the_dashboard_probes_for_calls_without_report_facts_once(app, client, login_as, seeded_page):
    """The charts take the dashboard's answer: on PostgreSQL the probe can be a scan of every call."""
    probes: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "raised_local_month IS NULL" in statement:
            probes.append(statement)

    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/reports/").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    assert len(probes) == 1
