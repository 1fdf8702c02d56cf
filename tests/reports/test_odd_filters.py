"""Numbers no one would type in the reports' addresses (`²` passes str.isdigit() but not int(); `١٢`
passes both; 5,000 digits are past int()'s limit): the filter's plain message, never a server error."""

from __future__ import annotations

import html

import pytest

from tests.reports.test_report_pages import manager  # noqa: F401 (a fixture)

ODD = ["²", "١٢", "１", "9" * 5000]
DATES = "from-day=1&from-month=8&from-year=2025&to-day=31&to-month=8&to-year=2025"


@pytest.mark.parametrize("part", ["from-day", "from-month", "from-year", "to-day"])
def test_odd_digits_in_a_dashboard_date_are_refused(client, manager, part):  # noqa: F811
    for value in ODD:
        query = "&".join(f"{part}={value}" if pair.startswith(f"{part}=") else pair for pair in DATES.split("&"))
        response = client.get(f"/reports/?{query}")
        assert response.status_code == 400, value
        assert "date must be a real date" in html.unescape(response.get_data(as_text=True)), value


@pytest.mark.parametrize("path", ["/reports/return", "/reports/return.csv"])
def test_odd_digits_in_the_returns_month_are_refused(client, manager, path):  # noqa: F811
    for value in ODD:
        for query, message in (
            (f"month={value}&year=2025", "Enter the month as a number from 1 to 12"),
            (f"month=8&year={value}", "Enter the year as 4 digits"),
        ):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, query
            assert message in html.unescape(response.get_data(as_text=True)), query


def test_odd_digits_in_the_implementation_forms_month_are_refused(client, manager, read):  # noqa: F811
    from tests.triage.test_authorization_matrix import csrf_token
    from tracker.models import SiteImplementation

    for month in ("²⁰²⁵-08", "2025-²", "٢٠٢٥-08", "9" * 5000 + "-08"):
        response = client.post(
            "/reports/return/implementation",
            data={
                "csrf_token": csrf_token(client),
                "site": "gen",
                "month": month,
                "family_route": "live",
                "staff_route": "fully_live",
            },
        )
        assert response.status_code == 400, month
        assert "Choose the month again" in response.get_data(as_text=True), month
    assert read.count(SiteImplementation) == 0
