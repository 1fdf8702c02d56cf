"""A claim that did not stand (docs/architecture.md#reports). "Raised to claimed" is the patient's wait for
someone to take the call; a call that goes back on the queue unclaimed (released, unlinked, or the call it
followed cancelled) is waiting again, so its claim time is cleared and the next claim sets it. A reopened call
keeps its first episode's clocks, so the figures still describe the call as first raised."""

from __future__ import annotations

from tracker.models import Concern


def unclaim(concern: Concern) -> None:
    """Take the claim off a call that goes back on the queue (its report facts follow on flush)."""
    concern.claimed_by_id = None
    if concern.reopened_at is None:
        concern.acknowledged_at = None
