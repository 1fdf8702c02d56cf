"""`flask tracker ...` commands."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SETUP_TRUST
from tracker.models import AuditEvent, Bed, Role, Settings, Site, Team, User, Ward
from tracker.services.people.passwords import verify_password


def run(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", *args])


def test_seed_demo_builds_the_demo_trust_and_prints_one_time_passwords_once(app, read):
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert read.count(Site) == 2 and read.count(Ward) == 8 and read.count(Team) == 3
    teams = read.all(Team)
    assert {t.population.value for t in teams} == {"adult", "paediatric"}
    assert all(t.duty_phone for t in teams)
    # Texts from numbers with no call go to the main site's adult team, without paging.
    settings = read.one(Settings)
    assert settings.text_in_team_id == read.one(Team, Team.code == "ngh-ccot").id and not settings.text_in_paging
    users = read.all(User)
    assert {u.role for u in users} == set(Role)
    passwords = dict(re.findall(r"(\S+@demo-hospitals\.invalid)\s+(\S+)", result.output))
    assert len(passwords) == len(users) == 6
    with app.app_context():
        for user in users:
            assert verify_password(user.password_hash, passwords[user.email]) and user.must_change_password
            assert passwords[user.email] not in user.password_hash
    again = run(app, "seed-demo")
    assert again.exit_code != 0 and "already has sites" in again.output


def test_the_demo_trust_has_someone_on_call_at_every_tier_around_the_clock(app, read):
    from datetime import timedelta

    from tracker.clock import utcnow
    from tracker.extensions import db
    from tracker.models import EscalationPolicy, Tier
    from tracker.services.paging import rota

    assert run(app, "seed-demo").exit_code == 0
    assert read.count(EscalationPolicy) == 2
    with app.app_context():
        adults = db.session.scalar(db.select(Team).where(Team.code == "ngh-ccot"))
        now = utcnow()
        assert rota.gaps(adults.id, now, now + timedelta(days=2)) == []
        for hours in (0, 6, 12, 18):
            people = rota.on_call(adults.id, now + timedelta(hours=hours))
            assert all(people[tier] and people[tier][0].can_be_alerted for tier in Tier)
            assert people[Tier.PRIMARY][0].user_id != people[Tier.SECONDARY][0].user_id


def test_seed_demo_is_refused_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_DEMO_SEED", False)
    result = run(app, "seed-demo")
    assert result.exit_code != 0 and "cannot be created in production" in result.output


def test_setting_up_a_trust_and_adding_a_ward_by_the_command_line(app, read):
    assert (
        run(
            app,
            "setup-trust",
            "--name",
            "Example NHS Trust",
            "--emergency-instruction",
            "Press the buzzer or call 2222.",
            "--outreach-phone",
            "020 7946 0100",
            "--text-relatives",
        ).exit_code
        == 0
    )
    assert run(app, "add-site", "--code", "main", "--name", "Main Hospital").exit_code == 0
    assert (
        run(
            app,
            "add-team",
            "--code",
            "main-ccot",
            "--site",
            "main",
            "--name",
            "CCOT",
            "--public-phone",
            "020 7946 0101",
            "--duty-phone",
            "07400 900101",
        ).exit_code
        == 0
    )
    result = run(
        app,
        "add-ward",
        "--code",
        "Ward-5",
        "--name",
        "Ward 5",
        "--site",
        "main",
        "--team",
        "main-ccot",
        "--beds",
        "Bay 1, Bay 2",
    )
    assert result.exit_code == 0, result.output
    assert "/w/ward-5" in result.output
    ward = read.one(Ward)
    assert ward.code == "ward-5"
    assert [(bed.label, bed.position) for bed in read.all(Bed, order_by=Bed.position)] == [("Bay 1", 0), ("Bay 2", 1)]
    assert read.one(Settings).text_relatives_allowed
    listing = run(app, "list-wards").output
    assert "ward-5" in listing
    actions = [e.action for e in read.all(AuditEvent)]
    assert actions == ["settings_changed", "site_added", "team_added", "ward_added", "bed_added", "bed_added"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["add-ward", "--code", "bad code!", "--name", "X", "--site", "gen", "--team", "gen-ccot"],
            "lower-case letters",
        ),
        (["add-ward", "--code", "w7", "--name", "Again", "--site", "gen", "--team", "gen-ccot"], "never reused"),
        (
            [
                "add-ward",
                "--code",
                "kids",
                "--name",
                "Kids",
                "--site",
                "gen",
                "--team",
                "gen-ccot",
                "--population",
                "paediatric",
            ],
            "paediatric outreach team",
        ),
        (
            [
                "add-team",
                "--code",
                "t2",
                "--site",
                "gen",
                "--name",
                "T",
                "--public-phone",
                "020 7946 0101",
                "--duty-phone",
                "020 7946 0102",
            ],
            "must be a mobile",
        ),
        (
            ["add-team", "--code", "t3", "--site", "nowhere", "--name", "T", "--public-phone", "020 7946 0101"],
            "No site",
        ),
        (["create-user", "--email", "not-an-email", "--name", "X", "--role", "admin"], "not an email address"),
        (["create-user", "--email", "a@b.invalid", "--name", "X", "--role", "outreach"], "needs a team"),
        (["retire-ward", "w-old"], "already retired"),
        (
            ["add-ward", "--code", "w9", "--name", "X", "--site", "gen", "--team", "gen-ccot", "--beds", "A,B,A"],
            "twice",
        ),
        (["update-ward", "w8"], "Say what to change"),
        (["update-ward", "w99", "--name", "X"], "No ward has the code"),
        (["update-ward", "w8", "--name", " "], "1–120 characters"),
        (["update-ward", "w8", "--nurse-in-charge-phone", "12"], "not a valid phone number"),
        (["update-ward", "w8", "--nurse-in-charge-phone", "020 7946 0300", "--no-nurse-in-charge-phone"], "not both"),
        (["update-ward", "w8", "--beds", "Bay 1," + "x" * 61], "at most 60 characters"),
    ],
)
def test_setup_commands_refuse_bad_input_with_a_plain_message(app, trust, args, message):
    result = run(app, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_create_user_prints_a_one_time_password_and_stores_only_its_hash(app, trust, read):
    result = run(
        app,
        "create-user",
        "--email",
        "Nurse@Example.NHS.uk",
        "--name",
        "A Nurse",
        "--role",
        "outreach",
        "--team",
        "gen-ccot",
        "--mobile",
        "07400 900555",
    )
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    user = read.one(User)
    assert user.email == "nurse@example.nhs.uk" and user.mobile == "+447400900555"
    assert user.password_hash.startswith("$argon2id$")
    with app.app_context():
        assert verify_password(user.password_hash, password) and not verify_password(user.password_hash, "guess")


def test_retiring_a_ward_keeps_its_link_working(app, trust, client):
    assert run(app, "retire-ward", "w8", "--successor", "w7").exit_code == 0
    assert client.get("/w/w8").status_code == 410


def test_the_worker_command_processes_a_batch(app, trust, family, sms):
    family.submit()
    result = run(app, "worker", "--once")
    assert result.exit_code == 0 and "'accepted': 2" in result.output
    assert len(sms.sent) == 2


def test_production_password_hashing_is_argon2id_with_p1_and_at_least_19_mib():
    from config import Config

    assert Config.ARGON2_PARALLELISM == 1
    assert 19 * 1024 <= Config.ARGON2_MEMORY_KIB <= 46 * 1024


def test_reset_password_gives_a_new_one_time_password_and_ends_sessions(app, trust, client, read):
    from tests.conftest import create_staff, sign_in_directly
    from tracker.models import SessionRecord

    user_id, _ = create_staff(app, "outreach", email="forgot@test.invalid", team_ids=[trust["team"]])
    sign_in_directly(app, client, user_id)
    result = run(app, "reset-password", "--email", "Forgot@test.invalid")
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert client.get("/triage/").status_code == 302
    user = read.one(User)
    assert user.must_change_password and read.one(SessionRecord).revoked_reason == "password_reset"
    with app.app_context():
        assert verify_password(user.password_hash, password)
    assert run(app, "reset-password", "--email", "nobody@test.invalid").exit_code != 0


def test_the_trust_chooses_the_idle_timeout_and_who_needs_a_second_factor(app, read):
    ok = run(
        app,
        "setup-trust",
        "--name",
        "T",
        "--emergency-instruction",
        "Buzzer.",
        "--outreach-phone",
        "020 7946 0100",
        "--idle-timeout-minutes",
        "15",
        "--mfa-for-all-staff",
    )
    assert ok.exit_code == 0, ok.output
    settings = read.one(Settings)
    assert settings.idle_timeout_minutes == 15 and settings.mfa_for_all_staff
    too_long = run(
        app,
        "setup-trust",
        "--name",
        "T",
        "--emergency-instruction",
        "Buzzer.",
        "--outreach-phone",
        "020 7946 0100",
        "--idle-timeout-minutes",
        "60",
    )
    assert too_long.exit_code != 0 and "between 5 and 30" in too_long.output


def test_serve_runs_the_web_server_and_the_worker_on_the_port_asked_for(tmp_path):
    """The README's first command: one process tree serving the app where it says, with the worker
    beating; SIGTERM stops both."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "TRACKER_CONFIG": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "SECRET_KEY": "serve-test-secret-key-of-enough-length-0123456789",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SMS_CONSOLE_LOG": str(tmp_path / "sms.jsonl"),
        "WORKER_HEARTBEAT_SECONDS": "0.5",
    }
    env.pop("TEST_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "serve", "--port", str(port), "--workers", "1"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                    health = json.loads(response.read())
                if health.get("worker") == "ok":
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read().decode(errors="replace")
            time.sleep(0.5)
        assert health is not None, "nothing answered on the port serve was given"
        assert health["worker"] == "ok", health
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/w/ngh-7b", timeout=10) as response:  # noqa: S310
            assert response.status == 200 and "Northgate" in response.read().decode()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        process.stdout.close()


def test_setup_trust_names_the_safeguarding_lead_shown_on_a_flagged_call(app, trust, read):
    from tracker.models import Settings

    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            *SETUP_TRUST,
            "--safeguarding-lead-name",
            "Dr Ada Lane",
            "--safeguarding-lead-phone",
            "020 7946 0555",
        ]
    )
    assert result.exit_code == 0, result.output
    settings = read.one(Settings)
    assert (settings.safeguarding_lead_name, settings.safeguarding_lead_phone) == ("Dr Ada Lane", "+442079460555")
