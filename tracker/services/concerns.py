"""Raising a concern: one transaction holds the concern, its audit rows and its outbox messages
(design §3, §5, §7). The public form, and later the staff and phone routes, all come here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, insert, select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, CallerRoute, Channel, Concern, ConcernStatus, Message, SpokeToWard
from tracker.services import abuse, alarms, audit, escalation, report_facts
from tracker.services.notifications import (
    FamilyText,
    family_text_decision,
    insert_messages,
    prepare_family_receipt,
)
from tracker.services.phone import Phone
from tracker.services.references import new_reference
from tracker.services.settings import current_settings
from tracker.services.text import comparable
from tracker.services.wards import SiteInfo, TeamInfo, WardInfo, ward_by_id


class WardUnavailable(LookupError):
    """The ward does not exist or has been retired."""


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
        return db.session.get(Concern, self.concern_id)


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
_INSERT_CONCERN = insert(_CONCERNS).returning(_CONCERNS.c.id)
_BY_SUBMISSION = select(_CONCERNS.c.id).where(_CONCERNS.c.submission_id == bindparam("submission_id"))
_OPEN_REPEAT = (select(_CONCERNS.c.id)
                .where(_CONCERNS.c.ward_id == bindparam("ward_id"), _CONCERNS.c.repeat_key == bindparam("key"),
                       _CONCERNS.c.raised_at >= bindparam("since"), _CONCERNS.c.status.in_(list(OPEN_STATUSES)))
                .order_by(_CONCERNS.c.id).limit(1))


def find_by_submission(submission_id: str) -> Concern | None:
    # Ids first: loading a whole Concern costs far more than the lookup, and usually finds nothing.
    concern_id = db.session.connection().execute(_BY_SUBMISSION, {"submission_id": submission_id}).scalar()
    return db.session.get(Concern, concern_id) if concern_id is not None else None


def raise_concern(intake: Intake, source: Source, actor: audit.Actor) -> Outcome:
    """Record a concern and queue its texts. Never refuses a genuine concern: abuse limits only
    flag it, hold back the caller's text and coalesce alerts. Raises WardUnavailable.

    The writes are Core statements (a handful in all), so SQLite's write lock is held briefly
    when many families send at once."""
    existing = find_by_submission(intake.submission_id)
    if existing is not None:
        return Outcome.of(existing, family_text_of(existing), "resubmitted")

    ward = ward_by_id(intake.ward_id)
    if ward is None or ward.is_retired:
        raise WardUnavailable(intake.ward_id)
    settings = current_settings()

    key = repeat_key(intake)
    repeat = _identical_open_concern(intake, key)
    if repeat is not None:
        repeat.repeat_count += 1
        repeat.last_repeat_at = utcnow()
        audit.record("repeat_merged", actor, object_type="concern", object_id=repeat.id, concern_id=repeat.id,
                     changes={"repeat_count": repeat.repeat_count, "channel": intake.channel.value})
        return Outcome.of(repeat, family_text_of(repeat), "merged")

    flags = _abuse_flags(intake, source)
    now = utcnow()
    plan = escalation.plan_for(ward.team, now)
    first, step, skipped = escalation.choose_first_step(plan, coalesce=bool(flags))
    values = {
        "reference": new_reference(),  # a clash (about one in 10^9) fails the unique index; the view retries
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
        "escalation_plan": plan,
        "escalation_position": first + 1 if step else first,
        "next_escalation_at": now + timedelta(minutes=step["wait"]) if step else None,
        "review_nudges": 0,
        "unread_reply": False,
        **report_facts.raised_values(now, settings.timezone),
    }
    concern_id = db.session.connection().execute(_INSERT_CONCERN, values).scalar_one()
    concern = NewConcern(concern_id, values["reference"], values["callback_number"], values["callback_textable"],
                         intake.sms_consent, intake.caller_route, intake.locale, now, ward, ward.site, ward.team)
    changes = {
        "ward_id": ward.id,
        "team_id": ward.team_id,
        "caller_route": intake.caller_route.value,
        "channel": intake.channel.value,
        "worry_categories": sorted(intake.worry_categories),
        "spoke_to_ward": intake.spoke_to_ward.value if intake.spoke_to_ward else None,
        "has_callback_number": concern.callback_number is not None,
        "callback_textable": concern.callback_textable,
        "sms_consent": intake.sms_consent,
        "interpreter_needed": intake.interpreter_needed,
        "locale": intake.locale,
        "flags": flags,
    }
    audit.record("concern_raised", actor, object_type="concern", object_id=concern_id, concern_id=concern_id,
                 changes=changes)
    escalation.fire_first_step(concern, plan, first, step, skipped, actor, coalesce=bool(flags), now=now)
    hold = "automated" if "automated" in flags else ("burst" if "burst" in flags else None)
    family_text, receipt = prepare_family_receipt(concern, settings, hold_reason=hold)
    if receipt is not None:
        insert_messages([receipt], actor)
    return Outcome(concern_id, concern.reference, concern.callback_number, family_text, flags=flags)


def _identical_open_concern(intake: Intake, key: str) -> Concern | None:
    """An open concern raised in the last few minutes with the same patient, worry and call-back
    number: a repeat to merge, not a new call for the team. One indexed lookup."""
    since = utcnow() - timedelta(minutes=current_app.config["REPEAT_MERGE_MINUTES"])
    concern_id = db.session.connection().execute(
        _OPEN_REPEAT, {"ward_id": intake.ward_id, "key": key, "since": since}).scalar()
    return db.session.get(Concern, concern_id) if concern_id is not None else None


def repeat_key(intake: Intake) -> str:
    parts = [comparable(intake.patient_name), comparable(intake.bed), comparable(intake.worry_details),
             ",".join(sorted(intake.worry_categories)), intake.callback.e164 if intake.callback else ""]
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
