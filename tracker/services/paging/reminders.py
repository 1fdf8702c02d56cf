"""The review clock once a call is claimed (docs/architecture.md#paging): when the review is due, the reminder to the
clinician who claimed it, then the word to the next tier; the call is never taken away from them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import (
    Audience,
    Concern,
    ConcernStatus,
    RecipientKind,
    User,
)
from tracker.services import alarms
from tracker.services.messaging.notifications import WARD_NAME_IN_ALERT, MessageRow, insert_messages, prepare_message
from tracker.services.paging.plan import next_tier, paged
from tracker.services.paging.rota import usable_mobile
from tracker.services.paging.rows import CONCERNS, set_columns
from tracker.services.records import audit
from tracker.services.words import NO_WARD_YET


def episode_start(concern: Concern) -> datetime:
    """When the call's current episode began: raised, or reopened (a reopened call is reviewed
    anew, by the same target, from when it was reopened)."""
    return concern.reopened_at or concern.raised_at


def review_due_at(concern: Concern) -> datetime:
    target = (concern.escalation_plan or {}).get("review_target_minutes") or concern.team.review_target_minutes
    return episode_start(concern) + timedelta(minutes=target)


def review_nudges(now: datetime, actor: audit.Actor) -> None:
    """Remind the claimant when the review is overdue, then tell the next tier. The call is never
    taken away from the claimant."""
    due = (
        db.session.execute(
            select(CONCERNS.c.id)
            .where(CONCERNS.c.next_review_nudge_at <= now)
            .order_by(CONCERNS.c.next_review_nudge_at)
            .limit(20)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    for concern_id in due:
        concern = db.session.get_one(Concern, concern_id, populate_existing=True)
        # A reopened call keeps its first review's time, and is ACKNOWLEDGED until reviewed again.
        if concern.status is not ConcernStatus.ACKNOWLEDGED or (concern.reviewed_at and not concern.reopened_at):
            set_columns(concern_id, next_review_nudge_at=None)
            continue
        _nudge(concern, now, actor)


def _nudge(concern: Concern, now: datetime, actor: audit.Actor) -> None:
    """The first nudge reminds the claimant; the second tells the next tier (whoever holds it when
    the word goes out), and is the last. A claimant who cannot be texted is not reminded: the alarm
    is raised on the queue at once and the next tier is told now, not a reminder's wait later."""
    plan = concern.escalation_plan or {}
    recipients: list[dict[str, Any]] = []
    next_at: datetime | None = None
    if concern.review_nudges == 0:
        claimant = db.session.get(User, concern.claimed_by_id) if concern.claimed_by_id else None
        # A claimant whose account was closed is never texted (docs/architecture.md#set-up): the next tier is.
        number = usable_mobile(claimant.mobile) if claimant is not None and claimant.active else None
        if number and claimant is not None:
            recipients = [{"user_id": claimant.id, "number": number}]
            template, stage = "review_reminder", 1
            next_at = now + timedelta(minutes=plan.get("review_reminder_minutes", 10))
        else:
            alarms.raise_alarm("reminder_not_possible")
            audit.record(
                "review_overdue_reminder",
                actor,
                object_type="concern",
                object_id=concern.id,
                concern_id=concern.id,
                changes={
                    "recipients": 0,
                    "reason": "claimant_has_no_mobile" if claimant is None or claimant.active else "claimant_left",
                },
            )
    if not next_at:
        recipients = [p for p in next_tier(plan, concern.team, now) if p.get("number")]
        template, stage = "review_overdue", 2
    rows = [row for person in recipients if (row := _nudge_row(concern, person, template)) is not None]
    insert_messages(rows, actor)
    target: audit.Target = {"object_type": "concern", "object_id": concern.id, "concern_id": concern.id}
    action = "review_overdue_reminder" if stage == 1 else "review_overdue_escalated"
    changes: dict[str, Any] = {"recipients": len(rows)}
    if stage == 2:
        changes["paged"] = paged(recipients)
    audit.record(action, actor, **target, changes=changes)
    set_columns(concern.id, review_nudges=stage, next_review_nudge_at=next_at)


def _nudge_row(concern: Concern, person: dict[str, Any], template: str) -> MessageRow | None:
    return prepare_message(
        concern_id=concern.id,
        audience=Audience.CLINICIAN,
        recipient_kind=RecipientKind.USER if person.get("user_id") else RecipientKind.CONTACT,
        recipient_user_id=person.get("user_id"),
        to_number=person["number"],
        template_id=template,
        variables={
            "reference": concern.reference,
            "ward": (concern.ward.name if concern.ward else NO_WARD_YET)[:WARD_NAME_IN_ALERT],
            "claimant": concern.claimed_by.display_name if concern.claimed_by else "a colleague",
            "link": f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/triage/c/{concern.reference}",
        },
        locale=current_app.config["BABEL_DEFAULT_LOCALE"],
        idempotency_key=f"concern:{concern.id}:{template}:{concern.reopened_at or concern.acknowledged_at:%Y%m%d%H%M%S}:"
        f"{person.get('user_id') or person['number']}",
    )


def acknowledged_values(episode_started_at: datetime, review_target_minutes: int, now: datetime) -> dict[str, Any]:
    """What a claim (or a reopening) sets for the review clock."""
    due = max(episode_started_at + timedelta(minutes=review_target_minutes), now)
    return {"review_nudges": 0, "next_review_nudge_at": due}
