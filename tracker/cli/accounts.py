"""`flask tracker` commands for staff accounts: create one (with a one-time password or an invitation link), deactivate
or reactivate one, reset a password or a lost authenticator, clear sign-in counts, seed the demo. The Staff accounts
page (/admin/staff) does the same through the same services (docs/architecture.md#set-up)."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import func, select

from tracker.cli.group import _commit_or_fail, tracker_cli
from tracker.extensions import db
from tracker.models import Role, User
from tracker.services.people import accounts, invitations, leavers
from tracker.services.people.users import create_user, mobile_warning
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
@click.option("--invite", is_flag=True, help="Print an invitation link (7 days, once) instead of a one-time password.")
def create_user_command(email, display_name, role, team_codes, ward_code, site_code, mobile, invite):
    """Create a staff account and print its one-time password, or its invitation link (once)."""

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
        link = invitations.invite(audit.Actor.cli(), user).token if invite else None
        return user.email, password, link, mobile_warning(user.role, user.mobile)

    email, password, link, warning = _commit_or_fail(action)
    if link:
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        click.echo(
            f"Created {email}. Invitation link (shown once; works once, for 7 days): {base}/auth/invitation/{link}"
        )
    else:
        click.echo(f"Created {email}. One-time password (shown once; must be changed at first sign-in): {password}")
    if warning:
        click.echo(f"Warning: {warning}", err=True)


def _account(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise SetupProblem(f"No account has the email address {email!r}.")
    return user


@tracker_cli.command("deactivate-user")
@click.argument("email")
@click.option(
    "--at-once",
    "reason",
    type=click.Choice(list(leavers.AT_ONCE_REASONS)),
    help="Deactivate now whatever the account holds on the rota (audited with this reason; raises the rota-gap alarm).",
)
def deactivate_user_command(email, reason):
    """Close an account: every session ends and the rota never puts it on call again. Without --at-once, refused
    while the person is on the rota or holds claimed calls."""

    def action():
        user = _account(email)
        if reason:
            return leavers.deactivate_at_once(None, user, reason, audit.Actor.cli())
        leavers.deactivate(None, user, audit.Actor.cli())
        return None

    left = _commit_or_fail(action)
    click.echo(f"Deactivated {email.strip().lower()}: their sessions have ended.")
    if left is not None and left.gapped_team_ids:
        click.echo(f"Warning: the rota of team ids {left.gapped_team_ids} now has nobody to alert at times.", err=True)
    if left is not None and left.references:
        click.echo(f"Warning: calls still claimed by them: {', '.join(left.references)}", err=True)


@tracker_cli.command("reactivate-user")
@click.argument("email")
def reactivate_user_command(email):
    """Open a closed account again, with its password and authenticator as they were."""
    _commit_or_fail(lambda: leavers.reactivate(None, _account(email), audit.Actor.cli()))
    click.echo(f"Reactivated {email.strip().lower()}.")


@tracker_cli.command("clear-sign-in-counts")
@click.argument("email")
def clear_sign_in_counts_command(email):
    """Forget the wrong passwords and codes counted against an account (after a false alarm)."""
    _commit_or_fail(lambda: accounts.clear_sign_in_counts(None, _account(email)))
    click.echo(f"Sign-in counts cleared for {email.strip().lower()}.")


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
