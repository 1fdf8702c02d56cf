"""Paging that never drops a call (docs/architecture.md#paging).

When a concern is raised, its team's policy and the people on call are frozen onto it (the
plan), and the first step fires in the same transaction. The worker then fires each later step
when `next_escalation_at` comes: all state is in the database, so a restarted worker carries on
exactly where it stopped, and on PostgreSQL several workers never fire the same step twice (rows
are claimed with FOR UPDATE SKIP LOCKED, and every message has a unique key).

A claim in the app stops paging at once. An SMS "ACK" or a keypress only pauses it for a short
window: caller ID can be spoofed and there is no sign-in behind it. After the steps (repeated as
the policy says) the fallback is called again and again until someone claims the call.

Escalation fields are changed with plain UPDATEs, never through the ORM's versioned updates, so
paging never makes a clinician's open page stale."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import exists, select, update

from tracker.clock import local, utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import (
    AlertChannel,
    Audience,
    Concern,
    ConcernStatus,
    EscalationPolicy,
    Message,
    MessageChannel,
    RecipientKind,
    SendState,
    Tier,
    User,
)
from tracker.services import alarms
from tracker.services.messaging.notifications import WARD_NAME_IN_ALERT, MessageRow, insert_messages, prepare_message
from tracker.services.paging.rota import on_call
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings
from tracker.services.setup.wards import TeamInfo

if TYPE_CHECKING:  # concerns imports this module
    from tracker.services.concerns.intake import NewConcern

log = logging.getLogger(__name__)

DEFAULT_WAIT_MINUTES = 5
MIN_ACCEPT_SECONDS = 30  # the shortest "not accepted in time" bound a policy may set
_CONCERNS = Concern.__table__


# --- the plan -----------------------------------------------------------------------------------


def plan_for(team: TeamInfo, at: datetime) -> dict[str, Any]:
    """The team's policy with the people on call at `at`, as plain values to store on the concern.

    A team with no policy yet is paged on its duty phone every few minutes until someone claims
    the call (what trusts do today, without the risk of nobody noticing)."""
    policy = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == team.id))
    if policy is None:
        duty = (
            [{"user_id": None, "name": f"{team.name} duty phone", "number": team.duty_phone}] if team.duty_phone else []
        )
        return {
            "steps": [{"tiers": ["duty_phone"], "recipients": duty, "channel": "sms", "wait": DEFAULT_WAIT_MINUTES}],
            "repeat_times": 0,
            "fallback": {
                "name": f"{team.name} duty phone",
                "number": team.duty_phone,
                "channel": "sms",
                "wait": DEFAULT_WAIT_MINUTES,
            }
            if team.duty_phone
            else None,
            "ack_pause_minutes": 5,
            "alert_accept_seconds": 120,
            "review_reminder_minutes": 10,
            "review_target_minutes": team.review_target_minutes,
            "next_tier": duty,
            "policy_id": None,
        }
    people = on_call(team.id, at)
    steps = []
    for step in policy.steps:
        recipients: list[dict[str, Any]] = []
        for tier in step.tiers:
            for person in people.get(Tier(tier), []):
                recipients.append(
                    {"user_id": person.user_id, "name": person.name, "number": person.mobile, "tier": tier}
                )
        steps.append(
            {
                "tiers": list(step.tiers),
                "recipients": recipients,
                "channel": step.channel.value,
                "wait": step.wait_minutes,
            }
        )
    next_tier = [
        {"user_id": p.user_id, "name": p.name, "number": p.mobile, "tier": p.tier.value}
        for tier in (Tier.SECONDARY, Tier.LEAD)
        for p in people.get(tier, [])
    ]
    return {
        "steps": steps,
        "repeat_times": policy.repeat_times,
        "fallback": {
            "name": policy.fallback_name,
            "number": policy.fallback_number,
            "channel": policy.fallback_channel.value,
            "wait": policy.fallback_wait_minutes,
        },
        "ack_pause_minutes": policy.ack_pause_minutes,
        "alert_accept_seconds": policy.alert_accept_seconds,
        "review_reminder_minutes": policy.review_reminder_minutes,
        "review_target_minutes": team.review_target_minutes,
        "next_tier": next_tier,
        "policy_id": policy.id,
    }


def step_at(plan: dict[str, Any], position: int) -> dict[str, Any] | None:
    """The step at this position: the policy's steps, repeated, then the fallback for ever."""
    steps = plan["steps"]
    rounds = len(steps) * (plan["repeat_times"] + 1)
    if position < rounds:
        step = dict(steps[position % len(steps)])
        step["label"] = f"step {position % len(steps) + 1}" + (
            f", round {position // len(steps) + 1}" if plan["repeat_times"] else ""
        )
        return step
    fallback = plan.get("fallback")
    if not fallback or not fallback.get("number"):
        return None
    return {
        "tiers": ["fallback"],
        "channel": fallback["channel"],
        "wait": fallback["wait"],
        "label": "fallback",
        "recipients": [{"user_id": None, "name": fallback["name"], "number": fallback["number"]}],
    }


# --- firing a step ----------------------------------------------------------------------------


def alert_rows(
    concern: Concern | NewConcern, plan: dict[str, Any], position: int, *, coalesce: bool, now: datetime
) -> tuple[list[MessageRow], dict[str, Any] | None]:
    """The outbox rows for one step (one per person who can be alerted) and the step itself."""
    step = step_at(plan, position)
    if step is None:
        return [], None
    settings = current_settings()
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    variables = {
        "reference": concern.reference,
        "ward": concern.ward.name[:WARD_NAME_IN_ALERT],
        "site": concern.site.name[:WARD_NAME_IN_ALERT],
        "raised": local(concern.raised_at, settings.timezone).strftime("%H:%M"),
        "link": f"{base_url}/triage/c/{concern.reference}",
        "pause": plan.get("ack_pause_minutes", 5),
    }
    voice = step["channel"] == AlertChannel.VOICE.value
    window = int(now.timestamp() // 600)
    rows: list[MessageRow] = []
    for person in step["recipients"]:
        if not person.get("number"):
            continue
        who = person["user_id"] or person["number"]
        if coalesce:
            key = f"team:{concern.team.id}:burst:{window}:step:{position}:{who}"
            template = "voice_alert" if voice else "clinician_alert_burst"
        else:
            key = f"concern:{concern.id}:step:{position}:{who}"
            template = "voice_alert" if voice else "clinician_alert"
        row = prepare_message(
            concern_id=concern.id,
            audience=Audience.CLINICIAN,
            recipient_kind=RecipientKind.USER if person["user_id"] else RecipientKind.CONTACT,
            recipient_user_id=person["user_id"],
            recipient_role=None if person["user_id"] else "escalation_contact",
            to_number=person["number"],
            template_id=template,
            variables=variables,
            locale=current_app.config["BABEL_DEFAULT_LOCALE"],
            idempotency_key=key,
            new_key=not coalesce,
        )
        if row is not None:
            row["escalation_step"] = position
            row["channel"] = MessageChannel.VOICE if voice else MessageChannel.SMS
            rows.append(row)
    return rows, step


def choose_first_step(plan: dict[str, Any], *, coalesce: bool) -> tuple[int, dict[str, Any] | None, list[int]]:
    """Which step fires at raise time: the first that reaches anyone (steps with nobody on call
    are skipped). Returns (its position, the step, the positions skipped)."""
    position = 0
    skipped: list[int] = []
    while True:
        step = step_at(plan, position)
        if step is None or step["label"] == "fallback" or any(p.get("number") for p in step["recipients"]):
            return position, step, skipped
        skipped.append(position)
        position += 1


def fire_first_step(
    concern: Concern | NewConcern,
    plan: dict[str, Any],
    position: int,
    step: dict[str, Any] | None,
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
    rows = alert_rows(concern, plan, position, coalesce=coalesce, now=now)[0] if step else []
    if coalesce and step and not rows and any(p.get("number") for p in step["recipients"]):
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
        changes={"position": position, "label": step["label"], "channel": step["channel"], "recipients": len(rows)},
    )


def tick(now: datetime | None = None, limit: int = 20) -> int:
    """Fire every step that is due (the worker calls this each pass). Returns steps fired."""
    now = now or utcnow()
    _move_on_after_unaccepted_alerts(now)
    due = (
        db.session.execute(
            select(_CONCERNS.c.id)
            .where(_CONCERNS.c.next_escalation_at <= now)
            .order_by(_CONCERNS.c.next_escalation_at)
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
            _set(concern_id, next_escalation_at=None)
            continue
        if concern.escalation_paused_until and concern.escalation_paused_until > now:
            _set(concern_id, next_escalation_at=concern.escalation_paused_until)
            continue
        position = concern.escalation_position
        rows, step = alert_rows(
            concern,
            concern.escalation_plan,
            position,
            coalesce=concern.flagged_burst or concern.flagged_automated,
            now=now,
        )
        if step is None:
            _set(concern_id, next_escalation_at=None)
            continue
        if rows:
            insert_messages(rows, actor)
            fired += 1
        audit.record(
            "escalation_step_fired" if rows else "escalation_step_skipped",
            actor,
            object_type="concern",
            object_id=concern_id,
            concern_id=concern_id,
            changes={"position": position, "label": step["label"], "channel": step["channel"], "recipients": len(rows)},
        )
        if not rows and step["label"] != "fallback":
            alarms.raise_alarm("rota_gap")
        wait = timedelta(minutes=step["wait"]) if rows or step["label"] == "fallback" else timedelta(0)
        _set(concern_id, escalation_position=position + 1, next_escalation_at=now + wait, escalation_paused_until=None)
    _review_nudges(now, actor)
    return fired


def _set(concern_id: int, **values: Any) -> None:
    values.setdefault("updated_at", utcnow())
    db.session.execute(update(_CONCERNS).where(_CONCERNS.c.id == concern_id).values(**values))


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
            select(_CONCERNS.c.id)
            .where(_CONCERNS.c.id.in_([concern_id for concern_id, _plan in stuck]))
            .order_by(_CONCERNS.c.id)
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
        select(_CONCERNS.c.escalation_plan, _CONCERNS.c.escalation_position).where(_CONCERNS.c.id == concern_id)
    ).first()
    if current is None or _fallback_paged(current.escalation_plan, current.escalation_position):
        return False
    moved = execute_dml(
        update(_CONCERNS)
        .where(
            _CONCERNS.c.id == concern_id,
            _CONCERNS.c.status == ConcernStatus.NEW.value,
            _CONCERNS.c.next_escalation_at > now,
            _CONCERNS.c.escalation_position == current.escalation_position,
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


def pause(concern_id: int, minutes: int, source: str, now: datetime | None = None) -> bool:
    """An ACK (by text or keypress): pause paging for a short while; a claim still stops it."""
    now = now or utcnow()
    until = now + timedelta(minutes=minutes)
    paused = execute_dml(
        update(_CONCERNS)
        .where(
            _CONCERNS.c.id == concern_id,
            _CONCERNS.c.status == ConcernStatus.NEW.value,
            _CONCERNS.c.next_escalation_at.is_not(None),
        )
        .values(escalation_paused_until=until, next_escalation_at=until, updated_at=now)
    ).rowcount
    if paused:
        audit.record(
            "escalation_paused",
            audit.Actor.system(),
            object_type="concern",
            object_id=concern_id,
            concern_id=concern_id,
            changes={"source": source, "minutes": minutes},
        )
    return bool(paused)


def stop_values() -> dict[str, datetime | None]:
    """What a claim or a cancellation sets: no more paging."""
    return {"next_escalation_at": None, "escalation_paused_until": None}


def resume_values(now: datetime) -> dict[str, datetime | None]:
    """What a release sets: paging carries on from where it was, now."""
    return {"next_escalation_at": now, "escalation_paused_until": None}


# --- a claimed call not reviewed in time ---------------------------------------------------------


def review_due_at(concern: Concern) -> datetime:
    target = (concern.escalation_plan or {}).get("review_target_minutes") or concern.team.review_target_minutes
    return concern.raised_at + timedelta(minutes=target)


def _review_nudges(now: datetime, actor: audit.Actor) -> None:
    """Remind the claimant when the review is overdue, then tell the next tier. The call is never
    taken away from the claimant."""
    due = (
        db.session.execute(
            select(_CONCERNS.c.id)
            .where(_CONCERNS.c.next_review_nudge_at <= now)
            .order_by(_CONCERNS.c.next_review_nudge_at)
            .limit(20)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    for concern_id in due:
        concern = db.session.get_one(Concern, concern_id, populate_existing=True)
        if concern.status is not ConcernStatus.ACKNOWLEDGED or concern.reviewed_at is not None:
            _set(concern_id, next_review_nudge_at=None)
            continue
        plan = concern.escalation_plan or {}
        recipients: list[dict[str, Any]]
        if concern.review_nudges == 0:
            claimant = db.session.get(User, concern.claimed_by_id) if concern.claimed_by_id else None
            recipients = [{"user_id": claimant.id, "number": claimant.mobile}] if claimant and claimant.mobile else []
            template, stage, next_at = (
                "review_reminder",
                1,
                now + timedelta(minutes=plan.get("review_reminder_minutes", 10)),
            )
        else:
            recipients = [p for p in plan.get("next_tier", []) if p.get("number")]
            template, stage, next_at = "review_overdue", 2, None
        rows: list[MessageRow] = []
        for person in recipients:
            row = prepare_message(
                concern_id=concern.id,
                audience=Audience.CLINICIAN,
                recipient_kind=RecipientKind.USER if person.get("user_id") else RecipientKind.CONTACT,
                recipient_user_id=person.get("user_id"),
                to_number=person["number"],
                template_id=template,
                variables={
                    "reference": concern.reference,
                    "ward": concern.ward.name[:WARD_NAME_IN_ALERT],
                    "claimant": concern.claimed_by.display_name if concern.claimed_by else "a colleague",
                    "link": f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/triage/c/{concern.reference}",
                },
                locale=current_app.config["BABEL_DEFAULT_LOCALE"],
                idempotency_key=f"concern:{concern.id}:{template}:{concern.acknowledged_at:%Y%m%d%H%M%S}:"
                f"{person.get('user_id') or person['number']}",
            )
            if row is not None:
                rows.append(row)
        insert_messages(rows, actor)
        audit.record(
            "review_overdue_reminder" if stage == 1 else "review_overdue_escalated",
            actor,
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"recipients": len(rows)},
        )
        _set(concern_id, review_nudges=stage, next_review_nudge_at=next_at)


def acknowledged_values(concern_raised_at: datetime, review_target_minutes: int, now: datetime) -> dict[str, Any]:
    """What a claim sets for the review clock."""
    due = max(concern_raised_at + timedelta(minutes=review_target_minutes), now)
    return {"review_nudges": 0, "next_review_nudge_at": due}


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
