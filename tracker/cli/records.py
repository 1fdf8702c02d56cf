"""`flask tracker` commands for the records: check the audit chain, purge what is past its retention, check or repair the report facts."""

from __future__ import annotations

import sys
from contextlib import nullcontext

import click

from tracker.cli.group import tracker_cli
from tracker.db import write_intent
from tracker.extensions import db
from tracker.services.records import audit
from tracker.services.records.audit import verify_chain


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
@click.option(
    "--confirm-shortened-retention",
    "confirm_shortened",
    is_flag=True,
    help="A retention period was shortened in the last 14 days, and the shorter period is meant: destroy what it "
    "makes due. Without it, purge removes nothing for 14 days after a period is shortened.",
)
def purge_command(dry_run, batch, confirm_shortened):
    """Destroy the personal data of calls past their retention period (docs/facts.md#retention), keeping a stub
    (reference, dates, coded outcome) and an audit row for each. Calls under legal hold are kept. For 14 days after
    a retention period is shortened it removes nothing, unless told the shorter period is meant (HAZ-084)."""
    from tracker.services.records import retention

    if not dry_run:
        _refuse_after_shortening(confirm_shortened)
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
        _daily_checks(dry_run=True)
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
    # After the calls: an occupancy's name waits for its answers linked to a call purged above.
    with write_intent():
        _daily_checks(dry_run=False)
        db.session.commit()


def _refuse_after_shortening(confirmed: bool) -> None:
    """A retention period shortened by mistake must be put right before anything is destroyed by it: nothing is
    removed for 14 days after, unless the person running the purge says the shorter period is meant (audited)."""
    from tracker.clock import local
    from tracker.services.records import retention
    from tracker.services.setup.settings import current_settings

    shortened = retention.shortened_recently()
    if shortened is None:
        return
    when, version = local(shortened.recorded_at, current_settings().timezone), shortened.id
    db.session.rollback()  # only read
    if not confirmed:
        click.echo(
            f"Nothing removed: a retention period was shortened on {when:%d %B %Y at %H:%M} (settings version "
            f"{version}). For {retention.SHORTENED_WAIT_DAYS} days after that, purge removes nothing, so a "
            "mistake can be put right first. Check the periods (purge --dry-run lists what is due), then run "
            "purge --confirm-shortened-retention if the shorter period is meant.",
            err=True,
        )
        sys.exit(1)
    with write_intent():
        audit.record(
            "purge_shortened_retention_confirmed",
            audit.Actor.cli(),
            object_type="settings_version",
            object_id=version,
        )
        db.session.commit()


def _daily_checks(*, dry_run: bool) -> None:
    """Daily-check answers not linked to a call, and ended occupancies, past their own date (docs/facts.md#retention)."""
    from tracker.services.records import daily_check_retention

    sweep = daily_check_retention.due()
    if dry_run:
        click.echo(
            f"Daily checks due for destruction: {len(sweep.answers)} answers, {len(sweep.occupancies)} bed occupancies."
        )
        return
    removed = daily_check_retention.purge(sweep, audit.Actor.cli())
    click.echo(
        f"Destroyed the names and free text of {removed['daily_check_answers']} daily-check answers and "
        f"{removed['bed_occupancies']} bed occupancies."
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


@tracker_cli.command("check-rollups")
@click.option("--repair", is_flag=True, help="Build again every day that differs, and every day not yet built.")
def check_rollups_command(repair):
    """Compare every site's daily rollups (the dashboard's figures for each day, docs/architecture.md#daily-rollups)
    with the same days counted from the calls now. Exits 1 when a day differs (after rebuilding it with
    --repair), so a scheduled run reports it."""
    from tracker.services.reports import rollups

    with write_intent() if repair else nullcontext():
        differing, built = rollups.check(repair=repair)
        if repair:
            if differing:
                audit.record(
                    "rollups_repaired",
                    audit.Actor.cli(),
                    changes={"days": len(differing), "built": built},
                )
            db.session.commit()
        else:
            db.session.rollback()  # only read
    for difference in differing[:50]:
        click.echo(f"  site {difference.site_id}, {difference.day}: the rollup differs from the calls")
    if repair:
        click.echo(f"Built {built} day{'s' if built != 1 else ''} that were missing or stale.")
    if differing:
        done = "rebuilt" if repair else "run flask tracker check-rollups --repair to rebuild them"
        click.echo(
            f"{len(differing)} day{'s' if len(differing) != 1 else ''} differed from the calls: {done}.", err=True
        )
        sys.exit(1)
    click.echo("Every kept daily rollup agrees with the calls.")
