"""Prints the battery's table when any of it ran (docs/architecture.md#testing)."""

from __future__ import annotations

from tests.battery import tally


def pytest_terminal_summary(terminalreporter):
    if tally.requests:
        terminalreporter.section("hostile-input battery")
        for line in tally.lines():
            terminalreporter.line(line)
