"""The ward list's live filter in Chromium forgives what a frightened visitor types exactly as the server's search
does (the same cases as tests/public/test_ward_search.py), and its results are links large enough to tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import FAMILY_ON_A_PHONE, at
from tests.public.test_ward_search import CASES, add_northgate

pytestmark = pytest.mark.browser


@at(FAMILY_ON_A_PHONE)
def test_the_live_filter_finds_a_ward_as_the_search_does(tab, app, trust):
    add_northgate(app)
    page = tab.page
    page.goto("/")
    search = page.get_by_label("Find the ward")
    ward = page.locator('a[href="/w/ng-7b"]')
    for typed, found in CASES:
        search.fill(typed)
        if found:
            expect(ward, f"{typed!r} should find Ward 7B").to_be_visible()
        else:
            expect(ward, f"{typed!r} should not find Ward 7B").to_be_hidden()
    search.fill("respiritory")
    box = ward.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 200, box  # a finger finds it
    tab.check("ward-search-typo")
    tab.assert_clean()
