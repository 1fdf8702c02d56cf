"""`flask tracker` commands for staff accounts: create one, reset a password or a lost authenticator, seed the demo."""

from __future__ import annotations

import click

from tracker.cli.group import _commit_or_fail, tracker_cli
from tracker.models import Role
from tracker.services.people.users import create_user
from tracker.services.records import audit
from tracker.services.setup import hospital
from tracker.services.setup.demo import seed_demo
from tracker.services.setup.hospital import SetupProblem


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
