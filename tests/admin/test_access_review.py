"""The access review's services (services/people/access_review.py, access_reviews.py): who sees which accounts, what
each row says, the unused flag as the clock moves, the CSV, and the month's review recorded once per month and scope,
audited."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import SETUP_TRUST, create_staff
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AccessReview, AuditEvent, Settings, User
from tracker.services.people import access_review, access_reviews, sessions
from tracker.services.people.access_reviews import AccessReviewProblem
from tracker.services.records import audit
from tracker.services.setup import hospital
from tracker.services.setup.settings import current_settings

GEN = {"nurse@gen.invalid", "ccot@gen.invalid", "lead@gen.invalid", "both@trust.invalid"}
OTHER = {"nurse@other.invalid", "lead@other.invalid", "both@trust.invalid"}


def person(user_id: int) -> User:
    return db.session.get_one(User, user_id)


def rows_of(review, days: int = 90) -> dict[str, access_review.AccountRow]:
    return {row.email: row for row in access_review.accounts(review, utcnow(), days)}


def test_a_manager_reviews_their_own_sites_accounts_and_no_other(app, ctx, staff):
    lead = person(staff["lead@gen.invalid"])
    review = access_review.scope_for(lead, None)
    assert review is not None and (review.code, review.name) == ("gen", "General Hospital")
    # Their ward's staff, their team's outreach (one who also covers another site too), and themselves.
    assert set(rows_of(review)) == GEN
    assert access_review.scope_for(lead, "gen") == review
    assert access_review.scope_for(lead, "other") is None
    assert access_review.scope_for(lead, "_trust") is None
    assert access_review.scopes_offered(lead) == [review]


def test_an_administrator_reviews_a_site_or_the_whole_trust_and_nobody_else_reviews(app, ctx, staff):
    admin = person(staff["admin@trust.invalid"])
    whole = access_review.scope_for(admin, None)
    assert whole is not None and whole.site_id is None and access_review.scope_for(admin, "_trust") == whole
    assert set(rows_of(whole)) == GEN | OTHER | {"admin@trust.invalid"}
    other = access_review.scope_for(admin, "OTHER")
    assert other is not None and set(rows_of(other)) == OTHER
    assert access_review.scope_for(admin, "nowhere") is None
    assert [s.code for s in access_review.scopes_offered(admin)] == ["_trust", "gen", "other"]
    for email in ("nurse@gen.invalid", "ccot@gen.invalid"):
        assert access_review.scope_for(person(staff[email]), None) is None


def test_each_row_says_where_the_account_works_and_how_it_signs_in(app, ctx, staff):
    whole = access_review.scope_for(person(staff["admin@trust.invalid"]), None)
    rows = rows_of(whole)
    nurse, lead, both, admin = (
        rows[e] for e in ("nurse@gen.invalid", "lead@gen.invalid", "both@trust.invalid", "admin@trust.invalid")
    )
    assert (nurse.role, nurse.where, nurse.signs_in_with) == ("Ward staff", "Ward 7, General Hospital", "Password")
    assert nurse.authenticator == "Not set up (not needed)"
    # A manager's sign-in asks for a code: one made by create-user sets up the authenticator at their first sign-in.
    assert (lead.role, lead.where, lead.signs_in_with) == ("Manager", "General Hospital", "Password and authenticator")
    assert lead.authenticator == "Not set up: it is set up at the next sign-in"
    assert (both.sites, both.teams, both.where) == (
        "General Hospital, Other Hospital",
        "Other Outreach, Outreach Team",
        "Other Outreach, Outreach Team",
    )
    assert (admin.role, admin.where, admin.signs_in_with) == (
        "Administrator",
        "The whole trust",
        "Password and authenticator",
    )
    assert access_review.Summary.of(list(rows.values())) == access_review.Summary(7, 7, 0, 3)

    person(staff["lead@gen.invalid"]).totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    person(staff["nurse@gen.invalid"]).must_enrol_mfa = True
    person(staff["ccot@gen.invalid"]).totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    rows = rows_of(whole)
    assert rows["lead@gen.invalid"].authenticator == "Set up"
    assert rows["nurse@gen.invalid"].authenticator == "Reset: a new one is set up at the next sign-in"
    # Set up by choice, but outreach are not asked for a code unless the trust asks it of every role.
    assert rows["ccot@gen.invalid"].authenticator == "Set up (not asked for at sign-in)"
    assert rows["ccot@gen.invalid"].signs_in_with == "Password"
    settings = current_settings()
    hospital.save_settings(
        audit.Actor.cli(),
        trust_name=settings.trust_name,
        emergency_instruction=settings.emergency_instruction,
        outreach_phone=settings.outreach_phone,
        mfa_for_all_staff=True,
    )
    rows = rows_of(whole)
    assert rows["ccot@gen.invalid"].signs_in_with == "Password and authenticator"
    assert rows["ccot@gen.invalid"].authenticator == "Set up"


def test_an_account_nobody_uses_is_flagged_after_the_trusts_number_of_days(app, trust, read):
    """HAZ-085: an active account with no sign-in for the trust's number of days (90 until set) is flagged; a joiner
    who has not signed in yet only once that long has passed since it was made; a deactivated one never."""
    start = datetime(2027, 1, 4, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        joiner, _ = create_staff(app, "ward_staff", email="joiner@gen.invalid", ward_id=trust["ward"])
        regular, _ = create_staff(app, "ward_staff", email="regular@gen.invalid", ward_id=trust["ward"])
        create_staff(app, "ward_staff", email="leaver@gen.invalid", ward_id=trust["ward"], active=False)
    with time_machine.travel(start + timedelta(days=30), tick=False), app.app_context(), write_intent():
        sessions.start_session(person(regular), user_agent="pytest", address="127.0.0.1")
        db.session.commit()

    def flagged(days_on: int) -> set[str]:
        with time_machine.travel(start + timedelta(days=days_on), tick=False), app.app_context():
            review = access_review.ReviewScope(trust["site"], "gen", "General Hospital")
            days = current_settings().access_review_unused_days
            return {row.email for row in access_review.accounts(review, utcnow(), days) if row.unused}

    assert flagged(89) == set()
    assert flagged(91) == {"joiner@gen.invalid"}
    assert flagged(121) == {"joiner@gen.invalid", "regular@gen.invalid"}
    # The trust shortens it to 30 days: the regular's last sign-in, 31 days before, now counts as unused.
    result = app.test_cli_runner().invoke(args=[*SETUP_TRUST, "--access-review-unused-days", "30"])
    assert result.exit_code == 0, result.output
    assert read.one(Settings).access_review_unused_days == 30
    assert flagged(61) == {"joiner@gen.invalid", "regular@gen.invalid"}
    assert flagged(59) == {"joiner@gen.invalid"}
    saved = read.one(AuditEvent, AuditEvent.action == "access_review_days_saved")
    assert (saved.actor_type, saved.changes) == ("cli", {"from": 90, "to": 30})


@pytest.mark.parametrize("days", [0, 6, 366])
def test_the_number_of_days_is_refused_outside_its_range(app, trust, days, read):
    result = app.test_cli_runner().invoke(args=[*SETUP_TRUST, "--access-review-unused-days", str(days)])
    assert result.exit_code != 0 and "between 7 and 365" in result.output
    assert read.one(Settings).access_review_unused_days == 90


def test_the_csv_has_every_row_and_no_cell_a_spreadsheet_would_run(app, ctx, staff):
    person(staff["nurse@gen.invalid"]).display_name = '=HYPERLINK("http://evil.invalid","Nia")'
    person(staff["ccot@gen.invalid"]).display_name = "+44 Cai"
    person(staff["lead@gen.invalid"]).last_sign_in_at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    person(staff["lead@gen.invalid"]).active = False
    db.session.flush()
    whole = access_review.scope_for(person(staff["admin@trust.invalid"]), None)
    text = access_review.csv_text(access_review.accounts(whole, utcnow(), 90), tz="Europe/London", days=90)
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(table[0]) == [
        "Name",
        "Email",
        "Role",
        "Site",
        "Teams",
        "Ward",
        "Active",
        "Last sign-in",
        "Unused for 90 days or more",
        "Authenticator set up",
        "Authenticator needed",
        "Signs in with",
        "Account created",
    ]
    by_email = {row["Email"]: row for row in table}
    assert set(by_email) == GEN | OTHER | {"admin@trust.invalid"}
    assert by_email["nurse@gen.invalid"]["Name"] == '\'=HYPERLINK("http://evil.invalid","Nia")'
    assert by_email["ccot@gen.invalid"]["Name"] == "'+44 Cai"
    lead = by_email["lead@gen.invalid"]
    # Local time (BST in July), and a deactivated account is never flagged unused.
    assert (lead["Last sign-in"], lead["Active"], lead["Unused for 90 days or more"]) == (
        "2026-07-02 00:30",
        "No",
        "No",
    )
    assert (lead["Authenticator set up"], lead["Authenticator needed"], lead["Signs in with"]) == (
        "No",
        "Yes",
        "Password and authenticator",
    )
    nurse = by_email["nurse@other.invalid"]
    assert (nurse["Site"], nurse["Ward"], nurse["Last sign-in"], nurse["Role"]) == (
        "Other Hospital",
        "Other Ward",
        "Never",
        "Ward staff",
    )
    assert by_email["both@trust.invalid"]["Teams"] == "Other Outreach, Outreach Team"


def test_the_months_review_is_recorded_once_for_each_scope_and_audited(app, ctx, staff):
    lead = person(staff["lead@gen.invalid"])
    admin = person(staff["admin@trust.invalid"])
    gen = access_review.scope_for(lead, None)
    whole = access_review.scope_for(admin, None)
    march = datetime(2027, 3, 31, 22, 30, tzinfo=UTC)  # 23:30 on 31 March in London
    for account in db.session.scalars(db.select(User)):
        account.created_at = march - timedelta(days=1)  # joiners of the day before: none unused
    month = access_reviews.this_month(march, "Europe/London")
    assert month.isoformat() == "2027-03-01"
    assert access_reviews.state(gen, month).due

    row = access_reviews.record(lead, gen, now=march, tz="Europe/London", days=90)
    assert (row.month, row.site_id, row.reviewed_by_id, row.accounts, row.unused) == (month, gen.site_id, lead.id, 4, 0)
    state = access_reviews.state(gen, month)
    assert not state.due and state.done == row and state.last == row
    # Once a month for the site: a second press, by anyone, is refused with who did it.
    with pytest.raises(AccessReviewProblem, match="already recorded by Gwen Lead on 31 March at 23:30"):
        access_reviews.record(admin, gen, now=march, tz="Europe/London", days=90)
    # The whole trust is a review of its own; the site's does not cover it.
    assert access_reviews.state(whole, month).due
    trust_row = access_reviews.record(admin, whole, now=march, tz="Europe/London", days=90)
    assert trust_row.accounts == 7
    with pytest.raises(AccessReviewProblem, match="once a month"):
        access_reviews.record(admin, whole, now=march + timedelta(minutes=5), tz="Europe/London", days=90)
    # A new month (in London: 00:30 on 1 April is still 31 March in UTC) is due again, and is recorded.
    april = march + timedelta(hours=1)
    assert access_reviews.this_month(april, "Europe/London").isoformat() == "2027-04-01"
    april_state = access_reviews.state(gen, access_reviews.this_month(april, "Europe/London"))
    assert april_state.due and april_state.last == trust_row
    access_reviews.record(lead, gen, now=april, tz="Europe/London", days=90)
    assert db.session.scalar(db.select(db.func.count()).select_from(AccessReview)) == 3

    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "access_review_recorded").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.changes["month"], e.changes["site_id"]) for e in events] == [
        (lead.id, "2027-03", gen.site_id),
        (admin.id, "2027-03", None),
        (lead.id, "2027-04", gen.site_id),
    ]
    assert events[0].changes == {
        "month": "2027-03",
        "site_id": gen.site_id,
        "accounts": 4,
        "active": 4,
        "unused": 0,
        "no_authenticator": 1,
        "unused_days": 90,
    }


def test_the_whole_trusts_review_covers_each_site_for_the_month(app, ctx, staff):
    admin = person(staff["admin@trust.invalid"])
    now = datetime(2027, 5, 10, 9, tzinfo=UTC)
    access_reviews.record(admin, access_review.scope_for(admin, None), now=now, tz="Europe/London", days=90)
    other = access_review.scope_for(admin, "other")
    state = access_reviews.state(other, access_reviews.this_month(now, "Europe/London"))
    assert not state.due and state.done is None and state.covered_by.site_id is None


@pytest.mark.parametrize("whole_trust", [False, True])
def test_two_presses_at_once_record_one_review(app, ctx, staff, monkeypatch, whole_trust):
    """The database keeps one row per month and scope (its partial unique indexes) even when a second press gets past
    the check before the first is saved: it is refused in words, and the first is kept."""
    lead, admin = person(staff["lead@gen.invalid"]), person(staff["admin@trust.invalid"])
    review = access_review.scope_for(admin, None) if whole_trust else access_review.scope_for(lead, None)
    now = utcnow()
    first = access_reviews.record(lead if not whole_trust else admin, review, now=now, tz="Europe/London", days=90)
    monkeypatch.setattr(access_reviews, "_own", lambda review: db.false())  # the check finds nothing, as in a race
    with pytest.raises(AccessReviewProblem, match="already recorded"):
        access_reviews.record(admin, review, now=now, tz="Europe/London", days=90)
    assert db.session.scalars(db.select(AccessReview)).all() == [first]
    assert (
        db.session.scalar(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "access_review_recorded")
        )
        == 1
    )
