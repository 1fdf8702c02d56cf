"""`flask tracker translations`: bring the families' catalogues up to date with the code in one step."""

from __future__ import annotations

import click

from tracker.cli.group import tracker_cli
from tracker.services import catalogues


@tracker_cli.command("translations")
def translations_command():
    """Extract the family pages' and texts' strings, update every language's .po and compile the .mo
    files (tracker/translations). Commit all of them; then give new or changed strings to the trust's
    translators."""
    written = catalogues.build()
    for path in written:
        click.echo(f"wrote {path.relative_to(catalogues.ROOT)}")
    click.echo(f"{len(written)} file(s) changed.")
    stale = catalogues.problems()
    if stale:
        raise click.ClickException("still out of date: " + "; ".join(stale[:5]))
