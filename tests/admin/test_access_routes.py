"""The access review's pages (tracker/admin/access.py): a manager sees and records only their own site, an
administrator a site or the whole trust; the CSV is the page's accounts with inert cells, its download audited; the
month's review is recorded once, with a plain refusal for a second."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from tests.authz.admin_access import OTHER_SITE
from tests.triage.test_authorization_matrix import csrf_token
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AccessReview, AuditEvent, User


def emails_shown(html: str) -> set[str]:
    return set(re.findall(r'data-account="([^"]+)"', html))


@pytest.mark.parametrize("role", ["manager", "admin"])
@pytest.mark.parametrize("endpoint", sorted(OTHER_SITE))
def test_another_sites_review_is_not_found_by_a_manager(client, login_as, other_site, read, endpoint, role):
    login_as(role)
    method, path, posted, expected = OTHER_SITE[endpoint]
    if method == "POST":
        response = client.post(path, data={"csrf_token": csrf_token(client), **posted})
    else:
        response = client.get(path)
    assert response.status_code == expected[role], (endpoint, role, response.status_code)
    if expected[role] == 404:
        assert read.count(AuditEvent, AuditEvent.action == "access_denied") == 1
        assert read.count(AccessReview) == 0


def test_a_manager_sees_their_own_sites_accounts_only(client, login_as, staff):
    me = login_as("manager")
    page = client.get("/admin/access")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    with client.application.app_context():
        my_email = db.session.get(User, me).email
    assert emails_shown(html) == {
        "nurse@gen.invalid",
        "ccot@gen.invalid",
        "lead@gen.invalid",
        "both@trust.invalid",
        my_email,
    }
    assert "General Hospital" in html and 'name="site"' in html
    assert "Accounts of" not in html, "a manager has nothing to choose between"
    assert "This month's review is due" in html and "No access review has been recorded yet." in html


def test_an_administrator_chooses_a_site_or_the_whole_trust(client, login_as, staff):
    login_as("admin")
    whole = client.get("/admin/access").get_data(as_text=True)
    assert "Accounts of" in whole and len(emails_shown(whole)) == 8  # the seven, and the administrator signed in
    other = client.get("/admin/access?site=other").get_data(as_text=True)
    assert emails_shown(other) == {"nurse@other.invalid", "lead@other.invalid", "both@trust.invalid"}
    assert client.get("/admin/access?site=made-up").status_code == 404


def test_the_page_flags_an_account_unused_for_the_trusts_number_of_days(app, client, login_as, staff):
    login_as("manager")
    with app.app_context(), write_intent():
        db.session.get(User, staff["nurse@gen.invalid"]).last_sign_in_at = utcnow() - timedelta(days=91)
        db.session.get(User, staff["ccot@gen.invalid"]).last_sign_in_at = utcnow() - timedelta(days=89)
        db.session.commit()
    html = client.get("/admin/access").get_data(as_text=True)
    flagged = re.findall(r'data-account="([^"]+)"(?:(?!</tr>).)*data-unused', html, flags=re.S)
    assert flagged == ["nurse@gen.invalid"]
    assert "1 not used for 90 days or more." in html and 'href="#account-' in html


def test_the_csv_is_the_pages_accounts_with_inert_cells_and_its_download_is_audited(app, client, login_as, staff, read):
    me = login_as("manager")
    with app.app_context(), write_intent():
        db.session.get(User, staff["nurse@gen.invalid"]).display_name = "@SUM(1+1)*cmd|' /C calc'!A0"
        db.session.commit()
    response = client.get("/admin/access.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="access-review-gen-\d{4}-\d{2}-\d{2}\.csv"', response.headers["Content-Disposition"]
    )
    table = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert {row["Email"] for row in table} == emails_shown(client.get("/admin/access").get_data(as_text=True))
    nurse = next(row for row in table if row["Email"] == "nurse@gen.invalid")
    assert nurse["Name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    event = read.one(AuditEvent, AuditEvent.action == "access_review_downloaded")
    with app.app_context():
        site_id = db.session.get(User, me).site_id
    assert (event.actor_id, event.changes) == (me, {"site_id": site_id, "accounts": 5})


def test_the_months_review_is_recorded_once_and_audited(app, client, login_as, staff, read):
    me = login_as("manager")
    token = csrf_token(client)
    done = client.post("/admin/access/review", data={"csrf_token": token, "site": "gen"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "This month&#39;s access review of General Hospital is recorded as done." in html
    assert "data-review-done" in html and "Test manager" in html and 'id="record-review"' not in html
    again = client.post("/admin/access/review", data={"csrf_token": token, "site": "gen"}, follow_redirects=True)
    assert "was already recorded by Test manager" in again.get_data(as_text=True)
    review = read.one(AccessReview)
    assert (review.reviewed_by_id, review.accounts) == (me, 5)
    event = read.one(AuditEvent, AuditEvent.action == "access_review_recorded")
    assert (event.actor_id, event.object_type, event.object_id) == (me, "access_review", review.id)


def test_the_set_up_page_offers_the_access_review_to_managers_and_administrators(client, login_as):
    login_as("manager")
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/access"' in html and "Access review" in html


def test_the_whole_trusts_csv_is_named_for_the_whole_trust(client, login_as, staff):
    login_as("admin")
    response = client.get("/admin/access.csv?site=_trust")
    assert response.status_code == 200
    assert re.fullmatch(
        r'attachment; filename="access-review-whole-trust-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["Content-Disposition"],
    )


def test_a_refused_lookup_audits_it_under_the_write_lock_so_a_busy_sqlite_never_answers_500(app, client, login_as):
    """found_or_404 writes an audit row in a GET. On SQLite a deferred transaction that has read cannot take
    the write lock once another writer has committed: "database is locked", a 500 (wapiti found 68 on
    /admin/access?site=… while other sessions wrote). The row must be written after BEGIN IMMEDIATE."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock only")
    login_as("admin")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()[:3]))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get("/admin/access?site=made-up").status_code == 404
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    insert = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO audit_event"))
    begins = [s for s in statements[:insert] if s.startswith("BEGIN")]
    assert begins and begins[-1] == "BEGIN IMMEDIATE", statements[: insert + 1]
