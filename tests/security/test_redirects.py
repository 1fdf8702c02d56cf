"""Redirects are built from the parameters we know, never from whatever the request carried."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "query", ["?code=x", "?_external=1", "?_scheme=https&_external=1", "?_anchor=x", "?kiosk=1&code=x&ward=evil"]
)
def test_an_upper_case_ward_code_redirects_to_the_canonical_link_only(client, trust, query):
    response = client.get(f"/w/W7{query}", headers={"Host": "evil.example"})
    assert response.status_code == 301
    location = response.headers["Location"]
    assert location == "/w/w7"
