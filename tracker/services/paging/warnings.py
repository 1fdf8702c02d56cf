"""What staff must know now, shown as a red banner on the queue, concern and on-call pages
(docs/architecture.md#paging): the message worker has stopped; a team's rota has nobody who can be alerted now or
in the next 24 hours; someone on call has no usable mobile; alerts or texts failed and nobody
has dealt with them yet; and any other open system alarm.

The queue refreshes every few seconds for every clinician, so the answer is kept for a few
seconds per set of teams; rota and failed-message changes forget it at once in this process."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from tracker.clock import local, utcnow
from tracker.extensions import db
from tracker.models import EscalationPolicy, SystemAlarm, Team, User
from tracker.services import scope
from tracker.services.alarms import ALARM_TEXT, last_worker_beat, open_alarms, subject_user_id
from tracker.services.messaging import failed_messages
from tracker.services.paging import rota
from tracker.services.people import sign_on_accounts, sign_on_outage
from tracker.services.scope import Permission, Reach
from tracker.services.setup.settings import current_settings

CACHE_SECONDS = 10.0
LOOK_AHEAD = timedelta(hours=24)
# Alarms that the warnings below describe better (with the team and the time), so the banner
# does not say the same thing twice.
DESCRIBED_BELOW = {"rota_gap", "alert_recipient_missing", "alert_failed"}


@dataclass(frozen=True)
class StaffWarning:
    text: str
    link: str | None = None  # an endpoint name for url_for
    link_text: str | None = None
    link_args: tuple[tuple[str, str], ...] = ()


_cache: dict[tuple, tuple[float, list[StaffWarning]]] = {}


def forget() -> None:
    _cache.clear()


def for_user(user: User) -> list[StaffWarning]:
    """The warnings for this person's teams (outreach) or site (manager, admin: every team)."""
    reach = scope.reach(user)
    if reach is Reach.WARD:
        return []
    if reach is Reach.TEAMS:
        team_ids = tuple(sorted(user.team_ids))
    else:
        team_ids = tuple(
            db.session.scalars(select(Team.id).where(scope.teams(user), Team.active.is_(True)).order_by(Team.id))
        )
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], reach.value, team_ids)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = _worker_stopped() + _sign_on_outage() + _alarms() + _rota(team_ids)
    if scope.can(user, Permission.SEE_CALLS):
        found += _failed(user, team_ids)
    if reach is Reach.EVERY_TEAM:
        found += _no_break_glass()
    _cache[key] = (time.monotonic(), found)
    return found


def for_team(team_id: int) -> list[StaffWarning]:
    """The warnings for one team, for its office display: the same words the team's clinicians see."""
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], "display", (team_id,))
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = _worker_stopped() + _sign_on_outage() + _alarms() + _rota((team_id,)) + _failed_count(team_ids=[team_id])
    _cache[key] = (time.monotonic(), found)
    return found


def digest(warnings: list[StaffWarning]) -> str:
    """A short fingerprint, so the queue's refresh notices a new or cleared warning."""
    # A stable hash, not hash(): that differs between processes, so every restart (or a worker
    # started with another seed) would make every open queue fetch the full rows again.
    text = "\n".join(repr(warning) for warning in warnings)
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def _worker_stopped() -> list[StaffWarning]:
    last = last_worker_beat()
    if last is not None and (utcnow() - last).total_seconds() <= current_app.config["WORKER_STALE_SECONDS"]:
        return []
    return [
        StaffWarning(
            "The message worker is not running: no alerts or texts are being sent. Phone the outreach "
            "team's duty phone about new calls, and tell IT."
        )
    ]


def _sign_on_outage() -> list[StaffWarning]:
    """While the sign-on outage switch is on (docs/architecture.md#sign-on), everyone may sign in with a password."""
    outage = sign_on_outage.current()
    if outage is None:
        return []
    return [
        StaffWarning(
            "Sign-on outage: the trust's sign-in is down, so local sign-in with passwords is on for everyone until "
            f"{_when(outage.ends_at, current_settings().timezone)}."
        )
    ]


def _no_break_glass() -> list[StaffWarning]:
    """Administrators are told when accounts are linked to trust accounts but no administrator is break-glass any
    more (closed, or their role changed): nobody could turn on the outage switch."""
    if not sign_on_accounts.links_without_break_glass():
        return []
    return [
        StaffWarning(
            "No administrator can sign in with a password if the trust's sign-in goes down: mark one break-glass "
            "(flask tracker break-glass EMAIL)."
        )
    ]


def _alarms() -> list[StaffWarning]:
    return [StaffWarning(_alarm_text(alarm)) for alarm in open_alarms() if alarm.kind not in DESCRIBED_BELOW]


def _alarm_text(alarm: SystemAlarm) -> str:
    text = ALARM_TEXT.get(alarm.kind, alarm.kind)
    if alarm.kind == "sign_in_attack":
        user_id = subject_user_id(alarm)
        user = db.session.get(User, user_id) if user_id is not None else None
        text = text.format(account=user.email if user else "an account")
    if alarm.kind == "staff_opted_out":
        user_id = subject_user_id(alarm)
        user = db.session.get(User, user_id) if user_id is not None else None
        ours = current_app.config.get("TWILIO_FROM_NUMBER") or "the number the alerts come from"
        text = text.format(account=user.display_name if user else "A clinician", number=ours)
    return text


def _rota(team_ids: tuple[int, ...]) -> list[StaffWarning]:
    now = utcnow()
    tz = current_settings().timezone
    found = []
    with_policy = set(
        db.session.scalars(select(EscalationPolicy.team_id).where(EscalationPolicy.team_id.in_(team_ids or (-1,))))
    )
    for team in db.session.scalars(select(Team).where(Team.id.in_(team_ids or (-1,))).order_by(Team.name)):
        args = (("code", team.code),)
        if team.id not in with_policy:
            # No rota in use: calls page the team's duty phone (paging/plan.py: plan_for).
            if not team.duty_phone:
                found.append(
                    StaffWarning(
                        f"{team.name} has no escalation policy and no duty phone, so new calls cannot alert anyone.",
                        "oncall.policy",
                        "Set up the policy",
                        args,
                    )
                )
            continue
        for gap in rota.gaps(team.id, now, now + LOOK_AHEAD):
            who = "nobody on the rota" if gap.reason == "nobody" else "nobody with a mobile that can get texts"
            if gap.starts_at <= now:
                text = (
                    f"{team.name}: {who} is on call now, so new calls cannot alert anyone"
                    f"{' until ' + _when(gap.ends_at, tz) if gap.ends_at < now + LOOK_AHEAD else ''}. "
                    "The policy's fallback is called instead. Fix the rota."
                )
            else:
                text = f"{team.name}: {who} is on call from {_when(gap.starts_at, tz)} to {_when(gap.ends_at, tz)}."
            found.append(StaffWarning(text, "oncall.rota_page", "Open the rota", args))
        for people in rota.on_call(team.id, now).values():
            for person in people:
                if not person.can_be_alerted:
                    found.append(
                        StaffWarning(
                            f"{person.name} is on call for {team.name} ({person.tier.value}) but has no mobile number "
                            "that can get texts, so they cannot be alerted.",
                            "oncall.rota_page",
                            "Open the rota",
                            args,
                        )
                    )
    return found


def _failed(user: User, team_ids: tuple[int, ...]) -> list[StaffWarning]:
    if scope.reach(user) is Reach.TEAMS:
        return _failed_count(team_ids=list(team_ids))
    return _failed_count(site_id=user.site_id or -1)


def _failed_count(team_ids: list[int] | None = None, site_id: int | None = None) -> list[StaffWarning]:
    count = failed_messages.outstanding_count(team_ids=team_ids, site_id=site_id)
    if not count:
        return []
    many = "100 or more" if count >= 100 else str(count)
    return [
        StaffWarning(
            f"{many} alert{'s' if count != 1 else ''} or text{'s' if count != 1 else ''} did not get "
            "through and nobody has dealt with them yet.",
            "oncall.failed_messages_page",
            "See the failed messages",
        )
    ]


def _when(moment: datetime, tz: str) -> str:
    at = local(moment, tz)
    today = local(utcnow(), tz).date()
    day = (
        "today"
        if at.date() == today
        else ("tomorrow" if at.date() == today + timedelta(days=1) else at.strftime("%a %-d %b"))
    )
    return f"{at:%H:%M} {day}"
