"""Which confirmations this browser may see again: the family's own browser keeps the random ids of its last few
(a cookie of its own, HttpOnly, for 24 hours, so closing the browser does not lose the reference); a ward tablet
keeps only the last one, in its session, for half an hour, and forgets it when the next form opens
(docs/architecture.md#the-family-form)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app, request, session
from werkzeug.wrappers import Response

from tracker.models import Confirmation
from tracker.services.concerns import confirmations
from tracker.services.concerns.confirmations import KEPT

# A ward tablet shows its confirmation for half an hour at most (it clears after a minute anyway); the family's
# own browser for as long as the record is kept (24 hours).
ON_A_TABLET = timedelta(minutes=30)
KEPT_IN_BROWSER = 5  # a family may raise calls for more than one ward in a day
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def tokens_in_browser() -> list[str]:
    raw = request.cookies.get(current_app.config["CONFIRMATION_COOKIE_NAME"], "")
    return [token for token in raw.split(".")[:KEPT_IN_BROWSER] if _TOKEN.match(token)]


def session_token() -> str | None:
    return session.get("confirmation")


def remember(response: Response, token: str, *, kiosk: bool) -> None:
    """Let this browser see the confirmation again: a tablet for half an hour in its session only; a family's
    own browser for 24 hours."""
    session["confirmation"] = token
    if kiosk:
        return
    config = current_app.config
    kept = [token, *[t for t in tokens_in_browser() if t != token]][:KEPT_IN_BROWSER]
    response.set_cookie(
        config["CONFIRMATION_COOKIE_NAME"],
        ".".join(kept),
        max_age=int(KEPT.total_seconds()),
        path="/",
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def this_browsers(code: str) -> Confirmation | None:
    """The confirmation this browser may see for this ward: its session's (a tablet's, or the family's just now),
    else the newest its own cookie names."""
    in_session = confirmations.find(session_token(), code, ON_A_TABLET)
    if in_session is not None:
        return in_session
    return confirmations.find_any(tokens_in_browser(), code)
