"""Who is paged for a call, and when (docs/architecture.md#paging): the team's escalation policy frozen onto the
call, the step due at a given moment, who holds each of its tiers when it fires, the alert rows it sends, and the
first step a new call fires.

The *policy* is frozen when the call is raised (steps, waits, repeats, fallback), so a policy edit never changes a
call in flight. The *people* are not: who holds a tier is looked up on the rota when the step fires, so a call
raised at 19:59 pages the night team at 20:04, not the day team who went home."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app
from sqlalchemy import bindparam, select

from tracker.clock import local
from tracker.extensions import db
from tracker.models import (
    AlertChannel,
    Audience,
    Concern,
    EscalationPolicy,
    EscalationStep,
    MessageChannel,
    RecipientKind,
    Tier,
)
from tracker.services.messaging.notifications import WARD_NAME_IN_ALERT, MessageRow, prepare_message
from tracker.services.paging.rota import OnCall, on_call
from tracker.services.setup.settings import current_settings
from tracker.services.words import NO_WARD_YET

if TYPE_CHECKING:  # concerns imports this module
    from tracker.services.concerns.intake import NewConcern

DEFAULT_WAIT_MINUTES = 5  # a step's wait when the team has no policy
DEFAULT_ACK_CEILING_MINUTES = 10  # how long ACKs may hold paging for one call, from the first
PLAN_VERSION = 2  # 1 (before): the people on call were frozen with the policy; 2: looked up as each step fires

DUTY_PHONE = "duty_phone"  # the tier of a team with no policy: its duty phone
FALLBACK = "fallback"
ROTA_TIERS = frozenset(tier.value for tier in Tier)
NEXT_TIERS = (Tier.SECONDARY, Tier.LEAD)  # who hears that a claimed call's review is overdue


class PagedTeam(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def duty_phone(self) -> str | None: ...


Holders = dict[Tier, list[OnCall]]


def plan_for(team: PagedTeam, review_target_minutes: int) -> dict[str, Any]:
    """The team's policy as plain values to store on the concern: steps, waits, repeats and the
    fallback, but no people (they are looked up when each step fires).

    A team with no policy yet is paged on its duty phone every few minutes until someone claims
    the call (what trusts do today, without the risk of nobody noticing)."""
    rows = db.session.execute(_POLICY_AND_STEPS, {"team_id": team.id}).all()
    if not rows:
        return _duty_phone_plan(team, review_target_minutes)
    policy = rows[0]
    return {
        "version": PLAN_VERSION,
        "steps": [
            {"tiers": list(row.tiers), "channel": row.channel.value, "wait": row.wait_minutes}
            for row in rows
            if row.position is not None
        ],
        "repeat_times": policy.repeat_times,
        "fallback": {
            "name": policy.fallback_name,
            "number": policy.fallback_number,
            "channel": policy.fallback_channel.value,
            "wait": policy.fallback_wait_minutes,
        },
        "ack_pause_minutes": policy.ack_pause_minutes,
        "ack_ceiling_minutes": policy.ack_ceiling_minutes,
        "alert_accept_seconds": policy.alert_accept_seconds,
        "review_reminder_minutes": policy.review_reminder_minutes,
        "review_target_minutes": review_target_minutes,
        "policy_id": policy.id,
    }


# The policy and its steps in order, in one query of plain rows (a policy with no steps: one row, no step).
_POLICY_AND_STEPS = (
    select(
        EscalationPolicy.id,
        EscalationPolicy.repeat_times,
        EscalationPolicy.fallback_name,
        EscalationPolicy.fallback_number,
        EscalationPolicy.fallback_channel,
        EscalationPolicy.fallback_wait_minutes,
        EscalationPolicy.ack_pause_minutes,
        EscalationPolicy.ack_ceiling_minutes,
        EscalationPolicy.alert_accept_seconds,
        EscalationPolicy.review_reminder_minutes,
        EscalationStep.position,
        EscalationStep.tiers,
        EscalationStep.channel,
        EscalationStep.wait_minutes,
    )
    .outerjoin(EscalationStep, EscalationStep.policy_id == EscalationPolicy.id)
    .where(EscalationPolicy.team_id == bindparam("team_id"))
    .order_by(EscalationStep.position, EscalationStep.id)
)


def _duty_phone_plan(team: PagedTeam, review_target_minutes: int) -> dict[str, Any]:
    """A team with no policy: its duty phone, every few minutes until someone claims the call."""
    fallback = {
        "name": f"{team.name} duty phone",
        "number": team.duty_phone,
        "channel": "sms",
        "wait": DEFAULT_WAIT_MINUTES,
    }
    return {
        "version": PLAN_VERSION,
        "steps": [{"tiers": [DUTY_PHONE], "channel": "sms", "wait": DEFAULT_WAIT_MINUTES}],
        "repeat_times": 0,
        "fallback": fallback if team.duty_phone else None,
        "ack_pause_minutes": 5,
        "ack_ceiling_minutes": DEFAULT_ACK_CEILING_MINUTES,
        "alert_accept_seconds": 120,
        "review_reminder_minutes": 10,
        "review_target_minutes": review_target_minutes,
        "policy_id": None,
    }


def step_at(plan: dict[str, Any], position: int) -> dict[str, Any] | None:
    """The step at this position: the policy's steps, repeated, then the fallback for ever. Its
    tiers, channel, wait and label; not who is paged (see `recipients`)."""
    steps = plan["steps"]
    rounds = len(steps) * (plan["repeat_times"] + 1)
    if position < rounds:
        frozen = steps[position % len(steps)]
        return {
            "tiers": list(frozen["tiers"]),
            "channel": frozen["channel"],
            "wait": frozen["wait"],
            "label": f"step {position % len(steps) + 1}"
            + (f", round {position // len(steps) + 1}" if plan["repeat_times"] else ""),
        }
    fallback = plan.get("fallback")
    if not fallback or not fallback.get("number"):
        return None
    return {"tiers": [FALLBACK], "channel": fallback["channel"], "wait": fallback["wait"], "label": FALLBACK}


def holders_now(plan: dict[str, Any], team_id: int, at: datetime) -> Holders:
    """Who holds each rota tier at `at` (nobody for a team paged on its duty phone)."""
    return on_call(team_id, at) if plan.get("policy_id") is not None else {}


def recipients(plan: dict[str, Any], step: dict[str, Any], team: PagedTeam, holders: Holders) -> list[dict[str, Any]]:
    """Who a step pages: the holders of its tiers now, the team's duty phone, or the fallback.
    Anyone on call without a usable mobile is listed with no number (they cannot be alerted)."""
    found: list[dict[str, Any]] = []
    for tier in step["tiers"]:
        if tier == FALLBACK:
            fallback = plan["fallback"]
            found.append({"user_id": None, "name": fallback["name"], "number": fallback["number"], "tier": tier})
        elif tier == DUTY_PHONE:
            if team.duty_phone:
                found.append(
                    {"user_id": None, "name": f"{team.name} duty phone", "number": team.duty_phone, "tier": tier}
                )
        elif tier in ROTA_TIERS:
            found += [
                {"user_id": p.user_id, "name": p.name, "number": p.mobile, "tier": tier}
                for p in holders.get(Tier(tier), [])
            ]
    return found


def next_tier(plan: dict[str, Any], team: PagedTeam, at: datetime) -> list[dict[str, Any]]:
    """Who hears that a claimed call's review is overdue, looked up when the word goes out: the
    secondary and lead on call then, or the duty phone of a team with no policy."""
    if plan.get("policy_id") is None:
        return recipients(plan, {"tiers": [DUTY_PHONE]}, team, {})
    return recipients(plan, {"tiers": [tier.value for tier in NEXT_TIERS]}, team, on_call(team.id, at))


def alert_rows(
    concern: Concern | NewConcern,
    plan: dict[str, Any],
    step: dict[str, Any],
    people: list[dict[str, Any]],
    *,
    position: int,
    coalesce: bool,
    now: datetime,
    key: str = "step",
) -> list[MessageRow]:
    """The outbox rows that page these people for this call (one per person who can be alerted),
    on the step's channel. `key` names the occasion in each row's idempotency key (a step, or a
    shift change), so a restarted worker never pages anyone twice for it."""
    settings = current_settings()
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    variables = {
        "reference": concern.reference,
        "ward": (concern.ward.name if concern.ward else NO_WARD_YET)[:WARD_NAME_IN_ALERT],
        "site": concern.site.name[:WARD_NAME_IN_ALERT],
        "raised": local(concern.raised_at, settings.timezone).strftime("%H:%M"),
        "link": f"{base_url}/triage/c/{concern.reference}",
        "pause": plan.get("ack_pause_minutes", 5),
    }
    voice = step["channel"] == AlertChannel.VOICE.value
    window = int(now.timestamp() // 600)
    occasion = f"step:{position}" if key == "step" else key
    reopened = getattr(concern, "reopened_at", None)
    if reopened is not None:  # a reopened call pages from step 1 again: its own keys
        occasion = f"reopened:{reopened:%Y%m%d%H%M%S}:{occasion}"
    rows: list[MessageRow] = []
    for person in people:
        if not person.get("number"):
            continue
        who = person["user_id"] or person["number"]
        if coalesce:
            idempotency_key = f"team:{concern.team.id}:burst:{window}:{occasion}:{who}"
            template = "voice_alert" if voice else "clinician_alert_burst"
        else:
            idempotency_key = f"concern:{concern.id}:{occasion}:{who}"
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
            idempotency_key=idempotency_key,
            new_key=not coalesce and key == "step",
        )
        if row is not None:
            row["escalation_step"] = position
            row["channel"] = MessageChannel.VOICE if voice else MessageChannel.SMS
            rows.append(row)
    return rows


def paged(people: list[dict[str, Any]]) -> list[str]:
    """What the audit keeps of who was paged: "tier:user id" (a contact such as the fallback or a
    duty phone by its tier alone), never a number."""
    return [f"{p['tier']}:{p['user_id']}" if p.get("user_id") else p["tier"] for p in people if p.get("number")]


def choose_first_step(
    plan: dict[str, Any], team: PagedTeam, holders: Holders
) -> tuple[int, dict[str, Any] | None, list[dict[str, Any]], list[int]]:
    """Which step fires at raise time: the first that reaches anyone (steps with nobody on call
    are skipped). Returns (its position, the step, whom it pages, the positions skipped)."""
    position = 0
    skipped: list[int] = []
    while True:
        step = step_at(plan, position)
        if step is None:
            return position, None, [], skipped
        people = recipients(plan, step, team, holders)
        if step["label"] == FALLBACK or any(p.get("number") for p in people):
            return position, step, people, skipped
        skipped.append(position)
        position += 1
