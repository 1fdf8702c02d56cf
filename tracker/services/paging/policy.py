"""Editing a team's escalation policy (managers and admins; docs/architecture.md#paging)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import AlertChannel, EscalationPolicy, EscalationStep, Team, Tier
from tracker.problems import Problem
from tracker.services.phone import Phone, PhoneProblem, parse_phone
from tracker.services.records import audit
from tracker.services.words import TIER_WORDS


class PolicyProblem(Problem):
    """A policy that cannot be saved; the message says why in plain English."""


@dataclass(frozen=True)
class StepSpec:
    tiers: tuple[Tier, ...]
    channel: AlertChannel
    wait_minutes: int


def policy_of(team: Team) -> EscalationPolicy | None:
    return db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == team.id))


def save_policy(
    actor: audit.Actor,
    team: Team,
    *,
    steps: list[StepSpec],
    repeat_times: int,
    fallback_name: str,
    fallback_number: str,
    fallback_channel: AlertChannel,
    fallback_wait_minutes: int = 10,
    ack_pause_minutes: int = 5,
    ack_ceiling_minutes: int = 10,
    alert_accept_seconds: int = 120,
    review_reminder_minutes: int = 10,
) -> EscalationPolicy:
    """Replace the team's policy. Calls already raised keep the plan frozen on them."""
    _check_steps(steps)
    _check_timings(
        repeat_times,
        fallback_wait_minutes,
        ack_pause_minutes,
        ack_ceiling_minutes,
        alert_accept_seconds,
        review_reminder_minutes,
    )
    fallback = _fallback_phone(fallback_name, fallback_number, fallback_channel)
    policy = policy_of(team) or EscalationPolicy(team_id=team.id)
    policy.repeat_times = repeat_times
    policy.fallback_name = fallback_name.strip()[:80]
    policy.fallback_number = fallback.e164
    policy.fallback_channel = fallback_channel
    policy.fallback_wait_minutes = fallback_wait_minutes
    policy.ack_pause_minutes = ack_pause_minutes
    policy.ack_ceiling_minutes = ack_ceiling_minutes
    policy.alert_accept_seconds = alert_accept_seconds
    policy.review_reminder_minutes = review_reminder_minutes
    policy.steps = [
        EscalationStep(
            position=i, tiers=[t.value for t in step.tiers], channel=step.channel, wait_minutes=step.wait_minutes
        )
        for i, step in enumerate(steps)
    ]
    db.session.add(policy)
    db.session.flush()
    audit.record(
        "escalation_policy_saved",
        actor,
        object_type="escalation_policy",
        object_id=policy.id,
        changes={
            "team_id": team.id,
            "steps": len(steps),
            "repeat_times": repeat_times,
            "ack_pause_minutes": ack_pause_minutes,
            "ack_ceiling_minutes": ack_ceiling_minutes,
            "fallback_channel": fallback_channel.value,
        },
    )
    return policy


def _check_timings(
    repeat_times: int,
    fallback_wait_minutes: int,
    ack_pause_minutes: int,
    ack_ceiling_minutes: int,
    alert_accept_seconds: int,
    review_reminder_minutes: int,
) -> None:
    for value, low, high, message in (
        (repeat_times, 0, 5, "Repeat the steps between 0 and 5 times"),
        (fallback_wait_minutes, 1, 60, "Call the fallback again every 1 to 60 minutes"),
        (ack_pause_minutes, 1, 30, "An ACK pauses paging for 1 to 30 minutes"),
        (ack_ceiling_minutes, 1, 30, "ACKs may hold one call's alerts for 1 to 30 minutes in all"),
        (alert_accept_seconds, 30, 600, "An alert not accepted in 30 to 600 seconds counts as failed"),
        (review_reminder_minutes, 1, 120, "Tell the next tier 1 to 120 minutes after the reminder"),
    ):
        if not low <= value <= high:
            raise PolicyProblem(message)
    if ack_pause_minutes > ack_ceiling_minutes:
        raise PolicyProblem("An ACK's pause cannot be longer than the most ACKs may hold one call's alerts")


def _check_steps(steps: list[StepSpec]) -> None:
    if not steps:
        raise PolicyProblem("A policy needs at least one step")
    if len(steps) > 10:
        raise PolicyProblem("A policy can have at most 10 steps")
    for number, step in enumerate(steps, start=1):
        if not step.tiers:
            raise PolicyProblem(f"Step {number} must alert at least one tier")
        if not 1 <= step.wait_minutes <= 60:
            raise PolicyProblem(f"Step {number}: wait between 1 and 60 minutes")


def _fallback_phone(name: str, number: str, channel: AlertChannel) -> Phone:
    """The fallback's number, parsed; it must be named, and a mobile if it is to be texted."""
    if not (name or "").strip():
        raise PolicyProblem("Name the fallback, for example Site manager or Hospital at night")
    try:
        fallback = parse_phone(number)
    except PhoneProblem:
        raise PolicyProblem("The fallback's phone number is not a valid number") from None
    if channel is AlertChannel.SMS and not fallback.is_mobile:
        raise PolicyProblem("The fallback must be a mobile to be texted, or called by voice")
    return fallback


DEFAULT_STEPS = [
    StepSpec((Tier.PRIMARY,), AlertChannel.SMS, 5),
    StepSpec((Tier.SECONDARY, Tier.LEAD), AlertChannel.SMS, 5),
]


def summary(policy: EscalationPolicy, fallback_shown: str) -> list[str]:
    """The policy in plain words, one line per thing that happens, for the top of its page: "Text the primary.",
    "After 5 minutes: text the secondary and the lead.", … "Finally phone Hospital at night …"."""
    lines = []
    wait_before = None
    for step in policy.steps:
        verb = "phone" if step.channel is AlertChannel.VOICE else "text"
        tiers = " and the ".join(TIER_WORDS[tier].lower() for tier in step.tiers)
        action = f"{verb} the {tiers} on call."
        lines.append(f"After {_minutes(wait_before)}: {action}" if wait_before else action[:1].upper() + action[1:])
        wait_before = step.wait_minutes
    if policy.repeat_times:
        times = "once more" if policy.repeat_times == 1 else f"{policy.repeat_times} more times"
        lines.append(f"After {_minutes(wait_before)}: start again from the first step ({times}).")
    verb = "phone" if policy.fallback_channel is AlertChannel.VOICE else "text"
    lines.append(
        f"Finally, after {_minutes(wait_before)}: {verb} {policy.fallback_name} ({fallback_shown}), and again every "
        f"{_minutes(policy.fallback_wait_minutes)} until someone claims the call."
    )
    return lines


def _minutes(count: int | None) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"
