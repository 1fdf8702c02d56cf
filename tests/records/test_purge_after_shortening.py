"""HAZ-084: a retention period shortened by mistake. For 14 days after a period is made shorter, `flask tracker purge`
removes nothing unless it is run with --confirm-shortened-retention (audited); the dry run still lists what is due, a
longer period never holds the purge, and after 14 days the purge runs as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import build_trust
from tests.services.test_retention import old_call
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, DailyCheckAnswer
from tracker.services.records import audit, retention

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Ended 9 years before NOW: kept under a 10-year adult period, due under the Code's 8.
ENDED = datetime(2017, 11, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def shortened(ctx):
    """The trust kept adults' calls 10 years, then (a day before NOW) shortened it to 8: one call became due."""
    with time_machine.travel(NOW - timedelta(days=40), tick=False):
        built = build_trust()
        retention.save_retention(audit.Actor.cli(), retention_adult_years=10)
        db.session.commit()
    reference = old_call(built["ward"], 1, when=ENDED).reference
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        retention.save_retention(audit.Actor.cli(), retention_adult_years=8)
        db.session.commit()  # this test's own session lets go of SQLite's write lock: the command writes
    return reference


def purge(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", "purge", *args])


def test_purge_removes_nothing_for_14_days_after_a_period_is_shortened(app, shortened, read):
    with time_machine.travel(NOW, tick=False):
        dry = purge(app, "--dry-run")
        assert dry.exit_code == 0 and shortened in dry.output  # the dry run still lists what is due

        refused = purge(app)
    assert refused.exit_code == 1
    assert "Nothing removed: a retention period was shortened on 30 November 2026" in refused.output
    assert "--confirm-shortened-retention" in refused.output
    assert read.count(Concern, Concern.purged_at.is_not(None)) == 0
    assert read.count(AuditEvent, AuditEvent.action == "personal_data_destroyed") == 0
    assert read.count(DailyCheckAnswer, DailyCheckAnswer.purged_at.is_not(None)) == 0

    with time_machine.travel(NOW + timedelta(days=12), tick=False):
        assert purge(app).exit_code == 1  # still within the 14 days
    with time_machine.travel(NOW + timedelta(days=14), tick=False):
        later = purge(app)
    assert later.exit_code == 0, later.output
    assert [c.reference for c in read.all(Concern, Concern.purged_at.is_not(None))] == [shortened]


def test_the_confirmation_option_purges_at_once_and_is_audited(app, shortened, read):
    with time_machine.travel(NOW, tick=False):
        confirmed = purge(app, "--confirm-shortened-retention")
    assert confirmed.exit_code == 0, confirmed.output
    assert "Destroyed the personal data of 1 call" in confirmed.output
    assert [c.reference for c in read.all(Concern, Concern.purged_at.is_not(None))] == [shortened]
    (event,) = read.all(AuditEvent, AuditEvent.action == "purge_shortened_retention_confirmed")
    assert event.object_type == "settings_version" and event.actor_type == "cli"


def test_a_longer_period_never_holds_the_purge(app, ctx, read):
    with time_machine.travel(NOW - timedelta(days=40), tick=False):
        built = build_trust()
    reference = old_call(built["ward"], 1, when=datetime(2016, 11, 1, tzinfo=UTC)).reference
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        retention.save_retention(audit.Actor.cli(), retention_complaint_years=15, retention_adult_years=9)
        db.session.commit()  # the command writes
    with time_machine.travel(NOW, tick=False):
        result = purge(app)
    assert result.exit_code == 0, result.output
    assert [c.reference for c in read.all(Concern, Concern.purged_at.is_not(None))] == [reference]
