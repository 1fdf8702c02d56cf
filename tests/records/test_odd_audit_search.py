"""Page keys and dates no one would type in the audit search's address: digits past the database's
integer, or digits Python reads but a form should not. The first page, or the search's plain message;
never a server error."""

from __future__ import annotations

import pytest

from tests.records.test_audit_viewer import events_shown, record_events


@pytest.mark.parametrize("before", ["99999999999", str(2**31), str(2**63), "²", "١٢٣", "9" * 5000])
def test_a_page_key_the_database_cannot_hold_shows_the_first_page(app, client, trust, manager, before):
    record_events(app, 3)
    first = events_shown(client.get("/records/audit").get_data(as_text=True))
    response = client.get(f"/records/audit?before={before}")
    assert response.status_code == 200
    # The same page, under the event that recorded the first look.
    assert events_shown(response.get_data(as_text=True))[1:4] == first[:3]


@pytest.mark.parametrize("value", ["²", "١", "9" * 5000])
def test_odd_digits_in_the_audit_searchs_dates_are_refused(client, trust, manager, value):
    response = client.get(f"/records/audit?from-day={value}&from-month=1&from-year=2026")
    assert response.status_code == 400
