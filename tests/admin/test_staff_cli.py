"""The `flask tracker` commands for staff accounts use the same services as the Staff accounts page
(docs/architecture.md#set-up): an invitation link printed once, deactivation refused while the person is on the
rota unless --at-once, reactivation, and the sign-in counts cleared."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.conftest import create_staff
from tests.test_cli import run
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Team, Tier, User
from tracker.services.paging import rota
from tracker.services.records import audit


def test_create_user_prints_an_invitation_link_that_works_and_warns_of_a_landline(app, trust, client):
    result = run(
        app,
        "create-user",
        "--email",
        "nia@test.invalid",
        "--name",
        "Nia",
        "--role",
        "outreach",
        "--team",
        "gen-ccot",
        "--mobile",
        "020 7946 0101",
        "--invite",
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"https?://[^/\s]+(/auth/invitation/\S+)", result.output)
    assert link and "This number is a landline" in result.output
    assert client.get(link.group(1)).status_code == 200


def test_deactivate_user_is_refused_on_the_rota_unless_at_once_then_reactivated(app, trust, read):
    user_id, _ = create_staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])
    with app.app_context(), write_intent():
        rota.add_shift(
            audit.Actor.cli(),
            db.session.get_one(Team, trust["team"]),
            tier=Tier.PRIMARY,
            user_id=user_id,
            starts_at=utcnow(),
            ends_at=utcnow() + timedelta(hours=8),
        )
        db.session.commit()
    refused = run(app, "deactivate-user", "nurse@test.invalid")
    assert refused.exit_code != 0 and "is still on the rota" in refused.output
    assert read.one(User, User.id == user_id).active
    done = run(app, "deactivate-user", "Nurse@test.invalid", "--at-once", "left_without_notice")
    assert done.exit_code == 0, done.output
    assert not read.one(User, User.id == user_id).active
    assert (
        read.one(AuditEvent, AuditEvent.action == "user_deactivated_at_once").changes["reason"] == "left_without_notice"
    )
    assert run(app, "reactivate-user", "nurse@test.invalid").exit_code == 0
    assert read.one(User, User.id == user_id).active
    assert run(app, "clear-sign-in-counts", "nurse@test.invalid").exit_code == 0
    assert "No account has the email address" in run(app, "reactivate-user", "nobody@test.invalid").output
