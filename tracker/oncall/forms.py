"""The on-call forms: a rota pattern, a one-off shift, an escalation policy. Each is a `PostedForm`
(web/posted.py) whose first problem names its field and says what to do, in plain English; each gives
the service plain values (`values()`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import Field, SelectMultipleField, StringField
from wtforms.validators import StopValidation

from tracker import numbers
from tracker.models import AlertChannel, ShiftKind, Tier
from tracker.services.paging.policy import StepSpec
from tracker.services.words import CHANNEL_WORDS, TIER_WORDS
from tracker.web.posted import PostedForm, clock_time, iso_date, one_of, raw, typed, whole_number

MAX_STEPS = 6  # rows on the policy form


def local_moment(day: date, at: time, tz_name: str) -> datetime | None:
    """A wall-clock time in the trust's zone as UTC; None for a time that does not exist that day
    (the clocks go forward). One that happens twice (the clocks go back) means the first."""
    tz = ZoneInfo(tz_name)
    wall = datetime.combine(day, at)
    moment = wall.replace(tzinfo=tz)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return moment.astimezone(UTC)


def _team_members(empty_message: str | None, message: str):
    """People chosen from the team (the form is read with `members`, their ids); with
    `empty_message`, a list in order with at least one."""

    def check(form: PostedForm, field: Field) -> None:
        chosen: list[int] = []
        for value in field.raw_data or ():
            if not value and empty_message:
                continue  # an unused "next person" choice
            person = numbers.database_id(value)
            if person is None or person not in form.context["members"]:
                raise StopValidation(message)
            if person not in chosen:
                chosen.append(person)
        if not chosen:
            raise StopValidation(empty_message or message)
        field.data = chosen

    return check


class PatternForm(PostedForm):
    tier = StringField(validators=[one_of(TIER_WORDS, "Choose the tier this pattern covers")])
    name = StringField(validators=[typed("The name", 80, multiline=False)])
    start_local = StringField(validators=[clock_time("start time")])
    shift_hours = StringField(validators=[whole_number("Shift length in hours", 1, 24)])
    anchor_date = StringField(validators=[iso_date("first day")])
    people = SelectMultipleField(
        validate_choice=False,
        validators=[_team_members("Choose who takes turns on this pattern, in order", "Choose people from this team")],
    )

    def values(self) -> dict[str, Any]:
        self.checked()
        return {
            "tier": Tier(self.tier.data),
            "name": self.name.data,
            "start_local": f"{self.start_local.data:%H:%M}",
            "shift_hours": self.shift_hours.data,
            "anchor_date": self.anchor_date.data,
            "people": self.people.data,
        }


class ShiftForm(PostedForm):
    """Read with `members` (the team's ids) and `tz` (the trust's zone, for the times typed)."""

    tier = StringField(validators=[one_of(TIER_WORDS, "Choose the tier")])
    kind = StringField(
        validators=[one_of({k.value for k in ShiftKind}, "Choose whether this replaces or joins the rota")]
    )
    user_id = StringField(validators=[_team_members(None, "Choose someone from this team")])
    start_date = StringField(validators=[iso_date("start date")])
    start_time = StringField(validators=[clock_time("start time")])
    end_date = StringField(validators=[iso_date("end date")])
    end_time = StringField(validators=[clock_time("end time")])

    def _moment(self, day: Field, at: Field) -> datetime | None:
        if day.errors or at.errors:
            return None
        moment = local_moment(day.data, at.data, self.context["tz"])
        if moment is None:
            self.refuse(
                at.name,
                f"{at.data:%H:%M} does not exist on {day.data:%-d %B %Y}: the clocks go forward an hour. "
                "Choose another time",
            )
        return moment

    def values(self) -> dict[str, Any]:
        starts = self._moment(self.start_date, self.start_time)
        ends = self._moment(self.end_date, self.end_time)
        if starts and ends and ends <= starts:
            self.refuse("end_time", "The shift must end after it starts")
        self.checked()
        return {
            "tier": Tier(self.tier.data),
            "kind": ShiftKind(self.kind.data),
            "user_id": self.user_id.data[0],
            "starts_at": starts,
            "ends_at": ends,
        }


def _step_rows() -> dict[str, Field]:
    """The policy form's rows of steps, read by `PolicyForm.steps()`: a row with no tier ticked is no step."""
    rows: dict[str, Any] = {}
    for index in range(MAX_STEPS):
        rows[f"step{index}_tiers"] = SelectMultipleField(validate_choice=False)
        rows[f"step{index}_channel"] = StringField()
        rows[f"step{index}_wait"] = StringField()
    return rows


_StepRows: type[PostedForm] = type("_StepRows", (PostedForm,), _step_rows())


class PolicyForm(_StepRows):  # type: ignore[misc, valid-type]
    fallback_name = StringField(
        validators=[
            typed(
                "The fallback's name",
                80,
                multiline=False,
                required="Name the fallback, for example Site manager or Hospital at night",
            )
        ]
    )
    repeat_times = StringField(validators=[whole_number("Repeats", 0, 5)])
    fallback_number = StringField()  # the service checks it is a number that can be called
    fallback_channel = StringField(validators=[one_of(CHANNEL_WORDS, "Choose how the fallback is alerted")])
    fallback_wait_minutes = StringField(validators=[whole_number("The fallback's repeat", 1, 60)])
    ack_pause_minutes = StringField(validators=[whole_number("The ACK pause", 1, 30)])
    ack_ceiling_minutes = StringField(validators=[whole_number("The most ACKs may hold a call", 1, 30)])
    alert_accept_seconds = StringField(validators=[whole_number("The time an alert has to be accepted", 30, 600)])
    review_reminder_minutes = StringField(validators=[whole_number("The time before the next tier is told", 1, 120)])

    def steps(self) -> list[StepSpec]:
        steps: list[StepSpec] = []
        for index in range(MAX_STEPS):
            tiers = [t for t in self[f"step{index}_tiers"].data or () if t in TIER_WORDS]
            if not tiers:
                continue
            label = f"Step {len(steps) + 1}"
            channel = self[f"step{index}_channel"]
            wait = numbers.whole_number(raw(self[f"step{index}_wait"]), 1, 60)
            if raw(channel) not in CHANNEL_WORDS:
                self.refuse(channel.name, f"{label}: choose text or voice")
            elif wait is None:
                self.refuse(f"step{index}_wait", f"{label}: the wait must be a whole number from 1 to 60")
            else:
                steps.append(StepSpec(tuple(Tier(t) for t in dict.fromkeys(tiers)), AlertChannel(raw(channel)), wait))
        if not steps and not self.later_problems:
            self.refuse("step0_tiers", "Tick at least one tier in the first step")
        return steps

    def values(self) -> dict[str, Any]:
        steps = self.steps()
        self.checked()
        return {
            "steps": steps,
            "repeat_times": self.repeat_times.data,
            "fallback_name": self.fallback_name.data,
            "fallback_number": raw(self.fallback_number)[:40],
            "fallback_channel": AlertChannel(self.fallback_channel.data),
            "fallback_wait_minutes": self.fallback_wait_minutes.data,
            "ack_pause_minutes": self.ack_pause_minutes.data,
            "ack_ceiling_minutes": self.ack_ceiling_minutes.data,
            "alert_accept_seconds": self.alert_accept_seconds.data,
            "review_reminder_minutes": self.review_reminder_minutes.data,
        }


class ResendForm(PostedForm):
    number = StringField()  # a new number to send to, or empty for the same one; the service checks it
