"""The report pages through the test client: what a manager sees, the defaults in local time,
every kind of bad address answered with a clear message (never a 500), another site's figures
not found, the return's CSV read back with the csv module, and the implementation status form."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import create_staff, sign_in_directly
from tests.reports.calls import ACUTE, CRITICAL_CARE, F, S, call
from tests.reports.test_dashboard_figures import NOW, october_calls
from tests.triage.test_authorization_matrix import csrf_token
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, ConcernStatus, Population, ReportDay, SiteImplementation, Ward
from tracker.services.records import audit
from tracker.services.reports import report_facts
from tracker.services.setup import hospital


@pytest.fixture
def manager(login_as):
    return login_as("manager")


def page(response) -> str:
    return response.get_data(as_text=True)


def test_the_dashboard_shows_this_month_in_uk_time(client, login_as):
    # 23:30 UTC on 31 August is 00:30 BST on 1 September: "this month" is September.
    with time_machine.travel("2025-08-31 23:30:00+00:00", tick=False):
        login_as("manager")
        response = client.get("/reports/")
        with_site = page(client.get("/reports/?site=gen"))
    assert response.status_code == 200
    assert re.search(r'id="to-day" name="to-day" type="text" value="30"', re.sub(r"\s+", " ", with_site))
    html = page(response)
    assert "calls raised September 2025" in html
    assert re.search(r'id="to-day" name="to-day" type="text" value="30"', re.sub(r"\s+", " ", html))


def test_the_dashboard_shows_the_figures_charts_tables_and_breaches(app, client, trust, login_as):
    with app.app_context(), write_intent():
        october_calls(db.session.get(Ward, trust["ward"]), db.session.get(Ward, trust["beds_ward"]))
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        response = client.get("/reports/?from-day=1&from-month=10&from-year=2025&to-day=31&to-month=10&to-year=2025")
    html = page(response)
    assert response.status_code == 200
    assert "calls raised October 2025" in html
    for chart in ("route", "ward", "hour", "hours", "type", "outcome", "change", "trend"):
        assert f'data-chart-table="{chart}-table"' in html and f'id="{chart}-table"' in html, chart
    assert re.search(r'Family, carer or advocate</th>\s*<td[^>]*data-value="5"', html)
    assert "Calls past the claim target: 3" in html and "Calls past the review target: 3" in html
    assert re.search(r'href="/triage/c/MR-T\d{3}-\d{2}"', html)
    assert "4 min 00 s" in html  # the median time to claim
    assert "Not yet: still waiting" in html
    assert 'src="/assets/vendor/chart-4.6.1.umd.min.js"' in html


def test_the_reports_link_is_in_a_managers_navigation_only(client, login_as):
    login_as("manager")
    assert 'href="/reports/"' in page(client.get("/triage/"))


BAD_DASHBOARD = [
    (
        "from-day=1&from-month=9&from-year=2025&to-day=1&to-month=8&to-year=2025",
        "The end date must be the same as or after",
    ),
    ("from-day=1&from-month=1&from-year=1900&to-day=1&to-month=2&to-year=2025", "Dates must be between 1 January 2020"),
    (
        "from-day=1&from-month=1&from-year=2025&to-day=31&to-month=12&to-year=9999",
        "Dates must be between 1 January 2020",
    ),
    ("from-day=31&from-month=2&from-year=2025&to-day=1&to-month=3&to-year=2025", "The start date must be a real date"),
    ("from-day=aa&from-month=b&from-year=2025&to-day=1&to-month=3&to-year=2025", "The start date must be a real date"),
    ("from-day=1&from-month=1&from-year=25&to-day=1&to-month=3&to-year=2025", "The start date must be a real date"),
    ("from-day=1&from-month=1&from-year=2025", "Enter the end date"),
    ("from-day=1&from-year=2025&to-day=1&to-month=3&to-year=2025", "The start date must include a month"),
    ("from-day=1&from-month=1&from-year=2020&to-day=1&to-month=1&to-year=2025", "Choose a period of 3 years or less"),
    ("colour=red", "This page has no filter called “colour”"),
    ("from-day=1&from-month=8&from-year=2025&to-day=31&to-month=8&to-year=2025&ward=7", "no filter called “ward”"),
    # NUL is refused before any view (tests/security/test_nul_refused.py).
    ("from-day=1&from-month=8&from-year=20250&to-day=31&to-month=8&to-year=2025", "The start date must be a real date"),
]


@pytest.mark.parametrize(("query", "message"), BAD_DASHBOARD)
def test_bad_dashboard_filters_get_a_clear_message_not_an_error_page(client, manager, query, message):
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 400
    html = page(response)
    assert "There is a problem" in html and message in html
    assert html.count("<title>Error:") == 1


BAD_RETURN = [
    ("month=13&year=2025", "Enter the month as a number from 1 to 12"),
    ("month=8&year=1900", "Choose a month from January 2020"),
    ("month=8&year=9999", "Choose a month from January 2020"),
    ("month=aug&year=2025", "Enter the month as a number from 1 to 12"),
    ("month=8&year=25", "Enter the year as 4 digits"),
    ("month=8", "Enter the year as 4 digits"),
    ("month=8&year=2025&format=xlsx", "no filter called “format”"),
]


@pytest.mark.parametrize(("query", "message"), BAD_RETURN)
@pytest.mark.parametrize("path", ["/reports/return", "/reports/return.csv"])
def test_bad_return_filters_get_a_clear_message_not_an_error_page(client, manager, path, query, message):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert message in page(response)


@pytest.fixture
def far_site(app, trust):
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        site = hospital.add_site(actor, code="far", name="Far Hospital")
        team = hospital.add_team(
            actor,
            code="far-ccot",
            site=site,
            name="Far Team",
            population=Population.ADULT,
            public_phone="020 7946 0555",
            duty_phone="07400 900555",
        )
        ward = hospital.add_ward(actor, code="far1", name="Far Ward", site=site, team=team, population=Population.ADULT)
        call(ward, "2025-08-10 10:00", F, kind=ACUTE, outcome=CRITICAL_CARE)
        db.session.commit()
        return site.code


@pytest.mark.parametrize("path", ["/reports/?site={}", "/reports/return?site={}", "/reports/return.csv?site={}"])
@pytest.mark.parametrize("code", ["far", "nowhere", "../gen"])
def test_another_sites_figures_are_not_found(client, manager, far_site, read, path, code):
    assert client.get(path.format(code)).status_code == 404
    assert read.count(AuditEvent, AuditEvent.action == "access_denied") >= 1


def test_a_manager_without_a_site_is_told_so(app, client, trust):
    user_id, _ = create_staff(app, "manager", site_id=None, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    sign_in_directly(app, client, user_id)
    for path in ("/reports/", "/reports/return"):
        assert "not linked to a hospital site" in page(client.get(path))


def test_the_return_defaults_to_last_month_in_uk_time(client, login_as):
    with time_machine.travel("2025-08-31 23:30:00+00:00", tick=False):  # 00:30 BST on 1 September
        login_as("manager")
        html = page(client.get("/reports/return"))
    assert "General Hospital: August 2025" in html
    assert "Implementation status not recorded" in html


def seed_august(app, trust):
    with app.app_context(), write_intent():
        ward = db.session.get(Ward, trust["ward"])
        call(ward, "2025-08-31 22:30", S, kind=ACUTE, outcome=CRITICAL_CARE)  # 23:30 BST on 31 August
        call(ward, "2025-08-10 10:00", F, kind=ACUTE, outcome=CRITICAL_CARE)
        db.session.commit()


def test_the_return_page_shows_each_measure_with_its_definition(app, client, trust, manager):
    seed_august(app, trust)
    html = page(client.get("/reports/return?month=8&year=2025"))
    assert re.search(r'data-measure="calls_total".*?<strong data-value>2</strong>', html, flags=re.S)
    assert re.search(r'data-measure="outcome_critical_care".*?<strong data-value>2</strong>', html, flags=re.S)
    assert "Closed calls only, as coded by the clinician at close" in html
    assert 'href="/reports/return.csv?site=gen&amp;month=8&amp;year=2025"' in html


def test_the_return_warns_while_calls_of_the_month_are_still_open(app, client, trust, manager):
    seed_august(app, trust)
    with app.app_context(), write_intent():
        call(db.session.get(Ward, trust["ward"]), "2025-08-20 10:00", F, ConcernStatus.ACKNOWLEDGED)
        db.session.commit()
    html = page(client.get("/reports/return?month=8&year=2025"))
    assert "Not final yet" in html and "1 call raised in August 2025 is still open" in html
    assert re.search(r'data-measure="still_open".*?<strong data-value>1</strong>', html, flags=re.S)


def test_calls_without_report_facts_are_named_as_missing_until_they_are_worked_out_again(app, client, trust, manager):
    # A call written around the app (a restore, a hand-made fix) has no local day or response
    # times: the figures cannot place it, so both pages say some calls are missing, not a wrong total.
    seed_august(app, trust)
    with app.app_context(), write_intent():
        db.session.execute(
            sa.text(
                "UPDATE concern SET raised_local_date = NULL, raised_local_month = NULL, "
                "raised_local_hour = NULL, raised_local_seconds = NULL, raised_local_weekday = NULL "
                "WHERE raised_at < '2025-08-15'"
            )
        )
        db.session.commit()
    dashboard = "/reports/?from-day=1&from-month=8&from-year=2025&to-day=31&to-month=8&to-year=2025"
    for path in (dashboard, "/reports/return?month=8&year=2025"):
        html = page(client.get(path))
        assert "Some calls are missing from these figures" in html and "flask tracker report-facts" in html, path
    assert re.search(
        r'data-measure="calls_total".*?<strong data-value>1</strong>',
        page(client.get("/reports/return?month=8&year=2025")),
        flags=re.S,
    )
    with app.app_context(), write_intent():
        assert report_facts.recompute() == 1
        db.session.commit()
    for path in (dashboard, "/reports/return?month=8&year=2025"):
        assert "Some calls are missing" not in page(client.get(path)), path
    assert re.search(
        r'data-measure="calls_total".*?<strong data-value>2</strong>',
        page(client.get("/reports/return?month=8&year=2025")),
        flags=re.S,
    )


def test_the_return_csv_reads_back_with_the_csv_module_and_is_audited(app, client, trust, manager, read):
    seed_august(app, trust)
    with app.app_context(), write_intent():
        # A site name a spreadsheet would run as a formula: the one rule makes it inert.
        db.session.execute(db.text("UPDATE site SET name = '=HYPERLINK(\"http://x\")' WHERE code = 'gen'"))
        db.session.commit()
    response = client.get("/reports/return.csv?month=8&year=2025")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="marthas-rule-return-gen-2025-08.csv"'
    rows = list(csv.reader(io.StringIO(page(response))))
    assert rows[0] == [
        "Site code",
        "Site",
        "Month",
        "Section",
        "Measure",
        "Value",
        "Percentage of all calls",
        "Definition",
    ]
    values = {row[4]: row[5] for row in rows[1:]}
    assert values["All escalation calls"] == "2" and values["Urgent admission to HDU or ICU"] == "2"
    assert values["Staff escalation process"] == "1" and values["Patient and family escalation route"] == "Not recorded"
    assert {row[1] for row in rows[1:]} == {'\'=HYPERLINK("http://x")'}
    event = read.one(AuditEvent, AuditEvent.action == "monthly_return_downloaded")
    assert event.changes == {"month": "2025-08", "format": "csv"}


def test_recording_the_implementation_status_saves_audits_and_returns_to_the_month(app, client, manager, read):
    token = csrf_token(client)
    response = client.post(
        "/reports/return/implementation",
        data={
            "csrf_token": token,
            "site": "gen",
            "month": "2025-08",
            "family_route": "live",
            "staff_route": "partly_live",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports/return?site=gen&month=8&year=2025"
    html = page(client.get(response.headers["Location"]))
    assert "Implementation status for August 2025 saved." in html
    assert re.search(r'data-measure="staff_route_status".*?<strong data-value>Partly live</strong>', html, flags=re.S)
    row = read.one(SiteImplementation)
    assert (row.family_route.value, row.staff_route.value, row.recorded_by_id) == ("live", "partly_live", manager)
    assert read.count(AuditEvent, AuditEvent.action == "implementation_status_recorded") == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"month": "2025-08", "staff_route": "fully_live"}, "Say whether the patient and family route was live"),
        ({"month": "2025-08", "family_route": "live", "staff_route": "sometimes"}, "Say whether the staff route was"),
        ({"month": "1900-01", "family_route": "live", "staff_route": "fully_live"}, "Choose the month again"),
        ({"month": "August", "family_route": "live", "staff_route": "fully_live"}, "Choose the month again"),
    ],
)
def test_a_wrong_implementation_answer_comes_back_with_a_message(client, manager, read, data, message):
    response = client.post(
        "/reports/return/implementation", data={"csrf_token": csrf_token(client), "site": "gen", **data}
    )
    assert response.status_code == 400 and message in page(response)
    assert read.count(SiteImplementation) == 0


def test_another_sites_implementation_status_cannot_be_recorded(client, manager, far_site, read):
    response = client.post(
        "/reports/return/implementation",
        data={
            "csrf_token": csrf_token(client),
            "site": "far",
            "month": "2025-08",
            "family_route": "live",
            "staff_route": "fully_live",
        },
    )
    assert response.status_code == 404 and read.count(SiteImplementation) == 0


def test_the_implementation_form_needs_a_csrf_token(client, manager):
    response = client.post(
        "/reports/return/implementation",
        data={"site": "gen", "month": "2025-08", "family_route": "live", "staff_route": "fully_live"},
    )
    assert response.status_code == 400


def test_the_dashboard_counts_texted_and_could_not_contact_apart_from_the_caller_told(app, client, trust, login_as):
    from tracker.models import CallerRoute, CallerUpdateMethod

    with app.app_context(), write_intent():
        ward = db.session.get(Ward, trust["ward"])
        told = call(ward, "2025-10-06 10:00", CallerRoute.FAMILY, updated=600)
        told.caller_update_method = CallerUpdateMethod.PHONE
        texted = call(ward, "2025-10-07 10:00", CallerRoute.FAMILY)
        texted.caller_update_method = CallerUpdateMethod.COULD_NOT_CONTACT
        texted.caller_texted_at = texted.raised_at + timedelta(minutes=40)
        db.session.commit()
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        response = client.get("/reports/?from-day=1&from-month=10&from-year=2025&to-day=31&to-month=10&to-year=2025")
    shown = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page(response))))
    assert "recorded that the caller was told the outcome: 1 call." in shown
    assert (
        '1 caller got the text "the team has seen the patient" (delivered to their phone), and 1 could not be contacted'
        in shown
    )


def test_viewing_the_dashboard_keeps_the_days_it_added_up_and_shows_the_same_figures_from_them(
    app, client, trust, login_as
):
    """Rebuild on read (docs/architecture.md#daily-rollups): the first view keeps every day of the trend's twelve
    months and of the improvement charts' 24 whole months; the second reads them and shows the same page."""
    with app.app_context(), write_intent():
        october_calls(db.session.get(Ward, trust["ward"]), db.session.get(Ward, trust["beds_ward"]))
    url = "/reports/?from-day=1&from-month=10&from-year=2025&to-day=31&to-month=10&to-year=2025"
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        first = page(client.get(url))
        with app.app_context():
            kept = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ReportDay)
                .where(ReportDay.built_generation == ReportDay.generation)
            )
        second = page(client.get(url))
    assert (
        kept == 731
    )  # the charts' December 2023 to November 2025, which hold the trend's November 2024 to October 2025
    assert "Calls past the claim target: 3" in second and "4 min 00 s" in second
    strip = re.compile(r'name="csrf_token" value="[^"]*"|nonce="[^"]*"|Figures as at[^<]*')
    assert strip.sub("", first) == strip.sub("", second)
