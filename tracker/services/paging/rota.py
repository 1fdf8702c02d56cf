"""Who is on call (docs/architecture.md#paging): repeating patterns in the trust's local time, one-off overrides
and extra shifts, and the gaps a manager must fill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import RotaPattern, Shift, ShiftKind, SmsOptOut, Team, Tier, User, user_team
from tracker.problems import Problem
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings

TIER_ORDER = [Tier.PRIMARY, Tier.SECONDARY, Tier.LEAD]


class RotaProblem(Problem):
    """A rota change that cannot be saved; the message says why in plain English."""


@dataclass(frozen=True)
class OnCall:
    user_id: int
    name: str
    mobile: str | None  # E.164, or None when the person has no usable mobile
    tier: Tier

    @property
    def can_be_alerted(self) -> bool:
        return self.mobile is not None


@dataclass(frozen=True)
class Slot:
    """One shift as shown on the rota page."""

    tier: Tier
    user_id: int
    starts_at: datetime
    ends_at: datetime
    source: str  # "pattern", "override" or "extra"
    shift_id: int | None = None


def _tz() -> ZoneInfo:
    return ZoneInfo(current_settings().timezone)


def _anchor(pattern: PatternShape) -> datetime:
    hours, minutes = (int(part) for part in pattern.start_local.split(":"))
    return datetime.combine(pattern.anchor_date, time(hours, minutes))  # naive local wall time


class PatternShape(Protocol):
    """What working out a pattern's shift reads: a RotaPattern, or a row of these columns (`_PATTERNS_NOW`)."""

    active: bool
    people: list[int]
    tier: Tier
    start_local: str
    shift_hours: int
    anchor_date: date


def pattern_slot(pattern: PatternShape, at: datetime) -> Slot | None:
    """The pattern's shift at `at`. Shift boundaries are local wall-clock times, so a shift from
    08:00 starts at 08:00 whatever the season (a night across a clock change is an hour
    shorter or longer)."""
    if not pattern.active or not pattern.people:
        return None
    tz = _tz()
    wall = at.astimezone(tz).replace(tzinfo=None)
    anchor = _anchor(pattern)
    if wall < anchor:
        return None
    length = timedelta(hours=pattern.shift_hours)
    index = int((wall - anchor) // length)
    start_wall = anchor + index * length
    return Slot(
        pattern.tier,
        pattern.people[index % len(pattern.people)],
        _to_utc(start_wall, tz),
        _to_utc(start_wall + length, tz),
        "pattern",
    )


def _to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (the hour repeated in autumn) means its first occurrence.
    return wall.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))


def slots(team_id: int, start: datetime, end: datetime) -> list[Slot]:
    """Every shift touching [start, end): patterns, overrides and extras, by tier and time."""
    found: list[Slot] = []
    for pattern in db.session.scalars(
        select(RotaPattern).where(RotaPattern.team_id == team_id, RotaPattern.active.is_(True))
    ):
        at = start
        seen = set()
        while at < end:
            slot = pattern_slot(pattern, at)
            if slot is None:
                at += timedelta(hours=1)
                continue
            if slot.starts_at not in seen:
                seen.add(slot.starts_at)
                found.append(slot)
            at = slot.ends_at
    for shift in db.session.scalars(
        select(Shift).where(
            Shift.team_id == team_id, Shift.cancelled_at.is_(None), Shift.starts_at < end, Shift.ends_at > start
        )
    ):
        found.append(Slot(shift.tier, shift.user_id, shift.starts_at, shift.ends_at, shift.kind.value, shift.id))
    return sorted(found, key=lambda s: (TIER_ORDER.index(s.tier), s.starts_at, s.source))


def on_call(team_id: int, at: datetime | None = None) -> dict[Tier, list[OnCall]]:
    """Who is on call for each tier at `at` (default now): an override replaces the pattern's
    person for its tier; an extra shift adds a person."""
    at = at or utcnow()
    people: dict[Tier, list[int]] = {tier: [] for tier in TIER_ORDER}
    overrides: dict[Tier, list[int]] = {tier: [] for tier in TIER_ORDER}
    # Plain rows of the columns needed, not ORM objects: this runs in every concern's transaction.
    for shift in db.session.execute(_SHIFTS_NOW, {"team_id": team_id, "at": at}):
        (overrides if shift.kind is ShiftKind.OVERRIDE else people)[shift.tier].append(shift.user_id)
    for pattern in db.session.execute(_PATTERNS_NOW, {"team_id": team_id}):
        if overrides[pattern.tier]:
            continue
        slot = pattern_slot(pattern, at)
        if slot is not None:
            people[pattern.tier].append(slot.user_id)
    for tier in TIER_ORDER:
        people[tier] = overrides[tier] + people[tier]
    ids = {user_id for ids in people.values() for user_id in ids}
    users = _members_among(team_id, ids)
    mobiles = {user_id: usable_mobile(user.mobile) for user_id, user in users.items()}
    stopped = opted_out({number for number in mobiles.values() if number})
    result: dict[Tier, list[OnCall]] = {}
    for tier in TIER_ORDER:
        seen: list[OnCall] = []
        for user_id in people[tier]:
            user = users.get(user_id)
            if user is None or user_id in [p.user_id for p in seen]:  # left, or no longer in the team
                continue
            mobile = mobiles[user_id]
            seen.append(OnCall(user.id, user.display_name, None if mobile in stopped else mobile, tier))
        result[tier] = seen
    return result


_SHIFTS_NOW = select(Shift.tier, Shift.user_id, Shift.kind).where(
    Shift.team_id == bindparam("team_id"),
    Shift.cancelled_at.is_(None),
    Shift.starts_at <= bindparam("at"),
    Shift.ends_at > bindparam("at"),
)
_PATTERNS_NOW = (
    select(
        RotaPattern.active,
        RotaPattern.people,
        RotaPattern.tier,
        RotaPattern.start_local,
        RotaPattern.shift_hours,
        RotaPattern.anchor_date,
    )
    .where(RotaPattern.team_id == bindparam("team_id"), RotaPattern.active.is_(True))
    .order_by(RotaPattern.id)
)


class Member(NamedTuple):
    """A person on the team, as the rota needs them."""

    id: int
    display_name: str
    mobile: str | None


def _members_among(team_id: int, user_ids: set[int]) -> dict[int, Member]:
    """Those of these people who are active members of the team now: someone who has left, or moved to another
    team, is never on call for it, whatever the rota still says (docs/architecture.md#set-up)."""
    if not user_ids:
        return {}
    rows = db.session.execute(_MEMBERS, {"ids": sorted(user_ids), "team_id": team_id})
    return {row.id: Member(row.id, row.display_name, row.mobile) for row in rows}


# Built once, as every concern's transaction runs them.
_MEMBERS = (
    select(User.id, User.display_name, User.mobile)
    .join(user_team, user_team.c.user_id == User.id)
    .where(
        User.id.in_(bindparam("ids", expanding=True)),
        User.active.is_(True),
        user_team.c.team_id == bindparam("team_id"),
    )
)
_OPTED_OUT = select(SmsOptOut.number).where(
    SmsOptOut.number.in_(bindparam("numbers", expanding=True)), SmsOptOut.opted_out.is_(True)
)


def usable_mobile(number: str | None) -> str | None:
    """The number in E.164 if it can be texted from here, else None."""
    if not number:
        return None
    try:
        phone = parse_phone(number)
    except PhoneProblem:
        return None
    return phone.e164 if phone.textable(current_settings().allowed_regions) else None


def opted_out(numbers: set[str]) -> set[str]:
    """Which of these numbers replied STOP: the provider refuses every text and call to them, so
    they count as no usable mobile until they text START."""
    if not numbers:
        return set()
    return set(db.session.scalars(_OPTED_OUT, {"numbers": sorted(numbers)}))


@dataclass(frozen=True)
class Gap:
    """A stretch of time when nobody at the primary tier can be alerted."""

    starts_at: datetime
    ends_at: datetime
    reason: str  # "nobody" (no one on the rota) or "no_mobile" (on call, but no usable mobile)


def gaps(team_id: int, start: datetime, end: datetime, tier: Tier = Tier.PRIMARY) -> list[Gap]:
    """When, in [start, end), a tier (the policy's first, by default) could alert nobody. Worked out from one
    read of the rota: who is on call only changes at a shift's start or end, so each stretch
    between those moments is checked once. Someone who has left or moved team counts as nobody."""
    primary = [slot for slot in slots(team_id, start, end) if slot.tier is tier]
    users = _members_among(team_id, {s.user_id for s in primary})
    mobiles = {uid: usable_mobile(user.mobile) for uid, user in users.items()}
    stopped = opted_out({number for number in mobiles.values() if number})
    reachable = {uid: mobiles[uid] is not None and mobiles[uid] not in stopped for uid in users}
    moments = sorted({start, *(t for slot in primary for t in (slot.starts_at, slot.ends_at) if start < t < end)})
    found: list[Gap] = []
    for index, moment in enumerate(moments):
        until = moments[index + 1] if index + 1 < len(moments) else end
        active = [slot for slot in primary if slot.starts_at <= moment < slot.ends_at]
        overrides = [slot for slot in active if slot.source == "override"]
        people = [slot.user_id for slot in overrides or [s for s in active if s.source == "pattern"]]
        people += [slot.user_id for slot in active if slot.source == "extra"]
        if any(reachable.get(user_id) for user_id in people):
            continue
        reason = "no_mobile" if any(user_id in users for user_id in people) else "nobody"
        if found and found[-1].ends_at == moment and found[-1].reason == reason:
            found[-1] = Gap(found[-1].starts_at, until, reason)
        else:
            found.append(Gap(moment, until, reason))
    return found


# --- changing the rota ----------------------------------------------------------------------------


def team_member(team: Team, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active or team.id not in user.team_ids:
        raise RotaProblem("Choose people from this team")
    return user


def add_pattern(
    actor: audit.Actor,
    team: Team,
    *,
    tier: Tier,
    name: str,
    start_local: str,
    shift_hours: int,
    anchor_date: date,
    people: list[int],
) -> RotaPattern:
    try:
        hours, minutes = (int(part) for part in start_local.split(":"))
        time(hours, minutes)
    except ValueError:
        raise RotaProblem("Start time must be like 08:00") from None
    if not 1 <= shift_hours <= 24:
        raise RotaProblem("Shifts must be between 1 and 24 hours long")
    if not people:
        raise RotaProblem("Choose who takes turns on this pattern")
    for user_id in people:
        team_member(team, user_id)
    pattern = RotaPattern(
        team_id=team.id,
        tier=tier,
        name=(name or "").strip()[:80] or f"{tier.value} rota",
        start_local=f"{hours:02d}:{minutes:02d}",
        shift_hours=shift_hours,
        anchor_date=anchor_date,
        people=list(people),
        active=True,
    )
    db.session.add(pattern)
    db.session.flush()
    audit.record(
        "rota_pattern_added",
        actor,
        object_type="rota_pattern",
        object_id=pattern.id,
        changes={"team_id": team.id, "tier": tier.value, "shift_hours": shift_hours, "people": list(people)},
    )
    return pattern


def end_pattern(actor: audit.Actor, pattern: RotaPattern) -> None:
    pattern.active = False
    audit.record(
        "rota_pattern_ended",
        actor,
        object_type="rota_pattern",
        object_id=pattern.id,
        changes={"team_id": pattern.team_id},
    )


def add_shift(
    actor: audit.Actor,
    team: Team,
    *,
    tier: Tier,
    user_id: int,
    starts_at: datetime,
    ends_at: datetime,
    kind: ShiftKind = ShiftKind.OVERRIDE,
) -> Shift:
    """An override (cover or a swap: replaces the pattern's person) or an extra person."""
    team_member(team, user_id)
    if ends_at <= starts_at:
        raise RotaProblem("The shift must end after it starts")
    if ends_at - starts_at > timedelta(days=14):
        raise RotaProblem("A one-off shift can be at most 14 days long")
    if ends_at <= utcnow():
        raise RotaProblem("The shift has already ended")
    shift = Shift(
        team_id=team.id,
        tier=tier,
        user_id=user_id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by_id=actor.id if actor.type == "user" else None,
    )
    db.session.add(shift)
    db.session.flush()
    audit.record(
        "shift_added",
        actor,
        object_type="shift",
        object_id=shift.id,
        changes={"team_id": team.id, "tier": tier.value, "user_id": user_id, "kind": kind.value},
    )
    return shift


def cancel_shift(actor: audit.Actor, shift: Shift) -> None:
    shift.cancelled_at = utcnow()
    audit.record("shift_cancelled", actor, object_type="shift", object_id=shift.id, changes={"team_id": shift.team_id})
