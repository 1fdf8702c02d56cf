"""What the worker tidies about once a minute: records kept only for a short while (typed text
saved across a re-sign-in, families' confirmations, sign-in counts, trips through the sign-on provider) and alarms that have gone quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db, limiter
from tracker.models import SystemAlarm, User
from tracker.services import alarms
from tracker.services.concerns import confirmations
from tracker.services.people import saved_forms, sign_on, throttle

INTERVAL = timedelta(seconds=60)


def run(now: datetime | None = None) -> dict[str, int]:
    """One round; the caller commits. Returns how many of each were removed or cleared."""
    now = now or utcnow()
    cleared = _clear_quiet_attack_alarms(now)
    storage_back = _clear_rate_limit_alarm_if_storage_answers()
    return {
        "saved_forms": saved_forms.purge_expired(now),
        "confirmations": confirmations.purge_expired(now),
        "sign_in_counts": throttle.forget_old(now),
        "sign_on_trips": sign_on.purge_expired(now),
        "attack_alarms": cleared,
        "rate_limit_storage_alarms": storage_back,
    }


def _clear_quiet_attack_alarms(now: datetime) -> int:
    """An account-under-attack alarm clears an hour after the last attempt at that account."""
    cleared = 0
    for alarm in db.session.scalars(
        select(SystemAlarm).where(SystemAlarm.kind == "sign_in_attack", SystemAlarm.cleared_at.is_(None))
    ):
        user_id = alarms.subject_user_id(alarm)
        user = db.session.get(User, user_id) if user_id is not None else None
        last = throttle.quiet_since(throttle.account_key(user.email)) if user is not None else None
        if last is None or now - last >= throttle.WINDOW:
            alarms.clear_alarm("sign_in_attack", alarm.subject)
            cleared += 1
    return cleared


def _clear_rate_limit_alarm_if_storage_answers() -> int:
    """The rate-limit store's alarm clears once the store answers again: only the web servers raise it
    (on a failed count), so without this the banner would say Redis is down long after it came back.
    A web server still cut off from it raises it again on its next failed count."""
    if (
        db.session.scalar(
            select(SystemAlarm.id).where(
                SystemAlarm.kind == "rate_limit_storage_down", SystemAlarm.cleared_at.is_(None)
            )
        )
        is None
    ):
        return 0
    if not limiter.storage.check():  # a ping, bounded by the store's short socket timeouts
        return 0
    alarms.clear_alarm("rate_limit_storage_down")
    return 1
