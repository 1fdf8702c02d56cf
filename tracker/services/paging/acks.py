"""ACKs (docs/architecture.md#paging): a text reply or a keypress from someone paged pauses a call's paging for a
short while, never past the policy's ceiling counted from the call's first ACK; whoever acknowledged recently is
not re-paged by repeats; and which call an ACK from a number means."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from tracker.clock import utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import Audience, AuditEvent, Concern, ConcernStatus, Message
from tracker.services.paging.plan import DEFAULT_ACK_CEILING_MINUTES
from tracker.services.paging.rows import CONCERNS
from tracker.services.records import audit

RECENT_ACK = timedelta(minutes=10)  # someone who acknowledged this recently is not re-paged by repeats


def spare_recent_acknowledgers(concern_id: int, people: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Leave out whoever acknowledged this call in the last 10 minutes (no all-night re-paging of a
    clinician busy at a crash call), unless that would leave the step nobody to page."""
    recent = {
        event.changes.get("user_id")
        for event in db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.concern_id == concern_id,
                AuditEvent.action.in_(ACK_ACTIONS),
                AuditEvent.occurred_at >= now - RECENT_ACK,
            )
        )
    } - {None}
    if not recent:
        return people
    spared = [p for p in people if p.get("user_id") not in recent]
    return spared if any(p.get("number") for p in spared) else people


ACK_ACTIONS = ("escalation_paused", "ack_after_ceiling")


@dataclass(frozen=True)
class Pause:
    """What an ACK did: held paging until `until`, or (None) nothing, because ACKs have already
    held this call as long as the policy's ceiling allows and paging continues."""

    until: datetime | None
    ceiling_minutes: int

    def minutes_from(self, now: datetime) -> int:
        return math.ceil((self.until - now).total_seconds() / 60) if self.until else 0


def pause(concern_id: int, source: str, *, user_id: int | None, now: datetime | None = None) -> Pause | None:
    """An ACK (by text or keypress) from someone paged: pause paging for the policy's window, but
    never past the ceiling counted from the call's first ACK. A claim still stops it. None when
    the call is not waiting (claimed, closed, or never paged)."""
    now = now or utcnow()
    current = db.session.execute(
        select(CONCERNS.c.escalation_plan, CONCERNS.c.first_ack_at).where(
            CONCERNS.c.id == concern_id,
            CONCERNS.c.status == ConcernStatus.NEW.value,
            CONCERNS.c.next_escalation_at.is_not(None),
        )
    ).first()
    if current is None:
        return None
    plan = current.escalation_plan or {}
    minutes = int(plan.get("ack_pause_minutes", 5))
    ceiling = int(plan.get("ack_ceiling_minutes", DEFAULT_ACK_CEILING_MINUTES))
    first = current.first_ack_at or now
    ends = first + timedelta(minutes=ceiling)
    target: audit.Target = {"object_type": "concern", "object_id": concern_id, "concern_id": concern_id}
    if now >= ends:
        audit.record(
            "ack_after_ceiling", audit.Actor.system(), **target, changes={"source": source, "user_id": user_id}
        )
        return Pause(None, ceiling)
    until = min(now + timedelta(minutes=minutes), ends)
    held = Pause(until, ceiling)
    execute_dml(
        update(CONCERNS)
        .where(CONCERNS.c.id == concern_id)
        .values(escalation_paused_until=until, next_escalation_at=until, first_ack_at=first, updated_at=now)
    )
    audit.record(
        "escalation_paused",
        audit.Actor.system(),
        **target,
        changes={"source": source, "minutes": held.minutes_from(now), "user_id": user_id},
    )
    return held


def find_paged_concern(number: str, now: datetime | None = None, reference: str | None = None) -> int | None:
    """The unclaimed concern that paged this number most recently in the last 12 hours (for an
    ACK), or the one with this reference if it paged the number."""
    now = now or utcnow()
    query = (
        select(Message.concern_id)
        .join(Concern, Concern.id == Message.concern_id)
        .where(
            Message.to_number == number,
            Message.audience == Audience.CLINICIAN,
            Message.created_at >= now - timedelta(hours=12),
            Concern.status == ConcernStatus.NEW,
        )
    )
    if reference:
        query = query.where(Concern.reference == reference)
    return db.session.scalar(query.order_by(Message.created_at.desc()).limit(1))
