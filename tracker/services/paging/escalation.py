"""Paging that never drops a call (docs/architecture.md#paging).

When a concern is raised, its team's policy is frozen onto it (the plan), and the first step fires
in the same transaction. The worker then fires each later step when `next_escalation_at` comes,
paging whoever holds the step's tiers at that moment; and while the call waits unclaimed, a shift
change pages the new holders of every tier already paged. All state is in the database, so a
restarted worker carries on exactly where it stopped, and on PostgreSQL several workers never fire
the same step twice (rows are claimed with FOR UPDATE SKIP LOCKED, and every message has a unique
key).

A claim in the app stops paging at once. An SMS "ACK" or a keypress only pauses it for a short
window (caller ID can be spoofed and there is no sign-in behind it), and ACKs may hold one call's
paging only up to the policy's ceiling, counted from the first. After the steps (repeated as the
policy says) the fallback is called again and again until someone claims the call.

Escalation fields are changed with plain UPDATEs, never through the ORM's versioned updates, so
paging never makes a clinician's open page stale."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select, update

from tracker.clock import utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import (
    Audience,
    Concern,
    ConcernStatus,
    Message,
    SendState,
)
from tracker.services import alarms
from tracker.services.messaging.notifications import insert_messages
from tracker.services.paging.acks import spare_recent_acknowledgers
from tracker.services.paging.handover import page_new_holders
from tracker.services.paging.plan import (
    FALLBACK,
    alert_rows,
    holders_now,
    paged,
    recipients,
    step_at,
)
from tracker.services.paging.reminders import review_nudges
from tracker.services.paging.rows import CONCERNS, set_columns
from tracker.services.records import audit

if TYPE_CHECKING:  # concerns imports this module
    from tracker.services.concerns.intake import NewConcern

log = logging.getLogger(__name__)

MIN_ACCEPT_SECONDS = 30  # the shortest "not accepted in time" bound a policy may set


# --- firing a step ----------------------------------------------------------------------------


def fire_first_step(
    concern: Concern | NewConcern,
    plan: dict[str, Any],
    position: int,
    step: dict[str, Any] | None,
    people: list[dict[str, Any]],
    skipped: list[int],
    actor: audit.Actor,
    *,
    coalesce: bool,
    now: datetime,
) -> None:
    """Queue the first step's alerts in the intake's own transaction (so the alert is on its way
    the moment the concern is saved), and record what was skipped or impossible."""
    for gap in skipped:
        audit.record(
            "escalation_step_skipped",
            actor,
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"position": gap, "reason": "nobody_on_call"},
        )
    if skipped and plan.get("policy_id"):
        alarms.raise_alarm("rota_gap")
    rows = alert_rows(concern, plan, step, people, position=position, coalesce=coalesce, now=now) if step else []
    if coalesce and step and not rows and any(p.get("number") for p in people):
        # The flagged calls of the last few minutes share one alert (see alert_rows).
        audit.record(
            "alert_coalesced",
            actor,
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"position": position},
        )
        return
    if step is None or not rows:  # no step has no rows either
        alarms.raise_alarm("alert_recipient_missing")
        audit.record(
            "alert_not_possible",
            actor,
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"reason": "nobody_to_alert"},
        )
        return
    insert_messages(rows, actor)
    audit.record(
        "escalation_step_fired",
        actor,
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes=_fired(position, step, people, len(rows)),
    )


def _fired(position: int, step: dict[str, Any], people: list[dict[str, Any]], sent: int) -> dict[str, Any]:
    return {
        "position": position,
        "label": step["label"],
        "channel": step["channel"],
        "recipients": sent,
        "paged": paged(people),
    }


def tick(now: datetime | None = None, limit: int = 20) -> int:
    """Fire every step that is due, and page whoever came on shift for a waiting call (the worker
    calls this each pass). Returns steps fired."""
    now = now or utcnow()
    _move_on_after_unaccepted_alerts(now)
    due = (
        db.session.execute(
            select(CONCERNS.c.id)
            .where(CONCERNS.c.next_escalation_at <= now)
            .order_by(CONCERNS.c.next_escalation_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    fired = 0
    actor = audit.Actor.worker()
    for concern_id in due:
        concern = db.session.get_one(Concern, concern_id, populate_existing=True)
        if concern.status is not ConcernStatus.NEW or not concern.escalation_plan:
            set_columns(concern_id, next_escalation_at=None)
            continue
        if concern.escalation_paused_until and concern.escalation_paused_until > now:
            set_columns(concern_id, next_escalation_at=concern.escalation_paused_until)
            continue
        fired += _fire_step(concern, now, actor)
    page_new_holders(now, actor)
    review_nudges(now, actor)
    return fired


def _fire_step(concern: Concern, now: datetime, actor: audit.Actor) -> int:
    """Fire the call's next step: page whoever holds its tiers now. 1 if anyone was paged."""
    plan = concern.escalation_plan or {}
    position = concern.escalation_position
    step = step_at(plan, position)
    if step is None:
        set_columns(concern.id, next_escalation_at=None)
        return 0
    people = recipients(plan, step, concern.team, holders_now(plan, concern.team_id, now))
    people = spare_recent_acknowledgers(concern.id, people, now)
    coalesce = concern.flagged_burst or concern.flagged_automated
    rows = alert_rows(concern, plan, step, people, position=position, coalesce=coalesce, now=now)
    if rows:
        insert_messages(rows, actor)
    audit.record(
        "escalation_step_fired" if rows else "escalation_step_skipped",
        actor,
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes=_fired(position, step, people, len(rows)),
    )
    if not rows and step["label"] != FALLBACK:
        alarms.raise_alarm("rota_gap")
    wait = timedelta(minutes=step["wait"]) if rows or step["label"] == FALLBACK else timedelta(0)
    set_columns(
        concern.id, escalation_position=position + 1, next_escalation_at=now + wait, escalation_paused_until=None
    )
    return 1 if rows else 0


def _move_on_after_unaccepted_alerts(now: datetime) -> None:
    """An alert the provider has not accepted within the policy's bound (default 2 minutes)
    counts as failed: the next step is due now (docs/architecture.md#messages)."""
    stuck = db.session.execute(
        select(Message.concern_id, Concern.escalation_plan)
        .join(Concern, Concern.id == Message.concern_id)
        .where(
            Concern.status == ConcernStatus.NEW,
            Concern.next_escalation_at > now,
            Message.audience == Audience.CLINICIAN,
            Message.escalation_step == Concern.escalation_position - 1,
            Message.send_state.in_([SendState.PENDING, SendState.SENDING, SendState.UNKNOWN]),
            Message.created_at < now - timedelta(seconds=MIN_ACCEPT_SECONDS),
        )
        .distinct()
    ).all()
    if not stuck:
        return
    # Lock every call to move on before the first audit row takes the chain head, so this
    # transaction never waits for a call's row while holding the head (lock order: rows, then
    # head); a call a clinician holds right now is skipped and looked at again next pass.
    lockable = set(
        db.session.execute(
            select(CONCERNS.c.id)
            .where(CONCERNS.c.id.in_([concern_id for concern_id, _plan in stuck]))
            .order_by(CONCERNS.c.id)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    for concern_id, plan in stuck:
        if concern_id not in lockable:
            continue
        bound = timedelta(seconds=(plan or {}).get("alert_accept_seconds", 120))
        still_stuck = db.session.scalar(
            select(
                exists().where(
                    Message.concern_id == concern_id,
                    Message.audience == Audience.CLINICIAN,
                    Message.send_state.in_([SendState.PENDING, SendState.SENDING, SendState.UNKNOWN]),
                    Message.created_at < now - bound,
                )
            )
        )
        if still_stuck:
            move_on_now(concern_id, "alert_not_accepted", now)


def move_on_now(concern_id: int, reason: str, now: datetime | None = None) -> bool:
    """Bring the next step forward to now (an alert failed). True if it was moved.

    Not once the fallback has been paged: only the fallback again comes next, on its own
    interval. Bringing it forward whenever its alert fails would page it anew on every pass while
    the provider is down (a loop of steps, texts and audit rows); its own retries go on instead."""
    now = now or utcnow()
    current = db.session.execute(
        select(CONCERNS.c.escalation_plan, CONCERNS.c.escalation_position).where(CONCERNS.c.id == concern_id)
    ).first()
    if current is None or _fallback_paged(current.escalation_plan, current.escalation_position):
        return False
    moved = execute_dml(
        update(CONCERNS)
        .where(
            CONCERNS.c.id == concern_id,
            CONCERNS.c.status == ConcernStatus.NEW.value,
            CONCERNS.c.next_escalation_at > now,
            CONCERNS.c.escalation_position == current.escalation_position,
        )
        .values(next_escalation_at=now, escalation_paused_until=None, updated_at=now)
    ).rowcount
    if moved:
        audit.record(
            "escalation_moved_on",
            audit.Actor.worker(),
            object_type="concern",
            object_id=concern_id,
            concern_id=concern_id,
            changes={"reason": reason},
        )
    return bool(moved)


def _fallback_paged(plan: dict[str, Any] | None, position: int) -> bool:
    step = step_at(plan, position - 1) if plan and plan.get("steps") and position > 0 else None
    return step is not None and step["label"] == "fallback"


def stop_values() -> dict[str, datetime | None]:
    """What a claim or a cancellation sets: no more paging."""
    return {"next_escalation_at": None, "escalation_paused_until": None}


def resume_values(now: datetime) -> dict[str, datetime | None]:
    """What a release sets: paging carries on from where it was, now, and a later ACK has its
    full ceiling again."""
    return {"next_escalation_at": now, "escalation_paused_until": None, "first_ack_at": None}


# --- a claimed call not reviewed in time ---------------------------------------------------------
