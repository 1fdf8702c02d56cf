"""The standard monthly report's downloads through the test client: the published FHIR and CSV copies, the signed
copy that verifies with the key shown on the trust settings page, and every bad request answered plainly (another
site's: not found; a month not begun, an unknown copy: 400; a missing or damaged signing key: 409, never a 500)."""

from __future__ import annotations

import csv
import io
import json

import pytest
import time_machine

from tests.reports.test_dashboard_figures import NOW, october_calls
from tests.reports.test_report_pages import far_site  # noqa: F401  (a fixture)
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Ward
from tracker.services.reports import report_signing
from tracker.services.reports import standard_report as sr

OCTOBER = "site=gen&month=10&year=2025"


@pytest.fixture
def october(app, trust):
    with app.app_context(), write_intent():
        october_calls(db.session.get(Ward, trust["ward"]), db.session.get(Ward, trust["beds_ward"]))


@pytest.fixture
def manager(login_as):
    with time_machine.travel(NOW, tick=False):
        login_as("manager")


@pytest.fixture
def signing_key(app, tmp_path, monkeypatch):
    path = tmp_path / "report-key.pem"
    public = report_signing.create_key(path)
    monkeypatch.setitem(app.config, "REPORT_SIGNING_KEY_FILE", str(path))
    return path, public


def get(client, path):
    with time_machine.travel(NOW, tick=False):
        return client.get(path)


def test_a_manager_downloads_the_published_copy_as_fhir(client, october, manager, read):
    response = get(client, f"/reports/standard.json?{OCTOBER}")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    assert 'filename="marthas-rule-report-gen-2025-10.json"' in response.headers["Content-Disposition"]
    report = json.loads(response.get_data(as_text=True))
    sr.validate(report)
    counts = {g["code"]["coding"][0]["code"]: g["population"][0].get("count") for g in report["group"]}
    assert counts["calls_total"] == 9 and counts["route_family"] is None  # 5 family calls: withheld
    assert read.count(AuditEvent, AuditEvent.action == "standard_report_downloaded") == 1


def test_a_manager_downloads_the_published_copy_as_csv(client, october, manager):
    response = get(client, f"/reports/standard.csv?{OCTOBER}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    by_code = {row[4]: row[6] for row in rows[1:]}
    assert by_code["calls_total"] == "9" and by_code["route_family"] == "*" and by_code["route_unknown"] == "0"


def test_the_signed_copy_verifies_with_the_key_on_the_settings_page(
    app, client, october, manager, signing_key, tmp_path
):
    response = get(client, f"/reports/standard.json?{OCTOBER}&copy=signed")
    assert response.status_code == 200
    envelope = response.get_data()
    _path, public = signing_key
    report = report_signing.verify(envelope, public)
    counts = {g["code"]["coding"][0]["code"]: g["population"][0].get("count") for g in report["group"]}
    assert counts["route_family"] == 5  # exact
    settings_page = get(client, "/admin/settings").get_data(as_text=True)
    assert report_signing.fingerprint(public) in settings_page
    assert report_signing.public_pem(public).splitlines()[1] in settings_page
    (tmp_path / "signed.json").write_bytes(envelope)
    (tmp_path / "public.pem").write_text(report_signing.public_pem(public))
    result = app.test_cli_runner().invoke(
        args=["tracker", "verify-report", str(tmp_path / "signed.json"), str(tmp_path / "public.pem")]
    )
    assert result.exit_code == 0, result.output


def test_a_missing_or_damaged_signing_key_is_a_plain_message_not_a_server_error(
    app, client, october, manager, tmp_path, monkeypatch
):
    response = get(client, f"/reports/standard.json?{OCTOBER}&copy=signed")
    assert response.status_code == 409 and "Signed reports are not set up" in response.get_data(as_text=True)
    no_key_card = get(client, "/admin/settings").get_data(as_text=True)
    assert "create one with the command: flask tracker create-report-key" in no_key_card
    assert "`" not in no_key_card.split('id="report-key"')[1].split("</section>")[0]  # no Markdown shown raw
    damaged = tmp_path / "damaged.pem"
    damaged.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    monkeypatch.setitem(app.config, "REPORT_SIGNING_KEY_FILE", str(damaged))
    response = get(client, f"/reports/standard.json?{OCTOBER}&copy=signed")
    assert response.status_code == 409 and "damaged or is not a key" in response.get_data(as_text=True)
    assert "damaged or is not a key" in get(client, "/admin/settings").get_data(as_text=True)


def test_a_month_with_no_calls_gives_zeros(client, trust, manager):
    response = get(client, "/reports/standard.json?site=gen&month=6&year=2025")
    assert response.status_code == 200
    assert all(g["population"][0]["count"] == 0 for g in json.loads(response.get_data())["group"])


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("site=gen&month=12&year=2025", 400, "December 2025 has not started yet"),
        ("site=gen&month=10&year=2025&copy=everything", 400, "Choose the published copy or the signed copy"),
        ("site=gen&month=13&year=2025", 400, "Enter the month as a number from 1 to 12"),
    ],
)
@pytest.mark.parametrize("path", ["/reports/standard.json", "/reports/standard.csv"])
def test_bad_requests_are_answered_plainly(client, trust, manager, path, query, status, words):
    if path.endswith(".csv") and "copy=" in query:
        query = query.replace("&copy=everything", "&copy=x")
        status, words = 400, "no filter called"
    response = get(client, f"{path}?{query}")
    assert response.status_code == status and words in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/reports/standard.json?site={}", "/reports/standard.csv?site={}"])
@pytest.mark.parametrize("code", ["far", "nowhere"])
def test_another_sites_report_is_not_found(client, manager, far_site, path, code):  # noqa: F811
    assert get(client, path.format(code)).status_code == 404
