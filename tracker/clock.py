"""The one source of "now". Tests move it with time-machine; nothing else calls datetime.now()."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime, tz_name: str) -> datetime:
    """A UTC moment in the trust's own time zone (BST included)."""
    return moment.astimezone(ZoneInfo(tz_name))
