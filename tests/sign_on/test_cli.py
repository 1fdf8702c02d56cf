"""`flask tracker link-account`, `unlink-account` and `break-glass` (docs/architecture.md#sign-on): the same
service the staff page will call, refusals in plain words, every change audited."""

from __future__ import annotations

from tests.sign_on.conftest import sign_on_as, staff
from tracker.models import AuditEvent, SignOnLink, User


def run(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", *args])


def test_an_administrator_links_an_account_by_issuer_and_subject(sso_app, sso_client, provider, trust, read):
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])
    staff(sso_app, "admin", email="glass@test.invalid")
    assert run(sso_app, "break-glass", "glass@test.invalid").exit_code == 0
    done = run(sso_app, "link-account", "Nurse@Test.invalid", provider.issuer, "nurse-sub")
    assert done.exit_code == 0, done.output
    assert "Linked nurse@test.invalid" in done.output
    link = read.one(SignOnLink)
    assert (link.issuer, link.subject) == (provider.issuer, "nurse-sub")
    event = read.one(AuditEvent, AuditEvent.action == "sign_on_linked")
    assert event.actor_type == "cli" and event.changes == {"by_self": False}
    assert sign_on_as(sso_client, provider, "nurse-sub").headers["Location"] == "/triage/"


def test_linking_refuses_another_issuer_a_taken_subject_and_a_second_link(sso_app, provider, trust, read):
    staff(sso_app, "outreach", email="one@test.invalid", team_ids=[trust["team"]])
    staff(sso_app, "outreach", email="two@test.invalid", team_ids=[trust["team"]])
    staff(sso_app, "admin", email="glass@test.invalid")
    before_glass = run(sso_app, "link-account", "one@test.invalid", provider.issuer, "sub-1")
    assert before_glass.exit_code != 0 and "break-glass" in before_glass.output
    run(sso_app, "break-glass", "glass@test.invalid")
    elsewhere = run(sso_app, "link-account", "one@test.invalid", "https://login.example.org", "sub-1")
    assert (
        elsewhere.exit_code != 0
        and f"must be the one this tracker signs on with: {provider.issuer}" in elsewhere.output
    )
    assert run(sso_app, "link-account", "one@test.invalid", provider.issuer, "sub 1").exit_code != 0
    assert run(sso_app, "link-account", "one@test.invalid", provider.issuer, "sub-1").exit_code == 0
    taken = run(sso_app, "link-account", "two@test.invalid", provider.issuer, "sub-1")
    assert taken.exit_code != 0 and "already linked to another account" in taken.output
    again = run(sso_app, "link-account", "one@test.invalid", provider.issuer, "sub-2")
    assert again.exit_code != 0 and "already linked" in again.output
    unknown = run(sso_app, "link-account", "nobody@test.invalid", provider.issuer, "sub-3")
    assert unknown.exit_code != 0 and "No account has the email address" in unknown.output
    assert read.count(SignOnLink) == 1


def test_unlinking_gives_the_password_back(sso_app, provider, trust, read):
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], link="nurse-sub")
    done = run(sso_app, "unlink-account", "nurse@test.invalid")
    assert done.exit_code == 0 and "no longer linked" in done.output
    assert read.count(SignOnLink) == 0
    assert read.count(AuditEvent, AuditEvent.action == "sign_on_unlinked") == 1
    assert run(sso_app, "unlink-account", "nurse@test.invalid").exit_code != 0


def test_break_glass_is_for_administrators_and_the_last_one_stays(sso_app, trust, read):
    staff(sso_app, "manager", email="manager@test.invalid", site_id=trust["site"])
    staff(sso_app, "admin", email="admin@test.invalid")
    refused = run(sso_app, "break-glass", "manager@test.invalid")
    assert refused.exit_code != 0 and "Only an active administrator" in refused.output
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], link="nurse-sub")
    glass = read.one(User, User.break_glass.is_(True))  # made when the first account was linked
    last = run(sso_app, "break-glass", glass.email, "--off")
    assert last.exit_code != 0 and "At least one administrator must stay break-glass" in last.output
    assert run(sso_app, "break-glass", "admin@test.invalid").exit_code == 0
    assert run(sso_app, "break-glass", glass.email, "--off").exit_code == 0
    changes = [e.changes for e in read.all(AuditEvent, AuditEvent.action == "break_glass_set")]
    assert changes == [{"on": True}, {"on": False}]


def test_nothing_is_linked_without_sign_on_configured(app, trust):
    staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])
    refused = run(app, "link-account", "nurse@test.invalid", "https://login.example.org", "sub")
    assert refused.exit_code != 0 and "Sign-on is not set up" in refused.output
