"""A backup taken while texts wait or are being sent, restored after they went (deploy/README.md#restoring):
the worker on the restored database resumes and sends nothing twice (HAZ-094).

The backup and restore are deploy/backup-tracker and deploy/restore-tracker themselves: SQLite's online backup
on SQLite; pg_dump and pg_restore into a new database on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ON_POSTGRES, make_config
from tests.faults.conftest import DEADLINE, ROOT, Workers, all_final, settle
from tests.faults.helpers import (
    assert_each_accepted_message_reached_twilio_once,
    audit_changes,
    messages,
    raise_calls,
)
from tracker.models import SendState

LEASE_AND_MORE = 70  # seconds: past SMS_LEASE_SECONDS (60), short of the next escalation step (5 minutes)
NO_PG_TOOLS = "pg_dump or pg_restore not found: the PostgreSQL restore test needs the PostgreSQL client tools"


def run(script: str, *args: str, env: dict) -> str:
    done = subprocess.run(
        [str(ROOT / "deploy" / script), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{script} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def states(app) -> list[str]:
    return [m.send_state.value for m in messages(app)]


@pytest.mark.skipif(ON_POSTGRES and not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason=NO_PG_TOOLS)
def test_a_backup_taken_mid_send_and_restored_resends_nothing_already_sent(
    app, clock, twilio, workers, on_call, database_url, empty_database_url, build_app, tmp_path
):
    raise_calls(app, on_call["ward"], 3)  # an alert and a receipt each: one batch of six
    held = twilio.hold(nth=3)
    live_worker = workers.start()
    assert held.arrived.wait(DEADLINE), workers.logs()
    raise_calls(app, on_call["ward"], 1, first=3)  # two more, waiting behind the held batch
    # The backup: two texts sent, one at Twilio but not yet recorded, three leased, two waiting.
    assert states(app) == ["accepted", "accepted", *["sending"] * 4, "pending", "pending"]
    environment = {**workers.env, "TRACKER_APP_DIR": str(ROOT), "TRACKER_PYTHON": sys.executable}
    backup = run("backup-tracker", str(tmp_path / "backups"), env=environment).strip()

    # After the backup everything goes; then the server is lost.
    held.release()
    settle(app, workers, clock)
    all_final(app, workers)
    assert states(app) == ["accepted"] * 8
    workers.kill(live_worker)
    assert len(twilio.snapshot()) == 8

    restored_output = run("restore-tracker", backup, empty_database_url, env=environment)

    restored = build_app(make_config(empty_database_url))
    on_restored = Workers(restored, empty_database_url, twilio, clock, tmp_path / "restored")
    (tmp_path / "restored").mkdir()
    try:
        on_restored.start()
        clock.advance(seconds=LEASE_AND_MORE)
        settle(restored, on_restored, clock, "the worker on the restored database to finish")
        all_final(restored, on_restored)
    finally:
        on_restored.stop_all()

    rows = messages(restored)
    assert {m.send_state for m in rows} == {SendState.ACCEPTED}
    assert len(twilio.snapshot()) == 8, "a text already sent before the restore went again"
    assert_each_accepted_message_reached_twilio_once(rows, twilio)
    assert "6 texts and calls waiting or being sent" in restored_output  # the two recorded as sent were final
    assert "Audit chain intact" in restored_output
    reconciled = {c["_object_id"] for c in audit_changes(restored, "message_accepted") if c["reconciled"]}
    assert reconciled == {m.id for m in rows[2:]}  # each found at Twilio, none sent blind
    assert len(audit_changes(restored, "message_recheck_after_restore")) == 6
    assert os.stat(backup).st_mode & 0o077 == 0, "a backup holds personal data: the tracker user's alone"
