"""Raising a concern: one transaction holds the concern, its audit rows and its outbox messages
(design §3, §5, §7). The public form, and later the staff and phone routes, all come here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, CallerRoute, Channel, Concern, Message, SpokeToWard, Ward
from tracker.services import abuse, alarms, audit
from tracker.services.notifications import (
    FamilyText,
    family_text_decision,
    queue_clinician_alert,
    queue_family_receipt,
)
from tracker.services.phone import Phone
from tracker.services.references import new_reference
from tracker.services.settings import current_settings
from tracker.services.text import comparable


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
    concern: Concern
    family_text: FamilyText
    # "new", "resubmitted" (the same form sent twice) or "merged" (an identical repeat).
    how: str = "new"
    flags: list[str] = field(default_factory=list)


def find_by_submission(submission_id: str) -> Concern | None:
    return db.session.scalar(select(Concern).where(Concern.submission_id == submission_id))


def raise_concern(intake: Intake, source: Source, actor: audit.Actor) -> Outcome:
    """Record a concern and queue its texts. Never refuses a genuine concern: abuse limits only
    flag it, hold back the caller's text and coalesce alerts. Raises WardUnavailable."""
    existing = find_by_submission(intake.submission_id)
    if existing is not None:
        return Outcome(existing, family_text_of(existing), how="resubmitted")

    ward = db.session.get(Ward, intake.ward_id)
    if ward is None or ward.is_retired:
        raise WardUnavailable(intake.ward_id)
    settings = current_settings()

    repeat = _identical_open_concern(intake)
    if repeat is not None:
        repeat.repeat_count += 1
        repeat.last_repeat_at = utcnow()
        audit.record("repeat_merged", actor, object_type="concern", object_id=repeat.id, concern_id=repeat.id,
                     changes={"repeat_count": repeat.repeat_count, "channel": intake.channel.value})
        return Outcome(repeat, family_text_of(repeat), how="merged")

    flags = _abuse_flags(intake, source)
    concern = Concern(
        reference=_unused_reference(),
        submission_id=intake.submission_id,
        ward_id=ward.id,
        site_id=ward.site_id,
        team_id=ward.team_id,
        bed=intake.bed or None,
        patient_name=intake.patient_name or None,
        patient_dob=intake.patient_dob,
        hospital_number=intake.hospital_number or None,
        caller_route=intake.caller_route,
        caller_name=intake.caller_name or None,
        caller_relationship=intake.caller_relationship or None,
        callback_number=intake.callback.e164 if intake.callback else None,
        callback_textable=bool(intake.callback and intake.callback.textable(settings.allowed_regions)),
        sms_consent=intake.sms_consent,
        locale=intake.locale,
        preferred_language=intake.preferred_language or None,
        interpreter_needed=intake.interpreter_needed,
        communication_needs=intake.communication_needs or None,
        worry_categories=list(intake.worry_categories),
        worry_details=intake.worry_details or None,
        spoke_to_ward=intake.spoke_to_ward,
        ward_response=intake.ward_response or None,
        channel=intake.channel,
        flagged_burst="burst" in flags,
        flagged_automated="automated" in flags,
        raised_at=utcnow(),
    )
    db.session.add(concern)
    db.session.flush()
    audit.record(
        "concern_raised",
        actor,
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes={
            "ward_id": ward.id,
            "team_id": ward.team_id,
            "caller_route": intake.caller_route.value,
            "channel": intake.channel.value,
            "worry_categories": sorted(intake.worry_categories),
            "spoke_to_ward": intake.spoke_to_ward.value if intake.spoke_to_ward else None,
            "has_callback_number": concern.callback_number is not None,
            "callback_textable": concern.callback_textable,
            "sms_consent": concern.sms_consent,
            "interpreter_needed": concern.interpreter_needed,
            "locale": concern.locale,
            "flags": flags,
        },
    )
    queue_clinician_alert(concern, settings, actor, coalesce=bool(flags))
    hold = "automated" if "automated" in flags else ("burst" if "burst" in flags else None)
    family_text = queue_family_receipt(concern, settings, actor, hold_reason=hold)
    return Outcome(concern, family_text, flags=flags)


def _unused_reference() -> str:
    while True:
        reference = new_reference()
        if db.session.scalar(select(Concern.id).where(Concern.reference == reference)) is None:
            return reference


def _identical_open_concern(intake: Intake) -> Concern | None:
    """An open concern raised in the last few minutes with the same patient, worry and call-back
    number: a repeat to merge, not a new call for the team."""
    since = utcnow() - timedelta(minutes=current_app.config["REPEAT_MERGE_MINUTES"])
    same_number = (
        Concern.callback_number == intake.callback.e164 if intake.callback else Concern.callback_number.is_(None)
    )
    candidates = db.session.scalars(
        select(Concern).where(
            Concern.ward_id == intake.ward_id,
            Concern.raised_at >= since,
            Concern.status.in_(OPEN_STATUSES),
            same_number,
        )
    )
    key = _repeat_key(intake.patient_name, intake.bed, intake.worry_details, intake.worry_categories)
    for candidate in candidates:
        if _repeat_key(candidate.patient_name, candidate.bed, candidate.worry_details, candidate.worry_categories) == key:
            return candidate
    return None


def _repeat_key(patient_name, bed, details, categories) -> tuple:
    return (comparable(patient_name), comparable(bed), comparable(details), tuple(sorted(categories or ())))


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
