"""System alarms: faults staff must see (a red banner on staff pages, /healthz for monitoring)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import SystemAlarm
from tracker.services import audit

log = logging.getLogger(__name__)

# Plain-English descriptions, shown to staff.
ALARM_TEXT = {
    "rate_limit_storage_down": "The rate-limit store (Redis) cannot be reached; limits are counted in memory on each server.",
    "sms_budget_exhausted": "The hourly budget for texts to the public was used up; some receipts were held back.",
    "alert_recipient_missing": "A call was raised with nobody to alert: no one on call with a mobile and no fallback.",
    "rota_gap": "Nobody was on call for a step of a team's escalation: that step was skipped.",
    "alert_failed": "A text or call to an on-call clinician failed: see the failed messages page.",
    "sms_account_refused": "Twilio refused our account details: no alerts or texts can be sent. Phone the outreach "
                           "team's duty phone about new calls, and tell the system administrator now.",
    "sms_reconcile_failing": "Texts whose outcome was unclear could not be checked with Twilio: they were given up. "
                             "See the failed messages page.",
    "alert_not_sent": "Texts or calls to on-call clinicians could not be sent (the SMS provider could not be "
                      "reached or was busy): paging moved on to the next step and keeps trying.",
}


def raise_alarm(kind: str) -> SystemAlarm:
    """Open an alarm of this kind, or count one more occurrence of the open one."""
    now = utcnow()
    alarm = db.session.scalars(
        select(SystemAlarm).where(SystemAlarm.kind == kind, SystemAlarm.cleared_at.is_(None))
    ).first()
    if alarm is None:
        alarm = SystemAlarm(kind=kind, raised_at=now, last_seen_at=now, occurrences=1)
        db.session.add(alarm)
        db.session.flush()
        audit.record("alarm_raised", audit.Actor.system(), object_type="alarm", object_id=alarm.id, changes={"kind": kind})
        log.error("alarm raised: %s", kind)
    else:
        alarm.occurrences += 1
        alarm.last_seen_at = now
    return alarm


def clear_alarm(kind: str) -> None:
    for alarm in db.session.scalars(
        select(SystemAlarm).where(SystemAlarm.kind == kind, SystemAlarm.cleared_at.is_(None))
    ):
        alarm.cleared_at = utcnow()
        audit.record("alarm_cleared", audit.Actor.system(), object_type="alarm", object_id=alarm.id, changes={"kind": kind})


def open_alarms() -> list[SystemAlarm]:
    return list(db.session.scalars(select(SystemAlarm).where(SystemAlarm.cleared_at.is_(None)).order_by(SystemAlarm.raised_at)))
