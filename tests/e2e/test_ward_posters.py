"""Ward posters in Chromium (docs/architecture.md#posters): a manager goes from the exports to the posters page, opens a
ward's poster and every ward's in one PDF, and, where a language's fonts are not installed, reads which package to
install and gets a refusal instead of a PDF of boxes. Every page passes axe-core's WCAG 2.2 AA rules and is saved as a
screenshot; nothing leaves 127.0.0.1."""

from __future__ import annotations

import pypdfium2
import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import SERVICE_MANAGER, at
from tests.e2e.test_manager_records import signed_in_manager
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Settings
from tracker.services.posters import fonts
from tracker.services.setup.settings import forget_settings

pytestmark = pytest.mark.browser


def pages(body: bytes) -> int:
    document = pypdfium2.PdfDocument(body)
    try:
        return len(document)
    finally:
        document.close()


@at(SERVICE_MANAGER)
def test_a_manager_prints_the_wards_posters_and_is_told_which_fonts_are_missing(
    tab, app, trust, base_url, monkeypatch, tmp_path
):
    missing = fonts.missing_packages("Latin")
    if missing:
        pytest.skip(f"the Noto fonts are not installed: apt-get install {' '.join(missing)}")
    with app.app_context(), write_intent():
        db.session.get(Settings, 1).languages_enabled = "en,zh_Hans"
        db.session.commit()
        forget_settings()
    monkeypatch.setattr(fonts, "OPENTYPE", tmp_path)  # as on a server without fonts-noto-cjk
    page = tab.page
    signed_in_manager(app, tab, trust, base_url, stale=False)

    page.goto("/records/exports")
    page.get_by_role("link", name="ward posters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ward posters")
    expect(page.locator("[data-missing-fonts]")).to_contain_text("fonts-noto-cjk")
    tab.check("ward-posters", emergency=False)

    # Headless Chromium has no PDF viewer: the links' targets are fetched with the page's own sign-in.
    one = page.locator('[data-ward="w7"]').get_by_role("link", name="Ward 7 in English")
    response = page.request.get(one.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert pages(response.body()) == 1
    every = page.get_by_role("link", name="All wards in English (PDF)")
    assert pages(page.request.get(every.get_attribute("href")).body()) == 2
    assert page.locator('[data-ward="w7"]').get_by_role("link", name="Ward 7 in Chinese (Simplified)").count() == 0

    refused = page.goto("/records/posters/zh_Hans.pdf")
    assert refused is not None and refused.status == 503
    expect(page.locator("[data-poster-refused]")).to_contain_text("fonts-noto-cjk")
    tab.check("ward-posters-fonts-missing", emergency=False)
    page.get_by_role("link", name="Back to the ward posters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ward posters")
    tab.assert_clean()
