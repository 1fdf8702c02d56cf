"""Raising a concern: one transaction holds the concern, its audit rows and its outbox messages
(docs/architecture.md, "A concern's path"). The public form, the staff and phone routes all come here.

Lock order, everywhere a concern is raised (so concurrent submissions can only queue, never
deadlock or fail): (1) the ward's intake lock (PostgreSQL: a transaction-scoped advisory lock;
SQLite: the database's write lock, already held); (2) concern rows (the merge's UPDATE); (3) the
audit chain head, always last (services/records/audit.py flushes pending changes before taking it)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, CallerRoute, Channel, Concern, ConcernStatus, Message, SpokeToWard
from tracker.problems import Problem
from tracker.services import alarms
from tracker.services.concerns import abuse
from tracker.services.concerns.references import new_reference
from tracker.services.messaging.notifications import (
    FamilyText,
    family_text_decision,
    insert_messages,
    prepare_family_receipt,
)
from tracker.services.paging import escalation
from tracker.services.paging import plan as paging_plan
from tracker.services.phone import Phone
from tracker.services.records import audit
from tracker.services.reports import report_facts
from tracker.services.setup.settings import TrustSettings, current_settings
from tracker.services.setup.wards import SiteInfo, TeamInfo, WardInfo, ward_by_id
from tracker.services.text import comparable


class WardUnavailable(Problem):
    """The ward does not exist or has been retired."""


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    """What the caller told us, already validated and cleaned by the form."""

    ward_id: int
    submission_id: str
    caller_route: CallerRoute
    channel: Channel
    worry_categories: tuple[str, ...] = ()
    worry_details: str = ""
    patient_name: str = ""
    bed: str = ""
    patient_dob: date | None = None
    hospital_number: str = ""
    caller_name: str = ""
    caller_relationship: str = ""
    callback: Phone | None = None
    # A bleep or extension (digits only; the staff route's form is the only one that asks): never texted.
    callback_extension: str = ""
    sms_consent: bool = False
    locale: str = "en"
    preferred_language: str = ""
    interpreter_needed: bool = False
    communication_needs: str = ""
    spoke_to_ward: SpokeToWard | None = None
    ward_response: str = ""
    # The honeypot field was filled in: probably a bot, possibly an over-eager autofill.
    looks_automated: bool = False


@dataclass(frozen=True)
class Source:
    """Where the submission came from, for abuse counting only (never stored)."""

    device_id: str | None = None
    address: str | None = None


@dataclass
class Outcome:
    concern_id: int
    reference: str
    callback_number: str | None
    family_text: FamilyText
    # "new", "resubmitted" (the same form sent twice) or "merged" (an identical repeat).
    how: str = "new"
    flags: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, concern: Concern, family_text: FamilyText, how: str) -> Outcome:
        return cls(concern.id, concern.reference, concern.callback_number, family_text, how)

    @property
    def concern(self) -> Concern:
        """The concern as a full object (loaded on demand: the form's own path never needs it)."""
        return db.session.get_one(Concern, self.concern_id)


@dataclass(frozen=True)
class NewConcern:
    """What the texts about a just-inserted concern need to know about it."""

    id: int
    reference: str
    callback_number: str | None
    callback_textable: bool
    sms_consent: bool
    caller_route: CallerRoute
    locale: str
    raised_at: datetime
    ward: WardInfo
    site: SiteInfo
    team: TeamInfo


_CONCERNS = Concern.__table__
_BY_SUBMISSION = select(_CONCERNS.c.id).where(_CONCERNS.c.submission_id == bindparam("submission_id"))
_OPEN_REPEAT = (
    select(_CONCERNS.c.id)
    .where(
        _CONCERNS.c.ward_id == bindparam("ward_id"),
        _CONCERNS.c.repeat_key == bindparam("key"),
        _CONCERNS.c.raised_at >= bindparam("since"),
        _CONCERNS.c.status.in_(list(OPEN_STATUSES)),
    )
    .order_by(_CONCERNS.c.id)
    .limit(1)
)


def find_by_submission(submission_id: str) -> Concern | None:
    # Ids first: loading a whole Concern costs far more than the lookup, and usually finds nothing.
    concern_id = db.session.connection().execute(_BY_SUBMISSION, {"submission_id": submission_id}).scalar()
    return db.session.get(Concern, concern_id) if concern_id is not None else None


def raise_concern(intake: Intake, source: Source, actor: audit.Actor) -> Outcome:
    """Record a concern and queue its texts. Never refuses a genuine concern: abuse limits only
    flag it, hold back the caller's text and coalesce alerts. Raises WardUnavailable.

    The writes are Core statements (a handful in all), so SQLite's write lock is held briefly
    when many families send at once. Submissions to one ward take their turn on the ward's intake
    lock (see the module's lock order), so an identical repeat always finds the first one saved."""
    _lock_intake(intake.ward_id)
    existing = find_by_submission(intake.submission_id)
    if existing is not None:
        return Outcome.of(existing, family_text_of(existing), "resubmitted")

    ward = ward_by_id(intake.ward_id, beds=False)
    if ward is None or ward.is_retired:
        raise WardUnavailable(intake.ward_id)
    settings = current_settings()

    key = repeat_key(intake)
    merged = _merge_into_identical_open_concern(intake, key, actor)
    if merged is not None:
        return merged

    flags = _abuse_flags(intake, source)
    now = utcnow()
    plan = paging_plan.plan_for(ward.team, ward.team.review_target_minutes)
    holders = paging_plan.holders_now(plan, ward.team.id, now)
    first, step, people, skipped = paging_plan.choose_first_step(plan, ward.team, holders)
    values = _concern_values(intake, ward, settings, key=key, flags=flags, now=now) | {
        "escalation_plan": plan,
        "escalation_position": first + 1 if step else first,
        "next_escalation_at": now + timedelta(minutes=step["wait"]) if step else None,
    }
    concern_id = _insert_concern(values)
    if concern_id is None:  # the same form, saved meanwhile by a request that did not wait its turn
        existing = find_by_submission(intake.submission_id)
        assert existing is not None  # _insert_concern found it
        return Outcome.of(existing, family_text_of(existing), "resubmitted")
    concern = NewConcern(
        concern_id,
        values["reference"],
        values["callback_number"],
        values["callback_textable"],
        intake.sms_consent,
        intake.caller_route,
        intake.locale,
        now,
        ward,
        ward.site,
        ward.team,
    )
    target: audit.Target = {"object_type": "concern", "object_id": concern_id, "concern_id": concern_id}
    with audit.batched():  # the call's events in one insert, not four
        audit.record("concern_raised", actor, **target, changes=_raised_changes(intake, concern, flags))
        escalation.fire_first_step(concern, plan, first, step, people, skipped, actor, coalesce=bool(flags), now=now)
        hold = "automated" if "automated" in flags else ("burst" if "burst" in flags else None)
        family_text, receipt = prepare_family_receipt(concern, settings, hold_reason=hold)
        if receipt is not None:
            insert_messages([receipt], actor)
    return Outcome(concern_id, concern.reference, concern.callback_number, family_text, flags=flags)


REFERENCE_TRIES = 3


def _insert_concern(values: dict[str, Any]) -> int | None:
    """Insert the new concern's row; its id, or None if the same submission is already saved. The insert
    does nothing on a clash with a unique column (no savepoint, no error to recover from: two statements fewer
    on every submission): then either this submission is saved already, or the new reference clashed with an
    old one (about one in a billion) and another is tried."""
    connection = db.session.connection()
    statement = _INSERT_NEW_CONCERN[connection.dialect.name]
    for attempt in range(1, REFERENCE_TRIES + 1):
        concern_id = connection.execute(statement, values).scalar()
        if concern_id is not None:
            return int(concern_id)
        if find_by_submission(values["submission_id"]) is not None:
            return None
        log.warning("reference clash for ward %s (attempt %s)", values["ward_id"], attempt)
        values["reference"] = new_reference()
    raise ReferenceClash(f"{REFERENCE_TRIES} new references in a row were taken")


class ReferenceClash(SQLAlchemyError):
    """Every reference tried was taken: the form is shown again to send once more (never expected)."""


_INSERT_NEW_CONCERN = {
    "sqlite": sqlite_insert(_CONCERNS).on_conflict_do_nothing().returning(_CONCERNS.c.id),
    "postgresql": postgresql_insert(_CONCERNS).on_conflict_do_nothing().returning(_CONCERNS.c.id),
}


def _concern_values(
    intake: Intake, ward: WardInfo, settings: TrustSettings, *, key: str, flags: list[str], now: datetime
) -> dict[str, Any]:
    """The new concern's row, but for its escalation plan."""
    return {
        "reference": new_reference(),  # a clash (about one in 10^9) is retried by _insert_concern
        "submission_id": intake.submission_id,
        "repeat_key": key,
        "ward_id": ward.id,
        "site_id": ward.site_id,
        "team_id": ward.team_id,
        "bed": intake.bed or None,
        "patient_name": intake.patient_name or None,
        "patient_dob": intake.patient_dob,
        "hospital_number": intake.hospital_number or None,
        "caller_route": intake.caller_route,
        "caller_name": intake.caller_name or None,
        "caller_relationship": intake.caller_relationship or None,
        "callback_number": intake.callback.e164 if intake.callback else None,
        "callback_textable": bool(intake.callback and intake.callback.textable(settings.allowed_regions)),
        "callback_extension": intake.callback_extension or None,
        "sms_consent": intake.sms_consent,
        "locale": intake.locale,
        "preferred_language": intake.preferred_language or None,
        "interpreter_needed": intake.interpreter_needed,
        "communication_needs": intake.communication_needs or None,
        "worry_categories": list(intake.worry_categories),
        "worry_details": intake.worry_details or None,
        "spoke_to_ward": intake.spoke_to_ward,
        "ward_response": intake.ward_response or None,
        "channel": intake.channel,
        "status": ConcernStatus.NEW,
        "version": 1,
        "repeat_count": 0,
        "flagged_burst": "burst" in flags,
        "flagged_automated": "automated" in flags,
        "raised_at": now,
        "updated_at": now,
        "change_in_care": [],
        "review_nudges": 0,
        "unread_reply": False,
        **report_facts.raised_values(now, settings.timezone),
    }


def _raised_changes(intake: Intake, concern: NewConcern, flags: list[str]) -> dict[str, Any]:
    """What the audit row of a raised concern records: its shape, never its free text."""
    return {
        "ward_id": concern.ward.id,
        "team_id": concern.ward.team_id,
        "caller_route": intake.caller_route.value,
        "channel": intake.channel.value,
        "worry_categories": sorted(intake.worry_categories),
        "spoke_to_ward": intake.spoke_to_ward.value if intake.spoke_to_ward else None,
        "has_callback_number": concern.callback_number is not None,
        "has_callback_extension": bool(intake.callback_extension),
        "callback_textable": concern.callback_textable,
        "sms_consent": intake.sms_consent,
        "interpreter_needed": intake.interpreter_needed,
        "locale": intake.locale,
        "flags": flags,
    }


# Intake locks are PostgreSQL advisory locks in their own namespace ("MR"), one per ward.
_INTAKE_LOCK_CLASS = 0x4D52
_LOCK_INTAKE = select(func.pg_advisory_xact_lock(bindparam("lock_class"), bindparam("ward_id")))


def _lock_intake(ward_id: int) -> None:
    """Take this ward's intake lock until the transaction ends (lock 1 of the module's order)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_INTAKE, {"lock_class": _INTAKE_LOCK_CLASS, "ward_id": ward_id})


def _merge_into_identical_open_concern(intake: Intake, key: str, actor: audit.Actor) -> Outcome | None:
    """An open concern raised in the last few minutes with the same patient, worry and call-back
    number: a repeat to merge, not a new call for the team. One indexed lookup, then one UPDATE
    that counts the repeat where it stands (not the ORM's versioned update: a repeat must never make
    a clinician's open page stale, nor fail when a clinician changes the call meanwhile)."""
    now = utcnow()
    since = now - timedelta(minutes=current_app.config["REPEAT_MERGE_MINUTES"])
    connection = db.session.connection()
    concern_id = connection.execute(_OPEN_REPEAT, {"ward_id": intake.ward_id, "key": key, "since": since}).scalar()
    if concern_id is None:
        return None
    count = connection.execute(
        update(_CONCERNS)
        .where(_CONCERNS.c.id == concern_id, _CONCERNS.c.status.in_(list(OPEN_STATUSES)))
        .values(repeat_count=_CONCERNS.c.repeat_count + 1, last_repeat_at=now, updated_at=now)
        .returning(_CONCERNS.c.repeat_count)
    ).scalar()
    if count is None:
        return None  # closed a moment ago: this one is a new concern
    audit.record(
        "repeat_merged",
        actor,
        object_type="concern",
        object_id=concern_id,
        concern_id=concern_id,
        changes={"repeat_count": count, "channel": intake.channel.value},
    )
    repeat = db.session.get_one(Concern, concern_id, populate_existing=True)
    return Outcome.of(repeat, family_text_of(repeat), "merged")


def repeat_key(intake: Intake) -> str:
    parts = [
        comparable(intake.patient_name),
        comparable(intake.bed),
        comparable(intake.worry_details),
        ",".join(sorted(intake.worry_categories)),
        intake.callback.e164 if intake.callback else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _abuse_flags(intake: Intake, source: Source) -> list[str]:
    config = current_app.config
    flags = []
    counts = []
    if source.device_id:
        counts.append(abuse.hit(config["DEVICE_CONCERN_LIMIT"], "concern-device", source.device_id))
    if source.address:
        counts.append(abuse.hit(config["ADDRESS_CONCERN_LIMIT"], "concern-address", source.address))
    if any(c.storage_fallback for c in counts):
        alarms.raise_alarm("rate_limit_storage_down")
    if any(not c.within_limit for c in counts):
        flags.append("burst")
    if intake.looks_automated:
        flags.append("automated")
    return flags


def family_text_of(concern: Concern) -> FamilyText:
    """What happened to an existing concern's receipt, for showing its confirmation again."""
    message = db.session.scalar(
        select(Message).where(Message.concern_id == concern.id, Message.template_id == "family_receipt")
    )
    if message is not None:
        return FamilyText.HELD if message.hold_reason else FamilyText.QUEUED
    decision = family_text_decision(concern, current_settings())
    return FamilyText.HELD if decision is FamilyText.QUEUED else decision
