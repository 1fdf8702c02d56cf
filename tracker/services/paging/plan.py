"""Who is paged for a call, and when (docs/architecture.md#paging): the team's escalation policy turned into steps, the
step due at a given moment, the alert rows each step sends, and the first step a new call fires."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import select

from tracker.clock import local
from tracker.extensions import db
from tracker.models import (
    AlertChannel,
    Audience,
    Concern,
    EscalationPolicy,
    MessageChannel,
    RecipientKind,
    Tier,
)
from tracker.services.messaging.notifications import WARD_NAME_IN_ALERT, MessageRow, prepare_message
from tracker.services.paging.rota import on_call
from tracker.services.setup.settings import current_settings
from tracker.services.setup.wards import TeamInfo

if TYPE_CHECKING:  # concerns imports this module
    from tracker.services.concerns.intake import NewConcern

DEFAULT_WAIT_MINUTES = 5  # a step's wait when the team has no policy


def plan_for(team: TeamInfo, at: datetime) -> dict[str, Any]:
    """The team's policy with the people on call at `at`, as plain values to store on the concern.

    A team with no policy yet is paged on its duty phone every few minutes until someone claims
    the call (what trusts do today, without the risk of nobody noticing)."""
    policy = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == team.id))
    if policy is None:
        return _duty_phone_plan(team)
    people = on_call(team.id, at)
    steps = [
        {
            "tiers": list(step.tiers),
            "recipients": [
                {"user_id": person.user_id, "name": person.name, "number": person.mobile, "tier": tier}
                for tier in step.tiers
                for person in people.get(Tier(tier), [])
            ],
            "channel": step.channel.value,
            "wait": step.wait_minutes,
        }
        for step in policy.steps
    ]
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


def _duty_phone_plan(team: TeamInfo) -> dict[str, Any]:
    """A team with no policy: its duty phone, every few minutes until someone claims the call."""
    duty = [{"user_id": None, "name": f"{team.name} duty phone", "number": team.duty_phone}] if team.duty_phone else []
    fallback = {
        "name": f"{team.name} duty phone",
        "number": team.duty_phone,
        "channel": "sms",
        "wait": DEFAULT_WAIT_MINUTES,
    }
    return {
        "steps": [{"tiers": ["duty_phone"], "recipients": duty, "channel": "sms", "wait": DEFAULT_WAIT_MINUTES}],
        "repeat_times": 0,
        "fallback": fallback if team.duty_phone else None,
        "ack_pause_minutes": 5,
        "alert_accept_seconds": 120,
        "review_reminder_minutes": 10,
        "review_target_minutes": team.review_target_minutes,
        "next_tier": duty,
        "policy_id": None,
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
