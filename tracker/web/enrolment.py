"""Which enrolled device this browser is, read from its HttpOnly enrolment cookie (docs/architecture.md#enrolled-
devices). Shared by the display's own pages and the sign-in page (which says, on a display only, how many calls
are waiting)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, request
from werkzeug.wrappers import Response

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import DeviceKind, Team
from tracker.services.concerns import queue
from tracker.services.setup import devices


def this_device() -> devices.Device | devices.NotHonoured:
    """This browser's enrolment (read once per request), or why it has none that counts."""
    if "enrolled_device" not in g:
        secret = request.cookies.get(current_app.config["ENROLMENT_COOKIE_NAME"])
        g.enrolled_device = devices.recognise(secret, request.remote_addr)
    return g.enrolled_device


def enrolled_display() -> devices.Device | None:
    device = this_device()
    return device if isinstance(device, devices.Device) and device.kind is DeviceKind.DISPLAY else None


def waiting_on_display() -> tuple[str, int] | None:
    """On the office's enrolled queue display only: its team and how many calls wait to be claimed (the sign-in
    page shows no call count anywhere else)."""
    device = enrolled_display()
    if device is None or device.team_id is None:
        return None
    team = db.session.get_one(Team, device.team_id)
    return team.name, queue.team_queue(team.id).new_count


def keep(response: Response, secret: str, expires_at: datetime) -> None:
    """Give the device its secret: HttpOnly, so no script on any page can read it; it outlives any session."""
    config = current_app.config
    response.set_cookie(
        config["ENROLMENT_COOKIE_NAME"],
        secret,
        max_age=int((expires_at - utcnow()).total_seconds()),
        path="/",
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
