"""A shift change while a call waits unclaimed (docs/architecture.md#paging): the people who came on shift for a
tier the call has already paged hear of it at once, not at the next step (which may be the fallback)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Audience, Concern, ConcernStatus, Message
from tracker.services.messaging.notifications import insert_messages
from tracker.services.paging.plan import FALLBACK, Holders, alert_rows, paged, recipients, step_at
from tracker.services.paging.rota import on_call
from tracker.services.paging.rows import CONCERNS
from tracker.services.records import audit


def page_new_holders(now: datetime, actor: audit.Actor, limit: int = 50) -> int:
    """A call still unclaimed at a shift change: page the new holders of every tier it has already
    paged, who have not been paged for it yet, at once (not at the next step, which may be the
    fallback). An ACK pause does not hold this: the person who paused it may have gone home.
    Returns how many people were paged."""
    waiting = db.session.execute(
        select(
            CONCERNS.c.id,
            CONCERNS.c.team_id,
            CONCERNS.c.escalation_plan,
            CONCERNS.c.escalation_position,
            CONCERNS.c.reopened_at,
        )
        .where(
            CONCERNS.c.status == ConcernStatus.NEW.value,
            CONCERNS.c.next_escalation_at.is_not(None),
            CONCERNS.c.escalation_position > 0,
        )
        .order_by(CONCERNS.c.id)
        .limit(limit)
    ).all()
    waiting = [row for row in waiting if row.escalation_plan and row.escalation_plan.get("policy_id") is not None]
    if not waiting:
        return 0
    already = _paged_users({row.id: row.reopened_at for row in waiting})
    holders: dict[int, Holders] = {}
    total = 0
    for row in waiting:
        if row.team_id not in holders:
            holders[row.team_id] = on_call(row.team_id, now)
        newcomers = _newcomers(row.escalation_plan, row.escalation_position, holders[row.team_id], already[row.id])
        if newcomers:
            total += _page_newcomers(row.id, newcomers, now, actor)
    return total


def _paged_users(episodes: dict[int, datetime | None]) -> dict[int, set[int]]:
    """Who has been paged for each call in its current episode (since it was raised, or reopened)."""
    found: dict[int, set[int]] = {concern_id: set() for concern_id in episodes}
    for concern_id, user_id, created_at in db.session.execute(
        select(Message.concern_id, Message.recipient_user_id, Message.created_at).where(
            Message.concern_id.in_(episodes),
            Message.audience == Audience.CLINICIAN,
            Message.recipient_user_id.is_not(None),
        )
    ):
        if concern_id is None or user_id is None:
            continue
        started = episodes[concern_id]
        if started is None or created_at >= started:
            found[concern_id].add(user_id)
    return found


def _newcomers(
    plan: dict[str, Any], position: int, holders: Holders, already: set[int]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(step, person) for each holder now of a tier already paged who has not been paged for the
    call and can be alerted, on the channel of the latest step that paged that tier."""
    latest: dict[str, dict[str, Any]] = {}
    for earlier in range(position):
        step = step_at(plan, earlier)
        if step is not None and step["label"] != FALLBACK:
            for tier in step["tiers"]:
                latest[tier] = step
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    seen: set[int] = set()
    for tier, step in latest.items():
        for person in recipients(plan, {"tiers": [tier]}, _NO_TEAM, holders):
            if person["number"] and person["user_id"] not in already and person["user_id"] not in seen:
                seen.add(person["user_id"])
                found.append((step, person))
    return found


def _page_newcomers(
    concern_id: int, newcomers: list[tuple[dict[str, Any], dict[str, Any]]], now: datetime, actor: audit.Actor
) -> int:
    locked = db.session.scalar(
        select(CONCERNS.c.id)
        .where(CONCERNS.c.id == concern_id, CONCERNS.c.status == ConcernStatus.NEW.value)
        .with_for_update(skip_locked=True)
    )
    if locked is None:  # claimed meanwhile, or a clinician holds it right now: looked at again next pass
        return 0
    concern = db.session.get_one(Concern, concern_id, populate_existing=True)
    plan = concern.escalation_plan or {}
    coalesce = concern.flagged_burst or concern.flagged_automated
    rows = []
    for step, person in newcomers:
        rows += alert_rows(
            concern,
            plan,
            step,
            [person],
            position=concern.escalation_position - 1,
            coalesce=coalesce,
            now=now,
            key=f"handover:{person['user_id']}",
        )
    if not rows:
        return 0
    insert_messages(rows, actor)
    audit.record(
        "escalation_handover_paged",
        actor,
        object_type="concern",
        object_id=concern_id,
        concern_id=concern_id,
        changes={"paged": paged([person for _step, person in newcomers])},
    )
    return len(rows)


class _NoTeam:
    """Rota tiers only: a shift change never changes a duty phone or the fallback."""

    id = 0
    name = ""
    duty_phone = None


_NO_TEAM = _NoTeam()
