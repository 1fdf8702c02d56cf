"""`flask tracker` commands that set up the trust: its settings, sites, teams and wards."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from tracker.cli.group import _commit_or_fail, tracker_cli
from tracker.extensions import db
from tracker.models import Population, Settings, Team, Ward
from tracker.services.people import access_reviews
from tracker.services.records import audit
from tracker.services.setup import devices, hospital, phone_checks, tablets, trust_words
from tracker.services.setup.hospital import SetupProblem


@tracker_cli.command("setup-trust")
@click.option("--name", "trust_name", required=True)
@click.option("--emergency-instruction", required=True, help="Shown on every family page, word for word.")
@click.option("--outreach-phone", required=True, help="Shown before a ward is chosen.")
@click.option("--pals-phone")
@click.option("--text-relatives/--no-text-relatives", default=False, help="Your IG decision: may relatives be texted?")
@click.option("--sms-regions", default="GB", show_default=True, help="Countries whose mobiles may be texted.")
@click.option("--privacy-contact")
@click.option(
    "--timezone",
    help="The trust's time zone, as the tz database names it (Europe/London at first; unchanged if omitted).",
)
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
@click.option("--safeguarding-lead-name", help="Named on a call flagged for safeguarding (unchanged if omitted).")
@click.option("--safeguarding-lead-phone", help="Their phone number (unchanged if omitted).")
@click.option(
    "--linked-calls-counted",
    type=click.Choice(["own", "once"]),
    help="In the national figures, a call linked to another about the same patient counts as its own call "
    "('own', the default) or only through the call it is linked to ('once'). Unchanged if omitted.",
)
@click.option(
    "--text-in-team",
    help="The code of the team whose queue takes texts from numbers with no call (text-in calls). Until chosen, "
    "the first adult team takes them, with an alarm. Unchanged if omitted.",
)
@click.option(
    "--text-in-paging/--no-text-in-paging",
    default=None,
    help="Whether a text-in call pages the on-call clinicians (off by default: it waits on the queue). "
    "Unchanged if omitted.",
)
@click.option(
    "--device-address-ranges",
    help="The network address ranges (CIDR, comma-separated, such as '10.20.0.0/16, 192.168.4.0/24') an "
    "enrolled queue display must be on. Production sets up no display until they are set; '' clears them. "
    "Unchanged if omitted.",
)
@click.option(
    "--languages",
    help="The languages families may choose besides English, as codes ('pl,ar,ur'; 'en' alone for English "
    "only, the default). Unchanged if omitted.",
)
@click.option(
    "--access-review-unused-days",
    type=int,
    help="The access review flags an active account nobody has signed in to for this many days (7–365; 90 until "
    "set). Unchanged if omitted.",
)
def setup_trust_command(**options):
    """Save the trust's settings (run again to change them)."""

    def action():
        current = db.session.get(Settings, 1)
        settings = hospital.save_settings(
            audit.Actor.cli(),
            timezone=options["timezone"] or (current.timezone if current else "Europe/London"),
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
        if options["safeguarding_lead_name"] is not None or options["safeguarding_lead_phone"] is not None:
            hospital.save_safeguarding_lead(
                audit.Actor.cli(), name=options["safeguarding_lead_name"], phone=options["safeguarding_lead_phone"]
            )
        if options["text_in_team"] is not None or options["text_in_paging"] is not None:
            hospital.save_text_in(
                audit.Actor.cli(), team_code=options["text_in_team"], paging=options["text_in_paging"]
            )
        if options["linked_calls_counted"] is not None:
            hospital.save_linked_calls_counted(audit.Actor.cli(), options["linked_calls_counted"])
        if options["languages"] is not None:
            trust_words.save_languages(audit.Actor.cli(), options["languages"])
        if options["device_address_ranges"] is not None:
            devices.save_address_ranges(audit.Actor.cli(), options["device_address_ranges"])
        if options["access_review_unused_days"] is not None:
            access_reviews.save_unused_days(audit.Actor.cli(), options["access_review_unused_days"])
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
def add_ward_command(code, name, site_code, team_code, population, beds, nurse_in_charge_phone):
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
        )
    )
    click.echo(f"Added ward {ward.code}. Its permanent link: {current_app.config['PUBLIC_BASE_URL']}/w/{ward.code}")
    for warning in phone_checks.nurse_in_charge_warnings(ward):
        click.echo(f"Warning: {warning}", err=True)


@tracker_cli.command("update-ward")
@click.argument("code")
@click.option("--name", help="The ward's new name (its code and link never change).")
@click.option("--nurse-in-charge-phone", help="The nurse in charge's number.")
@click.option("--no-nurse-in-charge-phone", "clear_phone", is_flag=True, help="Clear the nurse in charge's number.")
@click.option(
    "--beds",
    help='Every bed or bay in use, comma-separated, in order ("" for none): a bed still listed keeps its history, '
    "one renamed in its place is relabelled, new ones are added, missing ones retired (never deleted).",
)
@click.option("--team", "team_code", help="The code of the team its new calls go to (same site and population).")
def update_ward_command(code, name, nurse_in_charge_phone, clear_phone, beds, team_code):
    """Change a ward's name, its nurse in charge's number, its beds or its team; prints any warning about the
    nurse in charge's number."""
    if name is None and nurse_in_charge_phone is None and not clear_phone and beds is None and team_code is None:
        raise click.UsageError(
            "Say what to change: --name, --nurse-in-charge-phone, --no-nurse-in-charge-phone, --beds or --team"
        )

    def action():
        ward = hospital.ward_by_code(code)
        changed = hospital.update_ward(
            audit.Actor.cli(),
            ward,
            name=name,
            nurse_in_charge_phone=nurse_in_charge_phone,
            clear_nurse_in_charge_phone=clear_phone,
            beds=None if beds is None else beds.split(","),
            team=hospital.team_by_code(team_code) if team_code else None,
        )
        return changed, phone_checks.nurse_in_charge_warnings(ward) if "nurse in charge's number" in changed else []

    changed, warnings = _commit_or_fail(action)
    click.echo(f"Updated ward {code.lower()}: {', '.join(changed)}." if changed else f"Ward {code.lower()} unchanged.")
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)


@tracker_cli.command("enrol-tablet")
@click.argument("code")
@click.option("--name", "label", default="Ward tablet", show_default=True, help="Told apart by it on Ward tablets.")
def enrol_tablet_command(code, label):
    """Print a one-time link (for an hour) that sets up the device it is opened on as this ward's tablet for
    families, in kiosk mode. Managers do the same from the Ward tablets page."""
    link = _commit_or_fail(
        lambda: tablets.create_tablet(None, hospital.ward_by_code(code).id, label, audit.Actor.cli())
    )
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo(f"Open this link on the ward's tablet, once, within the hour: {base}/devices/enrol/{link.token}")


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
        state = "retired" if ward.is_retired else "open"
        click.echo(f"{ward.code:<20} {state:<8} {base}/w/{ward.code}   {ward.name}")


@tracker_cli.command("trust-words")
@click.argument("language")
@click.argument("what")
@click.argument("text")
def trust_words_command(language, what, text):
    """Keep the trust's own words in a family language: WHAT is emergency-instruction, privacy-contact or
    team:<team code>; an empty TEXT removes them (families then see the English)."""

    def action():
        key = _words_key(what)
        return trust_words.save_words(audit.Actor.cli(), language, key, text)

    kept = _commit_or_fail(action)
    click.echo(f"Saved the {language} words for {what}." if kept else f"Removed the {language} words for {what}.")


def _words_key(what: str) -> str:
    if what in ("emergency-instruction", "privacy-contact"):
        return what.replace("-", "_")
    if what.startswith("team:"):
        team = db.session.scalar(select(Team).where(Team.code == what[5:]))
        if team is None:
            raise SetupProblem(f"No team has the code {what[5:]!r}")
        return trust_words.team_key(team.id)
    raise SetupProblem("WHAT must be emergency-instruction, privacy-contact or team:<team code>")
