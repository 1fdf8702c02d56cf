"""Warnings about a saved number that cannot get texts (docs/architecture.md#set-up): a ward's nurse in charge or a
team's duty phone. The number is kept (a landline still takes the nurse in charge's alerts as voice calls); the
person who saved it is told why texts will not reach it and what happens instead. The Wards and team pages show
these after saving; `flask tracker update-ward` and `update-team` print them."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import EscalationPolicy, SmsOptOut, Team, Ward
from tracker.services.phone import PhoneProblem, display_phone, parse_phone
from tracker.services.setup.settings import current_settings

LANDLINE = "landline"
ABROAD = "abroad"
STOPPED = "stopped"


def why_no_texts(number: str | None) -> str | None:
    """Why texts cannot reach this number (LANDLINE, ABROAD or STOPPED); None when they can, or there is none."""
    if not number:
        return None
    try:
        phone = parse_phone(number)
    except PhoneProblem:
        return LANDLINE  # not a number the text provider takes (it was saved before today's checks)
    if not phone.is_mobile:
        return LANDLINE
    if phone.region not in current_settings().allowed_regions:
        return ABROAD
    if db.session.scalar(select(SmsOptOut.opted_out).where(SmsOptOut.number == phone.e164)):
        return STOPPED
    return None


def _reason(kind: str) -> str:
    regions = ", ".join(sorted(current_settings().allowed_regions))
    return {
        LANDLINE: "it is a landline (or another number that is not a mobile), and texts reach only mobiles",
        ABROAD: f"it is a mobile outside the countries the trust texts ({regions}), so the text provider may refuse "
        "texts to it",
        STOPPED: "it replied STOP to the tracker's texts, so nothing is sent to it until it texts START to the "
        "tracker's number",
    }[kind]


def nurse_in_charge_warnings(ward: Ward) -> list[str]:
    """What the person who saved the ward's nurse in charge's number should know about it."""
    kind = why_no_texts(ward.nurse_in_charge_phone)
    if kind is None:
        return []
    number = display_phone(ward.nurse_in_charge_phone)
    then = {
        LANDLINE: "Alerts about a worse daily-check answer will reach it as voice calls instead of texts.",
        ABROAD: "Alerts about a worse daily-check answer may not arrive: give a UK mobile if there is one.",
        STOPPED: "Alerts about a worse daily-check answer will not arrive until then.",
    }[kind]
    return [f"The nurse in charge's number {number} was saved, but it cannot get texts: {_reason(kind)}. {then}"]


def duty_phone_warnings(team: Team) -> list[str]:
    """What the person who saved a team should know about its duty phone: whether new calls can alert anyone."""
    with_policy = db.session.scalar(select(EscalationPolicy.id).where(EscalationPolicy.team_id == team.id))
    if not team.duty_phone:
        if with_policy:
            return []
        return [
            f"{team.name} has no duty phone and no escalation policy, so new calls cannot alert anyone. Give a duty "
            "phone, or set up the team's rota and escalation policy on the On call pages."
        ]
    kind = why_no_texts(team.duty_phone)
    if kind is None:
        return []
    then = (
        "The team's escalation policy pages its rota instead, so the duty phone is not texted while it has one."
        if with_policy
        else "New calls alert the duty phone by text, so they may not reach anyone."
    )
    number = display_phone(team.duty_phone)
    return [f"The duty phone {number} was saved, but it cannot get texts: {_reason(kind)}. {then}"]
