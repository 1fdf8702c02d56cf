"""What every staff page shows whatever its blueprint: the warnings staff must know now (a stopped worker,
open alarms, gaps in the rota, failed messages), for the signed-in person's reach."""

from __future__ import annotations

from flask_login import current_user

from tracker.services.paging import warnings as staff_warnings


def warnings() -> list[staff_warnings.StaffWarning]:
    return staff_warnings.for_user(current_user.user)
