"""`flask tracker ...`: operations on the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import select

from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Population, Role, Ward
from tracker.services.people.users import create_user
from tracker.services.records import audit
from tracker.services.records.audit import verify_chain
from tracker.services.setup import hospital
from tracker.services.setup.demo import demo_exists, seed_demo
from tracker.services.setup.hospital import SetupProblem

tracker_cli = AppGroup("tracker", help="Martha's Rule Tracker operations.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _commit_or_fail(action):
    """Run `action` in one write transaction; a SetupProblem becomes a plain message."""
    with write_intent():
        try:
            result = action()
            db.session.commit()
            return result
        except SetupProblem as problem:
            db.session.rollback()
            _fail(str(problem))


@tracker_cli.command("seed-demo")
def seed_demo_command():
    """Create the demo trust and print the demo users' one-time passwords (once)."""
    accounts = _commit_or_fail(lambda: seed_demo(audit.Actor.cli()))
    _print_accounts(accounts)


def _print_accounts(accounts):
    click.echo("Demo trust created. One-time passwords (shown once; each must be changed at first sign-in):")
    for email, role, password in accounts:
        click.echo(f"  {role:<11} {email:<42} {password}")


@tracker_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--team", "team_codes", multiple=True, help="Team code (outreach clinicians); repeat for several.")
@click.option("--ward", "ward_code", help="Ward code (ward staff).")
@click.option("--site", "site_code", help="Site code (managers).")
@click.option("--mobile", help="Mobile number for alerts.")
def create_user_command(email, display_name, role, team_codes, ward_code, site_code, mobile):
    """Create a staff account and print its one-time password (once)."""

    def action():
        user, password = create_user(
            audit.Actor.cli(),
            email=email,
            display_name=display_name,
            role=Role(role),
            teams=[hospital.team_by_code(code) for code in team_codes],
            ward=hospital.ward_by_code(ward_code) if ward_code else None,
            site=hospital.site_by_code(site_code) if site_code else None,
            mobile=mobile,
        )
        return user.email, password

    email, password = _commit_or_fail(action)
    click.echo(f"Created {email}. One-time password (shown once; must be changed at first sign-in): {password}")


@tracker_cli.command("reset-password")
@click.option("--email", required=True)
def reset_password_command(email):
    """Give someone a new one-time password (shown once) and end their sessions."""
    from tracker.services.people.users import reset_password

    user_email, password = _commit_or_fail(
        lambda: (lambda pair: (pair[0].email, pair[1]))(reset_password(audit.Actor.cli(), email))
    )
    click.echo(f"New one-time password for {user_email} (shown once; must be changed at sign-in): {password}")


@tracker_cli.command("reset-mfa")
@click.argument("email")
def reset_mfa_command(email):
    """Reset a lost authenticator: the old one stops working, the person's sessions end, and their
    next sign-in must set up a new one. Audited."""
    from tracker.services.people.auth import reset_mfa

    def reset():
        try:
            return reset_mfa(audit.Actor.cli(), email).email
        except LookupError:
            raise SetupProblem(f"No account has the email address {email!r}.") from None

    user_email = _commit_or_fail(reset)
    click.echo(
        f"Authenticator reset for {user_email}: their sessions have ended, and they must set up a new "
        "authenticator app the next time they sign in."
    )


@tracker_cli.command("verify-audit")
def verify_audit_command():
    """Check the audit trail's hash chain from the first event to the last."""
    report = verify_chain()
    _record_full_check(report)
    if report.ok:
        click.echo(f"Audit chain intact: {report.events_checked} events verified.")
        return
    click.echo(
        f"AUDIT CHAIN BROKEN at event {report.first_broken_id}: {report.problem}. "
        f"{report.events_checked} events before it verified.",
        err=True,
    )
    sys.exit(1)


def _record_full_check(report) -> None:
    """Save the result as a full checkpoint: the audit viewer continues from it (services/records/audit_log.py)."""
    from tracker.services.records import audit_log

    db.session.commit()  # end the read; the checkpoint is a short write of its own
    with write_intent():
        db.session.add(audit_log.full_checkpoint(report))
        db.session.commit()


@tracker_cli.command("purge")
@click.option(
    "--dry-run", is_flag=True, help="List the calls that are due and those kept under legal hold; change nothing."
)
@click.option(
    "--batch", type=click.IntRange(1, 5000), default=200, show_default=True, help="Calls destroyed per transaction."
)
def purge_command(dry_run, batch):
    """Destroy the personal data of calls past their retention period (docs/facts.md#retention), keeping a stub
    (reference, dates, coded outcome) and an audit row for each. Calls under legal hold are kept."""
    from tracker.services.records import retention

    due = list(retention.candidates())
    held = [c for c in due if c.held]
    to_purge = [c for c in due if not c.held]
    if dry_run:
        click.echo(f"Due for destruction: {len(to_purge)} call{'s' if len(to_purge) != 1 else ''}.")
        for c in to_purge:
            click.echo(
                f"  {c.reference}  finished {c.ended.date().isoformat()}  due {c.due.date.isoformat()}  ({c.due.rule})"
            )
        click.echo(f"Kept under legal hold although due: {len(held)}.")
        for c in held:
            click.echo(
                f"  {c.reference}  finished {c.ended.date().isoformat()}  due {c.due.date.isoformat()}  ({c.due.rule})"
            )
        db.session.rollback()  # only read
        return
    db.session.commit()  # the list was a read; each batch below is a write transaction of its own
    destroyed = skipped = 0
    for start in range(0, len(to_purge), batch):
        with write_intent():
            for candidate in to_purge[start : start + batch]:
                try:
                    retention.purge(candidate, audit.Actor.cli())
                    destroyed += 1
                except retention.LegalHold:
                    skipped += 1  # a hold set since the list was made
            db.session.commit()
    click.echo(
        f"Destroyed the personal data of {destroyed} call{'s' if destroyed != 1 else ''}; "
        f"kept {len(held) + skipped} under legal hold."
    )


@tracker_cli.command("report-facts")
@click.option("--check", "check_only", is_flag=True, help="Only report calls whose facts disagree; change nothing.")
def report_facts_command(check_only):
    """Recompute each call's report facts (its local day, time and weekday in the trust's time zone,
    and its clocks' durations) from its timestamps. Saving a new time zone does this by itself; run
    it after restoring calls written by other means, or with --check to see whether any is wrong."""
    from tracker.services.reports import report_facts
    from tracker.services.setup.settings import current_settings

    tz_name = current_settings().timezone
    if check_only:
        wrong, examples = report_facts.check(tz_name)
        db.session.rollback()  # only read
        for example in examples:
            click.echo(f"  call {example['id']}: has {example['found']}, should have {example['expected']}")
        if wrong:
            click.echo(
                f"{wrong} call{'s' if wrong != 1 else ''} with report facts that disagree with their "
                f"timestamps (time zone {tz_name}): run flask tracker report-facts to fix them.",
                err=True,
            )
            sys.exit(1)
        click.echo(f"Every call's report facts agree with its timestamps (time zone {tz_name}).")
        return
    with write_intent():
        changed = report_facts.recompute(tz_name)
        if changed:
            audit.record("report_facts_recomputed", audit.Actor.cli(), changes={"calls": changed, "timezone": tz_name})
        db.session.commit()
    click.echo(f"Report facts rewritten for {changed} call{'s' if changed != 1 else ''} (time zone {tz_name}).")


@tracker_cli.command("worker")
@click.option("--once", is_flag=True, help="Process one batch and exit.")
def worker_command(once):
    """Send due outbox messages and keep the heartbeat, until stopped (SIGTERM)."""
    from tracker.worker import Worker

    worker = Worker(current_app._get_current_object())  # type: ignore[attr-defined]  # a proxy typed as Flask
    if once:
        report = worker.run_once()
        click.echo(f"handled {report.handled}: {report.outcomes}")
        return
    worker.install_signal_handlers()
    worker.run()


@tracker_cli.command("setup-trust")
@click.option("--name", "trust_name", required=True)
@click.option("--emergency-instruction", required=True, help="Shown on every family page, word for word.")
@click.option("--outreach-phone", required=True, help="Shown before a ward is chosen.")
@click.option("--pals-phone")
@click.option("--text-relatives/--no-text-relatives", default=False, help="Your IG decision: may relatives be texted?")
@click.option("--sms-regions", default="GB", show_default=True, help="Countries whose mobiles may be texted.")
@click.option("--privacy-contact")
@click.option(
    "--idle-timeout-minutes",
    type=int,
    default=30,
    show_default=True,
    help="Staff are signed out after this long without using the tracker (5–30).",
)
@click.option(
    "--mfa-for-all-staff/--mfa-for-managers-and-admins",
    default=False,
    help="Require an authenticator code from every staff role, not only managers and admins.",
)
@click.option(
    "--in-hours-start",
    metavar="HH:MM",
    help="Reports: when in hours begins on weekdays, local time (default 08:00; unchanged if omitted).",
)
@click.option(
    "--in-hours-end",
    metavar="HH:MM",
    help="Reports: when in hours ends on weekdays, local time (default 18:00; unchanged if omitted).",
)
@click.option(
    "--bank-holiday-region",
    type=click.Choice(["england-and-wales", "scotland", "northern-ireland"]),
    help="Reports: whose bank holidays are out of hours (default england-and-wales; unchanged if omitted).",
)
@click.option(
    "--retention-adult-years",
    type=int,
    help="Keep an adult's call this many years after it ended (at least 8; unchanged if omitted).",
)
@click.option(
    "--retention-child-until-age",
    type=int,
    help="Keep a child's call until this birthday (at least 25; unchanged if omitted).",
)
@click.option(
    "--retention-complaint-years",
    type=int,
    help="Keep a call linked to a complaint this many years (at least 10; unchanged if omitted).",
)
@click.option(
    "--retention-serious-incident-years",
    type=int,
    help="Keep a call linked to a serious incident this many years (at least 20; unchanged if omitted).",
)
def setup_trust_command(**options):
    """Save the trust's settings (run again to change them)."""

    def action():
        settings = hospital.save_settings(
            audit.Actor.cli(),
            trust_name=options["trust_name"],
            emergency_instruction=options["emergency_instruction"],
            outreach_phone=options["outreach_phone"],
            pals_phone=options["pals_phone"],
            text_relatives_allowed=options["text_relatives"],
            sms_allowed_regions=options["sms_regions"],
            privacy_contact=options["privacy_contact"],
            idle_timeout_minutes=options["idle_timeout_minutes"],
            mfa_for_all_staff=options["mfa_for_all_staff"],
        )
        if options["in_hours_start"] or options["in_hours_end"] or options["bank_holiday_region"]:
            _save_working_hours(settings, options)
        _save_retention(options)
        return settings

    _commit_or_fail(action)
    click.echo("Trust settings saved.")


def _save_working_hours(settings, options) -> None:
    from datetime import datetime, time

    from tracker.services.reports.working_hours import HoursProblem, save_working_hours

    def clock(value: str | None, current: time | None, default: time) -> time:
        if not value:
            return current or default
        try:
            return datetime.strptime(value.strip(), "%H:%M").time()
        except ValueError:
            raise SetupProblem(
                f"Times are given as HH:MM on the 24-hour clock, like 08:00 or 18:30, not {value!r}"
            ) from None

    try:
        save_working_hours(
            audit.Actor.cli(),
            start=clock(options["in_hours_start"], settings.in_hours_start, time(8)),
            end=clock(options["in_hours_end"], settings.in_hours_end, time(18)),
            region=options["bank_holiday_region"] or settings.bank_holiday_region or "england-and-wales",
        )
    except HoursProblem as problem:
        raise SetupProblem(str(problem)) from None


def _save_retention(options) -> None:
    from tracker.services.records.retention import RetentionProblem, save_retention

    periods = {
        name: options[name]
        for name in (
            "retention_adult_years",
            "retention_child_until_age",
            "retention_complaint_years",
            "retention_serious_incident_years",
        )
    }
    if any(value is not None for value in periods.values()):
        try:
            save_retention(audit.Actor.cli(), **periods)
        except RetentionProblem as problem:
            raise SetupProblem(str(problem)) from None


@tracker_cli.command("add-site")
@click.option("--code", required=True)
@click.option("--name", required=True)
def add_site_command(code, name):
    """Add a hospital site."""
    site = _commit_or_fail(lambda: hospital.add_site(audit.Actor.cli(), code=code, name=name))
    click.echo(f"Added site {site.code}.")


@tracker_cli.command("add-team")
@click.option("--code", required=True)
@click.option("--site", "site_code", required=True)
@click.option("--name", required=True)
@click.option("--population", type=click.Choice([p.value for p in Population]), default="adult", show_default=True)
@click.option("--public-phone", required=True, help="The number families may phone.")
@click.option("--duty-phone", help="The on-call mobile that receives text alerts.")
@click.option("--ack-minutes", type=int, default=5, show_default=True)
@click.option("--review-minutes", type=int, default=30, show_default=True)
def add_team_command(code, site_code, name, population, public_phone, duty_phone, ack_minutes, review_minutes):
    """Add an outreach team."""
    team = _commit_or_fail(
        lambda: hospital.add_team(
            audit.Actor.cli(),
            code=code,
            site=hospital.site_by_code(site_code),
            name=name,
            population=Population(population),
            public_phone=public_phone,
            duty_phone=duty_phone,
            ack_target_minutes=ack_minutes,
            review_target_minutes=review_minutes,
        )
    )
    click.echo(f"Added team {team.code}.")


@tracker_cli.command("add-ward")
@click.option("--code", required=True, help="Permanent: becomes the ward's link, /w/<code>.")
@click.option("--name", required=True)
@click.option("--site", "site_code", required=True)
@click.option("--team", "team_code", required=True)
@click.option("--population", type=click.Choice([p.value for p in Population]), default="adult", show_default=True)
@click.option("--beds", default="", help="Bed or bay labels, comma-separated (optional).")
@click.option("--nurse-in-charge-phone")
@click.option("--kiosk/--no-kiosk", default=False, help="Open its link in kiosk mode (a ward tablet).")
def add_ward_command(code, name, site_code, team_code, population, beds, nurse_in_charge_phone, kiosk):
    """Add a ward and print its permanent link (for the poster's QR code)."""
    ward = _commit_or_fail(
        lambda: hospital.add_ward(
            audit.Actor.cli(),
            code=code,
            name=name,
            site=hospital.site_by_code(site_code),
            team=hospital.team_by_code(team_code),
            population=Population(population),
            beds=[b for b in beds.split(",") if b.strip()],
            nurse_in_charge_phone=nurse_in_charge_phone,
            kiosk_default=kiosk,
        )
    )
    click.echo(f"Added ward {ward.code}. Its permanent link: {current_app.config['PUBLIC_BASE_URL']}/w/{ward.code}")


@tracker_cli.command("retire-ward")
@click.argument("code")
@click.option("--successor", "successor_code", help="The ward its patients moved to (offered on the old link).")
def retire_ward_command(code, successor_code):
    """Retire a ward: its link keeps working and explains, offering the other wards."""
    _commit_or_fail(
        lambda: hospital.retire_ward(
            audit.Actor.cli(),
            hospital.ward_by_code(code),
            hospital.ward_by_code(successor_code) if successor_code else None,
        )
    )
    click.echo(f"Retired ward {code}.")


@tracker_cli.command("list-wards")
def list_wards_command():
    """Print every ward's permanent link."""
    base = current_app.config["PUBLIC_BASE_URL"]
    for ward in db.session.scalars(select(Ward).order_by(Ward.site_id, Ward.name)):
        state = "retired" if ward.is_retired else ("kiosk" if ward.kiosk_default else "open")
        click.echo(f"{ward.code:<20} {state:<8} {base}/w/{ward.code}   {ward.name}")


@tracker_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn sync workers.")
def serve_command(host, port, workers):
    """Upgrade the database, seed the demo trust if it is empty (not in production), then run
    the web server (gunicorn) and the worker together until interrupted."""
    upgrade()
    if not demo_exists() and current_app.config["ALLOW_DEMO_SEED"]:
        _print_accounts(_commit_or_fail(lambda: seed_demo(audit.Actor.cli())))
    db.session.remove()
    env = dict(os.environ)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "worker"], env=env)  # noqa: S603
    # A long timeout: a large Excel export is built before its first byte (the CSV streams).
    web = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),  # noqa: S603
            "--bind",
            f"{host}:{port}",
            "--timeout",
            "300",
            "--access-logfile",
            "-",
            "wsgi:app",
        ],
        env=env,
    )
    click.echo(f"Martha's Rule Tracker on http://{host}:{port} (worker pid {worker.pid}). Ctrl-C stops both.")

    def stop(*_args):
        for process in (web, worker):
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while web.poll() is None and worker.poll() is None:
            try:
                web.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for process in (web, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    if worker.returncode not in (0, None, -signal.SIGTERM) or web.returncode not in (0, None, -signal.SIGTERM):
        sys.exit(1)
