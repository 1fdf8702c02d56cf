"""Where an unclaimed call's paging stands, for its page (docs/architecture.md#paging): the step last paged, the
next alert's time, and an ACK's pause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.clock import utcnow
from tracker.models import Concern, ConcernStatus
from tracker.services.paging import plan


@dataclass(frozen=True)
class Paging:
    """Where an unclaimed call's alerts stand, for the concern page."""

    step_label: str | None  # the step last paged
    next_at: datetime | None
    paused_until: datetime | None


def paging_state(concern: Concern) -> Paging | None:
    if concern.status is not ConcernStatus.NEW or not concern.escalation_plan:
        return None
    position = concern.escalation_position - 1
    step = plan.step_at(concern.escalation_plan, position) if position >= 0 else None
    now = utcnow()
    paused = (
        concern.escalation_paused_until
        if concern.escalation_paused_until and concern.escalation_paused_until > now
        else None
    )
    return Paging(step["label"] if step else None, concern.next_escalation_at, paused)
