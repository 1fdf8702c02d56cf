"""`flask tracker` commands for the standard monthly report's signed copies: make the signing key, check a signed
report (services/reports/report_signing.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.cli.group import tracker_cli
from tracker.services.reports import report_signing


@tracker_cli.command("create-report-key")
@click.argument("path", type=click.Path(dir_okay=False))
def create_report_key_command(path):
    """Create the key that signs exact monthly reports at PATH (readable by its owner only; never over an existing
    file), and print its public key. Keep it outside the database and its backups' reach, and point
    REPORT_SIGNING_KEY_FILE at it."""
    try:
        public = report_signing.create_key(path)
    except report_signing.SigningProblem as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"Signing key written to {path} (mode 0600). Set {report_signing.KEY_VARIABLE}={path}.")
    click.echo(f"Public key (fingerprint {report_signing.fingerprint(public)}), for the report's recipients:")
    click.echo(report_signing.public_pem(public), nl=False)


@tracker_cli.command("verify-report")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("public_key", type=click.Path(dir_okay=False))
def verify_report_command(file, public_key):
    """Check that FILE is a signed monthly report, unchanged, signed by the key whose public half is in PUBLIC_KEY
    (PEM, as the trust settings page shows it). Exit status 0 when it is; 1, with the reason, when it is not."""
    try:
        key = report_signing.load_public_key(_read(public_key, "public key"))
        report = report_signing.verify(_read(file, "report"), key)
    except report_signing.SigningProblem as problem:
        click.echo(f"NOT VERIFIED: {problem}", err=True)
        sys.exit(1)
    subject = (report.get("subject") or {}).get("identifier", {}).get("value", "?")
    period = (report.get("period") or {}).get("start", "?")[:7]
    click.echo(f"Verified: the monthly report for site {subject}, {period}, signed with this key and unchanged.")


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise report_signing.SigningProblem(f"Could not read the {what} file {path}: {error.strerror}.") from None
