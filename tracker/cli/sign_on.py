"""`flask tracker` commands for sign-on with the trust's own accounts (docs/architecture.md#sign-on): link an
account to its trust account, unlink it, and mark the break-glass administrators."""

from __future__ import annotations

import click

from tracker.cli.group import _commit_or_fail, tracker_cli
from tracker.services.people import sign_on_accounts
from tracker.services.records import audit


@tracker_cli.command("link-account")
@click.argument("email")
@click.argument("issuer")
@click.argument("subject")
def link_account_command(email, issuer, subject):
    """Link EMAIL's account to a trust account: the provider's ISSUER (OIDC_ISSUER) and the person's SUBJECT
    there (for Entra, their object id from the Entra admin centre). Its local password then stops working,
    unless it is a break-glass administrator's. Audited."""
    _commit_or_fail(lambda: sign_on_accounts.link_account(audit.Actor.cli(), email, issuer, subject))
    click.echo(f"Linked {email.strip().lower()} to the trust account {subject.strip()}.")


@tracker_cli.command("unlink-account")
@click.argument("email")
def unlink_account_command(email):
    """Remove EMAIL's link to a trust account: its local password works again. Audited."""
    user_email = _commit_or_fail(lambda: sign_on_accounts.unlink_account(audit.Actor.cli(), email).email)
    click.echo(f"{user_email} is no longer linked to a trust account.")


@tracker_cli.command("break-glass")
@click.argument("email")
@click.option("--off", is_flag=True, help="Unmark them (never the last break-glass administrator).")
def break_glass_command(email, off):
    """Mark an administrator break-glass: their local password keeps working once their account is linked,
    and they can turn on the sign-on outage switch. At least one administrator must be. Audited."""
    user_email = _commit_or_fail(lambda: sign_on_accounts.set_break_glass(audit.Actor.cli(), email, not off).email)
    click.echo(f"{user_email} is {'no longer ' if off else ''}a break-glass administrator.")
