"""What /metrics reads from the database at each scrape (docs/architecture.md#logs-and-metrics): a few cheap
aggregate queries on indexed columns, so every web process and the worker are seen through the one
database, however many of them there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select

from tracker.extensions import db
from tracker.models import AuditEvent, Message, WorkerHeartbeat
from tracker.models.outbox import SendState

# Not yet with the provider: waiting, being sent, or sent with no answer and to be looked up before a resend.
UNSENT = (SendState.PENDING, SendState.SENDING, SendState.UNKNOWN)


@dataclass(frozen=True)
class Readings:
    unsent_messages: int  # the outbox's depth, those scheduled for later included
    oldest_unsent_seconds: float  # how long the longest-waiting due message has waited; 0 when none waits
    escalation_steps_fired: int  # every step that alerted someone, each call's first included
    heartbeat_age_seconds: float | None  # since the newest worker heartbeat; None when no worker ever beat


def readings(now: datetime) -> Readings:
    unsent = db.session.scalar(select(func.count()).select_from(Message).where(Message.send_state.in_(UNSENT)))
    # A message waits from when it fell due (its first try) or, once tried, from when it was queued: a retry
    # moves next_attempt_at on and must not make a stuck message look young.
    waiting_since = case((Message.attempts == 0, Message.next_attempt_at), else_=Message.created_at)
    oldest = db.session.scalar(
        select(func.min(waiting_since)).where(
            Message.send_state.in_(UNSENT), or_(Message.attempts > 0, Message.next_attempt_at <= now)
        )
    )
    fired = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "escalation_step_fired")
    )
    beat = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    return Readings(
        unsent_messages=unsent or 0,
        oldest_unsent_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        escalation_steps_fired=fired or 0,
        heartbeat_age_seconds=None if beat is None else max(0.0, (now - beat).total_seconds()),
    )
