"""System alarms: faults staff must see (a red banner on staff pages, /healthz for monitoring)."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import Select, func, select, update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import SystemAlarm, WorkerHeartbeat
from tracker.services.records import audit

log = logging.getLogger(__name__)

# Plain-English descriptions, shown to staff.
ALARM_TEXT = {
    "rate_limit_storage_down": "The rate-limit store (Redis) cannot be reached; limits are counted in memory on each server.",
    "sms_budget_exhausted": "The hourly budget for texts to the public was used up; some receipts were held back.",
    "alert_recipient_missing": "A call was raised with nobody to alert: no one on call with a mobile and no fallback.",
    "reminder_not_possible": "A claimed call's review is overdue and its claimant has no usable mobile to be "
    "reminded: the next tier was told at once. Ask them to add their mobile on their account page.",
    "rota_gap": "Nobody was on call for a step of a team's escalation: that step was skipped.",
    "alert_failed": "A text or call to an on-call clinician failed: see the failed messages page.",
    "sms_account_refused": "Twilio refused our account details: no alerts or texts can be sent. Phone the outreach "
    "team's duty phone about new calls, and tell the system administrator now.",
    "sms_reconcile_failing": "Texts whose outcome was unclear could not be checked with Twilio: they were given up. "
    "See the failed messages page.",
    "alert_not_sent": "Texts or calls to on-call clinicians could not be sent (the SMS provider could not be "
    "reached or was busy): paging moved on to the next step and keeps trying.",
    "text_in_team_not_chosen": "A text to the tracker's number from someone with no call became a call on the "
    "first adult team's queue, because the trust has not chosen the team for text-in calls: an administrator "
    "should choose it (flask tracker setup-trust --text-in-team).",
    "text_in_paging_capped": "More text-in calls than the hourly limit paged the on-call clinicians: the rest wait "
    "on the queue, not paged. Check the queue for calls raised by text.",
    # Said with the person's name and the tracker's number by staff_warnings.
    "staff_opted_out": "{account} replied STOP to the tracker's texts, so no alert can reach their phone (they count as "
    "having no usable mobile). {account} should text START to {number} to get alerts again.",
    # Said with the account's address by staff_warnings; /healthz names the account by its id.
    "sign_in_attack": "Someone may be trying to guess the password of {account}: many wrong passwords in the last "
    "hour. Its owner can still sign in from a device they have used before. Tell IT.",
}


def _open(kind: str, subject: str | None) -> Select[SystemAlarm]:
    return select(SystemAlarm).where(
        SystemAlarm.kind == kind,
        SystemAlarm.cleared_at.is_(None),
        SystemAlarm.subject.is_(None) if subject is None else SystemAlarm.subject == subject,
    )


def raise_alarm(kind: str, subject: str | None = None) -> SystemAlarm:
    """Open an alarm of this kind (about this subject, e.g. "user:17"), or count one more
    occurrence of the open one."""
    now = utcnow()
    alarm = db.session.scalars(_open(kind, subject)).first()
    if alarm is not None:
        # Counting one more is only for the display: never wait for a row another transaction is
        # counting on (it may hold the audit chain head while we hold a concern: a deadlock).
        db.session.execute(
            update(SystemAlarm)
            .where(
                SystemAlarm.id.in_(
                    select(SystemAlarm.id)
                    .where(SystemAlarm.id == alarm.id)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
            )
            .values(occurrences=SystemAlarm.occurrences + 1, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        return alarm
    alarm = SystemAlarm(kind=kind, subject=subject, raised_at=now, last_seen_at=now, occurrences=1)
    db.session.add(alarm)
    db.session.flush()
    changes = {"kind": kind} if subject is None else {"kind": kind, "subject": subject}
    audit.record("alarm_raised", audit.Actor.system(), object_type="alarm", object_id=alarm.id, changes=changes)
    log.error("alarm raised: %s%s", kind, f" ({subject})" if subject else "")
    return alarm


def clear_alarm(kind: str, subject: str | None = None) -> None:
    for alarm in db.session.scalars(_open(kind, subject)):
        alarm.cleared_at = utcnow()
        audit.record(
            "alarm_cleared", audit.Actor.system(), object_type="alarm", object_id=alarm.id, changes={"kind": kind}
        )


def subject_user_id(alarm: SystemAlarm) -> int | None:
    """The user an alarm is about ("user:17" -> 17), if it is about one."""
    found = re.fullmatch(r"user:([0-9]{1,18})", alarm.subject or "")
    return int(found.group(1)) if found else None


def open_alarms() -> list[SystemAlarm]:
    return list(
        db.session.scalars(select(SystemAlarm).where(SystemAlarm.cleared_at.is_(None)).order_by(SystemAlarm.raised_at))
    )


def last_worker_beat() -> datetime | None:
    """When a worker last said it was alive (any worker), or None if none ever has."""
    return db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
