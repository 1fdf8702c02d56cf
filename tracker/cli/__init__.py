"""`flask tracker ...`: operations on the command line, one module per concern (accounts, the trust's set-up,
the records, the processes), all in one command group."""

from tracker.cli import (  # noqa: F401  (registers the commands)
    accounts,
    hospital,
    processes,
    records,
    reports,
    sign_on,
    translations,
    trust,
)
from tracker.cli.group import tracker_cli

__all__ = ["tracker_cli"]
