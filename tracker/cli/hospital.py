"""`flask tracker` commands that change a site or a team after it was added (the Sites and teams pages do the same,
through the same service functions: services/setup/sites_and_teams.py)."""

from __future__ import annotations

import click

from tracker.cli.group import _commit_or_fail, tracker_cli
from tracker.models import Population
from tracker.services.records import audit
from tracker.services.setup import hospital, phone_checks, sites_and_teams


@tracker_cli.command("rename-site")
@click.argument("code")
@click.option("--name", required=True, help="The site's new name (its code never changes).")
def rename_site_command(code, name):
    """Give a site a new name."""
    renamed = _commit_or_fail(lambda: sites_and_teams.rename_site(audit.Actor.cli(), hospital.site_by_code(code), name))
    click.echo(f"Renamed site {code.lower()}." if renamed else f"Site {code.lower()} unchanged.")


@tracker_cli.command("update-team")
@click.argument("code")
@click.option("--name", help="The team's new name (its code never changes).")
@click.option(
    "--population",
    type=click.Choice([p.value for p in Population]),
    help="Only while the team has no wards and no calls.",
)
@click.option("--public-phone", help="The number families may phone, shown on its wards' pages.")
@click.option("--duty-phone", help="The on-call mobile that new calls text when the team has no escalation policy.")
@click.option("--no-duty-phone", "clear_duty_phone", is_flag=True, help="Clear the duty phone.")
@click.option("--ack-minutes", type=int, help="The target for acknowledging a call, in minutes.")
@click.option("--review-minutes", type=int, help="The target for reviewing the patient, in minutes.")
def update_team_command(code, population, **options):
    """Change a team's name, population, phone numbers or response targets; prints any warning about its duty
    phone."""

    def action():
        team = hospital.team_by_code(code)
        changed = sites_and_teams.update_team(
            audit.Actor.cli(),
            team,
            population=Population(population) if population else None,
            ack_target_minutes=options.pop("ack_minutes"),
            review_target_minutes=options.pop("review_minutes"),
            **options,
        )
        return changed, phone_checks.duty_phone_warnings(team)

    changed, warnings = _commit_or_fail(action)
    words = ", ".join(sites_and_teams.TEAM_FIELD_WORDS[field] for field in changed)
    click.echo(f"Updated team {code.lower()}: {words}." if changed else f"Team {code.lower()} unchanged.")
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
