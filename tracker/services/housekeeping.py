"""What the worker tidies about once a minute: records kept only for a short while (typed text
saved across a re-sign-in, families' confirmations, sign-in counts, trips through the sign-on provider) and alarms that have gone quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import SystemAlarm, User
from tracker.services import alarms
from tracker.services.concerns import confirmations
from tracker.services.people import saved_forms, sign_on, throttle

INTERVAL = timedelta(seconds=60)


def run(now: datetime | None = None) -> dict[str, int]:
    """One round; the caller commits. Returns how many of each were removed or cleared."""
    now = now or utcnow()
    cleared = _clear_quiet_attack_alarms(now)
    return {
        "saved_forms": saved_forms.purge_expired(now),
        "confirmations": confirmations.purge_expired(now),
        "sign_in_counts": throttle.forget_old(now),
        "sign_on_trips": sign_on.purge_expired(now),
        "attack_alarms": cleared,
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
