"""Retention (docs/facts.md#retention): when a concern's personal data is due for destruction, and purging it.

The clock starts when the record stops being in use: when the call was closed (a cancelled call:
when it last changed, which is when it was cancelled). The periods are the trust's settings,
minimums from the Records Management Code of Practice:

- adult record: `retention_adult_years` (8) after care ended;
- a child's call: to the `retention_child_until_age`th birthday (25; the 26th if the patient was 17
  when care ended), never less than the adult period; with no date of birth, the longest period the
  trust keeps anything (as if the patient had been born that day). Who is a child: by the date of
  birth (under 18 when care ended; on a paediatric ward, always by the children's rule as before);
  with none, by the age group recorded at close; with that unknown, by the ward (a paediatric ward
  means a child, an adult ward keeps the adult rule);
- a complaint: at least `retention_complaint_years` (10) after closure;
- a serious incident: at least `retention_serious_incident_years` (20);
- a legal hold: never, while it is set.

Purging removes the personal data and keeps a stub: the reference, the ward, site and team, the
route and channel, the dates, the coded outcome and the flags, with `purged_at` set. Everything
personal tied to the concern goes with it: its notes, the bodies, numbers and variables of its
messages, and the payloads and numbers of its message events (inbound texts). The audit trail
holds no personal data (docs/architecture.md#audit), so it is never touched, and each destruction adds an audit
row of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, func, null, select, update

from tracker.clock import utcnow, years_after
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import (
    AgeGroup,
    Concern,
    ConcernNote,
    ConcernStatus,
    Confirmation,
    Message,
    MessageEvent,
    Population,
    Settings,
    SettingsVersion,
    Team,
    Ward,
)
from tracker.problems import Problem
from tracker.services.records import audit, daily_check_retention
from tracker.services.setup import settings_history
from tracker.services.setup.settings import TrustSettings, current_settings, forget_settings

FINISHED = (ConcernStatus.CLOSED, ConcernStatus.CANCELLED)

# The minimums a trust may lengthen but never shorten (docs/facts.md#retention).
MINIMUMS = {
    "retention_adult_years": 8,
    "retention_child_until_age": 25,
    "retention_complaint_years": 10,
    "retention_serious_incident_years": 20,
}
MAXIMUMS = {
    "retention_adult_years": 100,
    "retention_child_until_age": 100,
    "retention_complaint_years": 100,
    "retention_serious_incident_years": 100,
}


class RetentionProblem(Problem):
    """A retention setting outside what the Code allows."""


class LegalHold(Problem):
    """The call is under legal hold: nothing of it is destroyed."""


@dataclass(frozen=True)
class Due:
    """When a concern's personal data may be destroyed, and which rule set that date."""

    date: date
    rule: str  # adult, child, child_no_birth_date, complaint, serious_incident


def care_ended(concern: Concern) -> datetime | None:
    """When the record stopped being in use; None while the call is open."""
    if concern.status not in FINISHED:
        return None
    return concern.closed_at or concern.updated_at or concern.raised_at


def due(concern: Concern, settings: TrustSettings, paediatric: bool) -> Due | None:
    """The destruction date of a finished concern (None while it is open). A legal hold is not
    considered here: it stops the purge whatever this says."""
    ended_at = care_ended(concern)
    if ended_at is None:
        return None
    ended = ended_at.astimezone(UTC).date()
    candidates = [Due(years_after(ended, settings.retention_adult_years), "adult")]
    dob = concern.patient_dob
    if dob is not None:
        age = ended.year - dob.year - ((ended.month, ended.day) < (dob.month, dob.day))
        if age < 18 or paediatric:
            until = settings.retention_child_until_age + (1 if age == 17 else 0)
            candidates.append(Due(years_after(dob, until), "child"))
    elif _a_child_without_a_birth_date(concern.age_group, paediatric):
        longest = max(
            settings.retention_adult_years,
            settings.retention_child_until_age,
            settings.retention_complaint_years,
            settings.retention_serious_incident_years,
        )
        candidates.append(Due(years_after(ended, longest), "child_no_birth_date"))
    if concern.complaint:
        candidates.append(Due(years_after(ended, settings.retention_complaint_years), "complaint"))
    if concern.serious_incident:
        candidates.append(Due(years_after(ended, settings.retention_serious_incident_years), "serious_incident"))
    # The longest wins; on a tie the more specific rule is named.
    return max(reversed(candidates), key=lambda d: d.date)


def _a_child_without_a_birth_date(age_group: AgeGroup | None, paediatric: bool) -> bool:
    """With no date of birth: the age group recorded at close, else the ward (a paediatric ward means
    a child; "unknown" on an adult ward keeps the adult rule, an information-governance decision the
    README states)."""
    if age_group is AgeGroup.UNDER_18:
        return True
    if age_group is AgeGroup.ADULT:
        return False
    return paediatric


@dataclass(frozen=True)
class Candidate:
    concern_id: int
    reference: str
    ended: datetime
    due: Due
    held: bool  # under legal hold: due, but kept


def candidates(
    today: date | None = None, batch: int = 1000, settings: TrustSettings | None = None
) -> Iterator[Candidate]:
    """Finished, not yet purged concerns whose destruction date has come, oldest first, legal
    holds included (marked `held`). Only calls finished more than the adult period ago are read:
    no rule is shorter. `settings` other than the trust's own answer "what if" (the settings page's
    preview of a shorter period)."""
    settings = settings or current_settings()
    today = today or utcnow().date()
    cutoff = datetime.combine(years_after(today, -settings.retention_adult_years), time(23, 59, 59), UTC)
    ended = func.coalesce(Concern.closed_at, Concern.updated_at)
    query = (
        # A call with no ward (a text-in call nobody placed) is judged by its team: a children's team means a child.
        select(Concern, func.coalesce(Ward.population, Team.population, type_=Ward.population.type))
        .outerjoin(Ward, Ward.id == Concern.ward_id)
        .join(Team, Team.id == Concern.team_id)
        .where(Concern.status.in_(FINISHED), Concern.purged_at.is_(None), ended <= cutoff)
        .order_by(Concern.id)
    )
    last_id = 0
    while True:
        rows = db.session.execute(query.where(Concern.id > last_id).limit(batch)).all()
        if not rows:
            return
        for concern, population in rows:
            when = due(concern, settings, population is Population.PAEDIATRIC)
            if when is not None and when.date <= today:
                ended_at = care_ended(concern)
                assert ended_at is not None  # due() gives a date only once care has ended
                yield Candidate(concern.id, concern.reference, ended_at, when, concern.legal_hold)
        last_id = rows[-1][0].id
        for concern, _population in rows:
            db.session.expunge(concern)  # read a batch at a time: none is kept in memory


# --- destroying --------------------------------------------------------------------------------

# Every table that holds personal data tied to a concern, and how it is removed. This is the one
# place to add a table: tests/services/test_retention.py fails when a table refers to concern
# without being listed here. A daily-check answer that raised a call goes with the call; the others, and the
# occupancies, have a rule of their own (daily_check_retention.py).


def _purge_concern(concern_id: int) -> dict:
    """Blank the concern's personal fields, keeping the stub."""
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern_id)
        .values(
            patient_name=None,
            patient_dob=None,
            hospital_number=None,
            bed=None,
            caller_name=None,
            caller_relationship=None,
            callback_number=None,
            callback_extension=None,
            preferred_language=None,
            communication_needs=None,
            worry_details=None,
            ward_response=None,
            repeat_key=None,
            news2_total=None,
            news2_scale=None,
            news2_response=None,
            # JSON columns: SQL NULL, not the JSON value null.
            news2_parameters=null(),
            escalation_plan=null(),
            purged_at=utcnow(),
            version=Concern.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return {}


def _purge_notes(concern_id: int) -> dict:
    count = execute_dml(
        delete(ConcernNote).where(ConcernNote.concern_id == concern_id).execution_options(synchronize_session=False)
    ).rowcount
    return {"notes": count}


def _purge_messages(concern_id: int) -> dict:
    count = execute_dml(
        update(Message)
        .where(Message.concern_id == concern_id)
        .values(
            body=None,
            to_number="",
            variables={},
            error_reason=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"messages": count}


def _purge_message_events(concern_id: int) -> dict:
    message_ids = select(Message.id).where(Message.concern_id == concern_id).scalar_subquery()
    count = execute_dml(
        update(MessageEvent)
        .where((MessageEvent.concern_id == concern_id) | MessageEvent.message_id.in_(message_ids))
        .values(payload={}, from_number=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"message_events": count}


def _purge_confirmations(concern_id: int) -> dict:
    # Gone after 24 hours anyway (the worker); a purge never leaves one behind.
    count = execute_dml(
        delete(Confirmation).where(Confirmation.concern_id == concern_id).execution_options(synchronize_session=False)
    ).rowcount
    return {"confirmations": count}


PURGERS: dict[str, Callable[[int], dict]] = {
    "concern": _purge_concern,
    "concern_note": _purge_notes,
    "message": _purge_messages,
    "message_event": _purge_message_events,
    "confirmation": _purge_confirmations,
    "daily_check_answer": daily_check_retention.purge_linked,
}


def purge(candidate: Candidate, actor: audit.Actor) -> dict:
    """Destroy one concern's personal data and record it, in the caller's transaction. A legal
    hold (read again here, so a hold set after the list was made still counts) refuses."""
    held = db.session.scalar(select(Concern.legal_hold).where(Concern.id == candidate.concern_id).with_for_update())
    if held:
        raise LegalHold(candidate.reference)
    removed: dict = {}
    for purger in PURGERS.values():
        removed.update(purger(candidate.concern_id))
    audit.record(
        "personal_data_destroyed",
        actor,
        object_type="concern",
        object_id=candidate.concern_id,
        concern_id=candidate.concern_id,
        changes={"rule": candidate.due.rule, "due": candidate.due.date.isoformat(), **removed},
    )
    return removed


# --- settings ----------------------------------------------------------------------------------


def save_retention(actor: audit.Actor, **periods: int | None) -> dict:
    """Change any of the four retention periods (None leaves one as it is). Refuses anything
    shorter than the Code's minimums. Call after the trust's settings exist."""
    settings = db.session.get(Settings, 1)
    if settings is None:
        raise RetentionProblem("Set up the trust first (flask tracker setup-trust)")
    changed = {}
    shortened = False
    for name, value in periods.items():
        if name not in MINIMUMS:
            raise TypeError(name)
        if value is None:
            continue
        if not MINIMUMS[name] <= value <= MAXIMUMS[name]:
            words = name.removeprefix("retention_").replace("_", " ")
            raise RetentionProblem(
                f"The retention setting '{words}' must be between {MINIMUMS[name]} and "
                f"{MAXIMUMS[name]}: the Records Management Code's periods are minimums"
            )
        if getattr(settings, name) != value:
            shortened = shortened or value < getattr(settings, name)
            changed[name] = value
            setattr(settings, name, value)
    if changed:
        db.session.flush()
        forget_settings()
        # A shorter period makes the purge wait (`shortened_recently`).
        settings_history.kept("retention_changed", actor, changed, changed, retention_shortened=shortened)
    return changed


SHORTENED_WAIT_DAYS = 14


def shortened_recently() -> SettingsVersion | None:
    """The change that shortened a retention period in the last 14 days, if any: until then the purge removes
    nothing unless told the shorter period is meant (`flask tracker purge --confirm-shortened-retention`)."""
    return settings_history.shortened_recently(SHORTENED_WAIT_DAYS)


def set_flags(
    concern: Concern, actor: audit.Actor, *, legal_hold: bool, serious_incident: bool, complaint: bool
) -> dict:
    """A manager's retention flags on a call. Not a clinical change, so it does not bump the
    call's version (a clinician's open page stays current)."""
    wanted = {"legal_hold": legal_hold, "serious_incident": serious_incident, "complaint": complaint}
    changed = {name: value for name, value in wanted.items() if getattr(concern, name) != value}
    if changed:
        db.session.execute(
            update(Concern)
            .where(Concern.id == concern.id)
            .values(**changed)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            "retention_flags_set",
            actor,
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes=changed,
        )
    return changed
