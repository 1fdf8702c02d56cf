"""Text-in calls (docs/architecture.md#text-in-calls): a text to the tracker's number from a number with no open call
and no call that ended in the last 72 hours. Nobody's words are thrown away: it becomes a call on the queue of the
team the trust chooses for texts (`settings.text_in_team_id`; until chosen, the trust's first adult team, with an
alarm so someone chooses), with the text as the worry, raised by "not yet known" (a clinician sets the route and
the ward once they have phoned back), channel `sms`. It has no ward until then, so its site is its team's.

It pages only if the trust turns paging for text-in calls on (off by default: anyone can text a number, and a
"wrong number" must not wake the on-call clinician). When on, paging is coalesced per number (one paged call per
number in 30 minutes) and capped trust-wide per hour, with an alarm; a call over the cap is still raised and
shown, never dropped."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, insert, select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import CallerRoute, Channel, Concern, ConcernStatus, Population, Team, User, Ward
from tracker.services import alarms
from tracker.services.concerns.references import new_reference
from tracker.services.concerns.triage_problem import TriageProblem
from tracker.services.paging import escalation
from tracker.services.paging import plan as paging_plan
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.records import audit
from tracker.services.reports import report_facts
from tracker.services.setup.settings import TrustSettings, current_settings

PAGED_PER_NUMBER = timedelta(minutes=30)  # one paged text-in call per number in this time
PAGED_PER_HOUR_CAP = 10  # text-in calls paged across the trust in an hour, beyond which they wait on the queue


def text_in_team(settings: TrustSettings) -> Team | None:
    """The team that takes text-in calls: the trust's choice, else its first active adult team (with an alarm
    until someone chooses)."""
    chosen = db.session.get(Team, settings.text_in_team_id) if settings.text_in_team_id else None
    if chosen is not None and chosen.active:
        return chosen
    alarms.raise_alarm("text_in_team_not_chosen")
    return db.session.scalar(
        select(Team)
        .where(Team.active.is_(True))
        .order_by((Team.population == Population.ADULT).desc(), Team.id)
        .limit(1)
    )


def raise_text_in(number: str, body: str, provider_sid: str | None) -> Concern | None:
    """Raise a text-in call for this text; None only when the trust has no team at all (not set up)."""
    settings = current_settings()
    team = text_in_team(settings)
    if team is None:
        alarms.raise_alarm("text_in_team_not_chosen")
        return None
    now = utcnow()
    try:
        phone = parse_phone(number)
        callback, textable = phone.e164, phone.textable(settings.allowed_regions)
    except PhoneProblem:
        callback, textable = number[:20], False  # a short code or a sender name: kept as given, never texted
    plan = paging_plan.plan_for(team, team.review_target_minutes)
    values = {
        "reference": new_reference(),
        "submission_id": f"sms:{provider_sid or secrets.token_urlsafe(24)}"[:64],
        "ward_id": None,
        "site_id": team.site_id,
        "team_id": team.id,
        "caller_route": CallerRoute.UNKNOWN,
        "callback_number": callback,
        "callback_textable": textable,
        "sms_consent": True,  # they texted us; the trust's rule on texting relatives still applies
        "locale": "en",
        "worry_categories": [],
        "worry_details": body,
        "channel": Channel.SMS,
        "status": ConcernStatus.NEW,
        "version": 1,
        "repeat_count": 0,
        "raised_at": now,
        "updated_at": now,
        "change_in_care": [],
        "review_nudges": 0,
        "unread_reply": False,
        "escalation_plan": plan,
        "escalation_position": 0,
        "next_escalation_at": None,
        **report_facts.raised_values(now, settings.timezone),
    }
    concern_id = db.session.connection().execute(insert(Concern).returning(Concern.id), values).scalar_one()
    concern = db.session.get_one(Concern, concern_id)
    actor = audit.Actor.public()
    audit.record(
        "text_in_raised",
        actor,
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes={"team_id": team.id, "channel": Channel.SMS.value, "callback_textable": textable},
    )
    _page_if_the_trust_wants(concern, plan, settings, actor)
    return concern


def _page_if_the_trust_wants(concern: Concern, plan: dict, settings: TrustSettings, actor: audit.Actor) -> None:
    why_not = _why_not_paged(concern, settings)
    if why_not is not None:
        audit.record(
            "text_in_not_paged",
            actor,
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"reason": why_not},
        )
        return
    now = concern.raised_at
    holders = paging_plan.holders_now(plan, concern.team_id, now)
    first, step, people, skipped = paging_plan.choose_first_step(plan, concern.team, holders)
    concern.escalation_position = first + 1 if step else first
    concern.next_escalation_at = now + timedelta(minutes=step["wait"]) if step else None
    escalation.fire_first_step(concern, plan, first, step, people, skipped, actor, coalesce=False, now=now)


def _why_not_paged(concern: Concern, settings: TrustSettings) -> str | None:
    if not settings.text_in_paging:
        return "paging_off"
    since = concern.raised_at - PAGED_PER_NUMBER
    paged_from_number = db.session.scalar(
        select(func.count()).where(
            Concern.channel == Channel.SMS,
            Concern.caller_route == CallerRoute.UNKNOWN,
            Concern.callback_number == concern.callback_number,
            Concern.raised_at >= since,
            Concern.escalation_position > 0,
            Concern.id != concern.id,
        )
    )
    if paged_from_number:
        return "number_paged_recently"
    paged_this_hour = db.session.scalar(
        select(func.count()).where(
            Concern.channel == Channel.SMS,
            Concern.follows_id.is_(None),
            Concern.raised_at >= concern.raised_at - timedelta(hours=1),
            Concern.escalation_position > 0,
            Concern.id != concern.id,
        )
    )
    if (paged_this_hour or 0) >= PAGED_PER_HOUR_CAP:
        alarms.raise_alarm("text_in_paging_capped")
        return "trust_wide_cap"
    return None


# --- a clinician sets what the text did not say --------------------------------------------------------------


def set_details(concern: Concern, user: User, *, caller_route: CallerRoute, ward: Ward) -> None:
    """The clinician has phoned back: who raised it and on which ward. The call moves to that ward's site and
    team. Audited; a route, once known, is never set back to "not yet known"."""
    if caller_route is CallerRoute.UNKNOWN:
        raise TriageProblem("Choose who raised the call")
    if ward.retired_at is not None:
        raise TriageProblem("That ward is closed. Choose another")
    concern.caller_route = caller_route
    concern.ward_id, concern.site_id, concern.team_id = ward.id, ward.site_id, ward.team_id
    audit.record(
        "text_in_details_set",
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes={"caller_route": caller_route.value, "ward_id": ward.id},
    )
