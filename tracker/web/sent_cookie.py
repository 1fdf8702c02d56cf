"""Which confirmations this browser may see again: the family's own browser keeps the random ids of its last few
(a cookie of its own, HttpOnly, for 24 hours, so closing the browser does not lose the reference); a ward tablet
keeps only the last one, in its session, for half an hour, and forgets it when the next form opens
(docs/architecture.md#the-family-form)."""

from __future__ import annotations

import re

from flask import current_app, request, session
from werkzeug.wrappers import Response

from tracker.services.concerns.confirmations import KEPT

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
