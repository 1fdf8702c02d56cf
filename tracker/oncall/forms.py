"""Reading the on-call forms: each function returns plain values for one service call, or raises
FormProblem naming the field and saying what to do, in plain English."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from tracker.models import AlertChannel, ShiftKind, Tier
from tracker.problems import FieldProblem as FormProblem
from tracker.services.paging.policy import StepSpec
from tracker.services.words import CHANNEL_WORDS, TIER_WORDS
from tracker.web.typed_text import typed_text

MAX_STEPS = 6  # rows on the policy form


def _int(form: MultiDict, name: str, label: str, low: int, high: int) -> int:
    raw = (form.get(name) or "").strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise FormProblem(name, f"{label} must be a whole number from {low} to {high}")
    return int(raw)


def _choice(form: MultiDict, name: str, allowed: dict, message: str) -> str:
    value = form.get(name) or ""
    if value not in allowed:
        raise FormProblem(name, message)
    return value


def _date(raw: str, field: str, label: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise FormProblem(field, f"Enter the {label} as a date, like 2026-12-01") from None


def _time(raw: str, field: str, label: str) -> time:
    text = (raw or "").strip().replace(".", ":")
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise FormProblem(field, f"Enter the {label} as a 24-hour time, like 08:00 or 20:00") from None


def local_moment(day: date, at: time, tz_name: str, field: str) -> datetime:
    """A wall-clock time in the trust's zone as UTC. A time that does not exist that day (the
    clocks go forward) is refused; one that happens twice (the clocks go back) means the first."""
    tz = ZoneInfo(tz_name)
    wall = datetime.combine(day, at)
    moment = wall.replace(tzinfo=tz)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise FormProblem(
            field, f"{at:%H:%M} does not exist on {day:%-d %B %Y}: the clocks go forward an hour. Choose another time"
        )
    return moment.astimezone(UTC)


def pattern(form: MultiDict, team_member_ids: set[int]) -> dict:
    tier = _choice(form, "tier", TIER_WORDS, "Choose the tier this pattern covers")
    name = typed_text(form, "name", label="The name", limit=80, multiline=False)
    start_local = _time(form.get("start_local", ""), "start_local", "start time")
    shift_hours = _int(form, "shift_hours", "Shift length in hours", 1, 24)
    anchor = _date(form.get("anchor_date", ""), "anchor_date", "first day")
    people = []
    for raw in form.getlist("people"):
        if not raw:
            continue  # an unused "next person" choice
        if not raw.isdigit() or int(raw) not in team_member_ids:
            raise FormProblem("people", "Choose people from this team")
        if int(raw) not in people:
            people.append(int(raw))
    if not people:
        raise FormProblem("people", "Choose who takes turns on this pattern, in order")
    return {
        "tier": Tier(tier),
        "name": name,
        "start_local": f"{start_local:%H:%M}",
        "shift_hours": shift_hours,
        "anchor_date": anchor,
        "people": people,
    }


def shift(form: MultiDict, team_member_ids: set[int], tz_name: str) -> dict:
    tier = _choice(form, "tier", TIER_WORDS, "Choose the tier")
    kind = _choice(form, "kind", {k.value: k for k in ShiftKind}, "Choose whether this replaces or joins the rota")
    raw = form.get("user_id") or ""
    if not raw.isdigit() or int(raw) not in team_member_ids:
        raise FormProblem("user_id", "Choose someone from this team")
    starts = local_moment(
        _date(form.get("start_date", ""), "start_date", "start date"),
        _time(form.get("start_time", ""), "start_time", "start time"),
        tz_name,
        "start_time",
    )
    ends = local_moment(
        _date(form.get("end_date", ""), "end_date", "end date"),
        _time(form.get("end_time", ""), "end_time", "end time"),
        tz_name,
        "end_time",
    )
    if ends <= starts:
        raise FormProblem("end_time", "The shift must end after it starts")
    return {"tier": Tier(tier), "kind": ShiftKind(kind), "user_id": int(raw), "starts_at": starts, "ends_at": ends}


def policy(form: MultiDict) -> dict:
    steps: list[StepSpec] = []
    for index in range(MAX_STEPS):
        tiers = [t for t in form.getlist(f"step{index}_tiers") if t in TIER_WORDS]
        if not tiers:
            continue  # an empty row: no step
        channel = _choice(form, f"step{index}_channel", CHANNEL_WORDS, f"Step {len(steps) + 1}: choose text or voice")
        wait = _int(form, f"step{index}_wait", f"Step {len(steps) + 1}: the wait", 1, 60)
        steps.append(StepSpec(tuple(Tier(t) for t in dict.fromkeys(tiers)), AlertChannel(channel), wait))
    if not steps:
        raise FormProblem("step0_tiers", "Tick at least one tier in the first step")
    fallback_name = typed_text(
        form,
        "fallback_name",
        label="The fallback's name",
        limit=80,
        multiline=False,
        required="Name the fallback, for example Site manager or Hospital at night",
    )
    return {
        "steps": steps,
        "repeat_times": _int(form, "repeat_times", "Repeats", 0, 5),
        "fallback_name": fallback_name,
        "fallback_number": (form.get("fallback_number") or "").strip()[:40],
        "fallback_channel": AlertChannel(
            _choice(form, "fallback_channel", CHANNEL_WORDS, "Choose how the fallback is alerted")
        ),
        "fallback_wait_minutes": _int(form, "fallback_wait_minutes", "The fallback's repeat", 1, 60),
        "ack_pause_minutes": _int(form, "ack_pause_minutes", "The ACK pause", 1, 30),
        "alert_accept_seconds": _int(form, "alert_accept_seconds", "The time an alert has to be accepted", 30, 600),
        "review_reminder_minutes": _int(
            form, "review_reminder_minutes", "The time before the next tier is told", 1, 120
        ),
    }
