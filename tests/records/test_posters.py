"""The ward posters page (docs/architecture.md#posters): a manager sees and prints their own site's open wards, an
administrator every site's; each PDF is audited; bad input is a plain 404 and a missing font a 503 naming the Debian
package, never a PDF of empty boxes or a 500."""

from __future__ import annotations

import pypdfium2
import pytest

from tests.conftest import build_other_site
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Settings
from tracker.services.posters import fonts
from tracker.services.setup.settings import forget_settings


@pytest.fixture
def other_site(app, trust) -> None:
    """A second site with a ward of its own."""
    with app.app_context(), write_intent():
        build_other_site()
        db.session.commit()


def enable(app, codes: str) -> None:
    with app.app_context(), write_intent():
        db.session.get(Settings, 1).languages_enabled = codes
        db.session.commit()
        forget_settings()


def needs_fonts(*scripts: str) -> None:
    missing = sorted({package for script in scripts for package in fonts.missing_packages(script)})
    if missing:
        pytest.skip(f"the Noto fonts are not installed: apt-get install {' '.join(missing)}")


def pages(response) -> int:
    document = pypdfium2.PdfDocument(response.get_data())
    try:
        return len(document)
    finally:
        document.close()


def test_a_manager_sees_their_own_sites_open_wards_with_a_link_per_enabled_language(client, login_as, app, other_site):
    enable(app, "en,pl,ar")
    login_as("manager")
    page = client.get("/records/posters").get_data(as_text=True)
    assert 'data-ward="w7"' in page and 'data-ward="w8"' in page
    assert 'data-ward="ow1"' not in page and "Other Ward" not in page
    assert 'data-ward="w-old"' not in page  # a closed ward has no poster
    for code in ("en", "pl", "ar"):
        assert f"/records/posters/{code}/w7.pdf" in page
        assert f"/records/posters/{code}.pdf" in page
    assert "/records/posters/es/w7.pdf" not in page  # not enabled
    assert f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/w/w7" in page
    # Linked from the staff navigation and from the exports page.
    assert 'href="/records/posters"' in page
    assert 'href="/records/posters"' in client.get("/records/exports").get_data(as_text=True)


def test_an_administrator_sees_every_sites_wards(client, login_as, other_site):
    login_as("admin")
    page = client.get("/records/posters").get_data(as_text=True)
    assert 'data-ward="w7"' in page and 'data-ward="ow1"' in page
    assert "General Hospital" in page and "Other Hospital" in page


def test_a_wards_poster_is_a_one_page_pdf_and_its_printing_is_audited(client, login_as, read, trust):
    needs_fonts("Latin")
    user_id = login_as("manager")
    response = client.get("/records/posters/en/w7.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="poster-w7-en.pdf"'
    assert pages(response) == 1
    event = read.one(AuditEvent, AuditEvent.action == "posters_printed")
    assert (event.actor_id, event.object_type, event.object_id) == (user_id, "ward", trust["ward"])
    assert event.changes == {"language": "en", "wards": ["w7"]}


@pytest.mark.parametrize(("role", "wards"), [("manager", ["w7", "w8"]), ("admin", ["w7", "w8", "ow1"])])
def test_print_all_has_a_page_for_each_ward_in_reach(client, login_as, read, other_site, role, wards):
    needs_fonts("Latin", "Arabic")
    enable(client.application, "en,ar")
    login_as(role)
    response = client.get("/records/posters/ar.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert pages(response) == len(wards)
    event = read.one(AuditEvent, AuditEvent.action == "posters_printed")
    assert event.changes == {"language": "ar", "wards": wards}  # by site, then by name: the pages' order


@pytest.mark.parametrize(
    "path",
    [
        "/records/posters/en/no-such-ward.pdf",  # an unknown ward
        "/records/posters/en/ow1.pdf",  # another site's ward
        "/records/posters/en/w-old.pdf",  # a closed ward
        "/records/posters/xx/w7.pdf",  # an unknown language
        "/records/posters/pl/w7.pdf",  # a language the trust has not enabled
        "/records/posters/pl.pdf",
        "/records/posters/..%2Fen.pdf",
    ],
)
def test_bad_input_is_a_plain_not_found(client, login_as, other_site, path):
    login_as("manager")
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_another_sites_ward_is_not_found_and_the_attempt_is_audited(client, login_as, read, other_site):
    login_as("manager")
    page = client.get("/records/posters/en/ow1.pdf")
    assert page.status_code == 404
    assert "There is no open ward with that code among the wards you print for" in page.get_data(as_text=True)
    assert read.count(AuditEvent, AuditEvent.action == "access_denied") == 1
    assert read.count(AuditEvent, AuditEvent.action == "posters_printed") == 0


def test_a_missing_font_is_named_on_the_page_and_its_pdf_refused(client, login_as, app, read, monkeypatch, tmp_path):
    needs_fonts("Latin")
    monkeypatch.setattr(fonts, "OPENTYPE", tmp_path)  # fonts-noto-cjk not installed
    enable(app, "en,zh_Hans")
    login_as("manager")
    page = client.get("/records/posters").get_data(as_text=True)
    assert "Chinese (Simplified)" in page and "<code>fonts-noto-cjk</code>" in page
    assert "/records/posters/zh_Hans/w7.pdf" not in page and "/records/posters/zh_Hans.pdf" not in page
    assert "/records/posters/en/w7.pdf" in page
    for path in ("/records/posters/zh_Hans/w7.pdf", "/records/posters/zh_Hans.pdf"):
        response = client.get(path)
        assert response.status_code == 503 and response.mimetype == "text/html"
        assert "install the Debian package fonts-noto-cjk" in response.get_data(as_text=True)
    assert read.count(AuditEvent, AuditEvent.action == "posters_printed") == 0


def test_ward_staff_and_outreach_cannot_print_posters(client, login_as):
    login_as("outreach")
    assert client.get("/records/posters").status_code == 403
    assert client.get("/records/posters/en/w7.pdf").status_code == 403
