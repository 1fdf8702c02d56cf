"""A manager of another site, on this site's set-up pages (tests/authz/admin_hospital.py: OTHER_SITE): every site,
team and ward of it answers as if it did not exist (404, the attempt audited) or, where only administrators may act,
403; the lists show only their own site."""

from __future__ import annotations

import pytest

from tests.admin.hospital_helpers import post, sign_in_other_manager
from tests.authz.admin_hospital import OTHER_SITE, ROWS
from tracker.models import AuditEvent, Ward


def test_every_site_specific_row_says_what_another_sites_manager_gets():
    assert set(OTHER_SITE) == set(ROWS)


@pytest.mark.parametrize("endpoint", sorted(OTHER_SITE))
def test_a_manager_of_another_site_cannot_reach_this_sites_set_up(app, client, trust, read, endpoint):
    sign_in_other_manager(app, client)
    method, path, expected = OTHER_SITE[endpoint]
    response = post(client, path) if method == "POST" else client.get(path)
    assert response.status_code == expected, (endpoint, response.status_code)
    if expected == 404:
        assert read.count(AuditEvent, AuditEvent.action == "access_denied") == 1
    assert read.one(Ward, Ward.code == "w7").retired_at is None


def test_the_lists_show_another_sites_manager_only_their_own_site(app, client, trust):
    sign_in_other_manager(app, client)
    sites = client.get("/admin/sites").get_data(as_text=True)
    assert "Other Hospital" in sites and "General Hospital" not in sites
    wards = client.get("/admin/wards").get_data(as_text=True)
    assert "Other Ward" in wards and "Ward 7" not in wards and "/w/w7" not in wards
