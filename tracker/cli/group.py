"""The `flask tracker` command group, and how its commands fail: a plain message, never a traceback."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from tracker.db import write_intent
from tracker.extensions import db
from tracker.problems import Problem

tracker_cli = AppGroup("tracker", help="Martha's Rule Tracker operations.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _commit_or_fail(action):
    """Run `action` in one write transaction; a refusal (a Problem) becomes a plain message."""
    with write_intent():
        try:
            result = action()
            db.session.commit()
            return result
        except Problem as problem:
            db.session.rollback()
            _fail(str(problem))
