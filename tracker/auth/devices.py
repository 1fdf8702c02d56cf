"""The known-device cookie (OWASP's device-cookie pattern, see services/people/throttle.py).

After a full sign-in (password, and the code where one is set up) the browser gets a signed,
HttpOnly cookie holding, for each account signed in on it, a random id. From that browser the
owner is never slowed by guessing at their account from elsewhere. The cookie proves nothing by
itself: the password (and code) are still checked every time. Signed with SECRET_KEY, honouring
SECRET_KEY_FALLBACKS so a key rotation does not make every device unknown."""

from __future__ import annotations

import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

MAX_AGE_SECONDS = 180 * 24 * 3600
MAX_ACCOUNTS = 10  # a shared ward PC: the most recent accounts signed in on it
SALT = "known-device"


def _serializer() -> URLSafeTimedSerializer:
    config = current_app.config
    keys = [*(config.get("SECRET_KEY_FALLBACKS") or ()), config["SECRET_KEY"]]  # the last one signs
    return URLSafeTimedSerializer(keys, salt=SALT)


def known_devices() -> dict[int, str]:
    """This browser's known-device ids by user id (empty when it has none, or a forged one)."""
    raw = request.cookies.get(current_app.config["KNOWN_DEVICE_COOKIE_NAME"])
    if not raw or len(raw) > 4096:
        return {}
    try:
        entries = _serializer().loads(raw, max_age=MAX_AGE_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return {}
    if not isinstance(entries, list):
        return {}
    return {
        int(user_id): str(nonce) for user_id, nonce in entries if isinstance(user_id, int) and isinstance(nonce, str)
    }


def remember(response: Response, user_id: int) -> None:
    """Mark this browser as one where this person has signed in (a fresh id each time)."""
    entries = [(uid, nonce) for uid, nonce in known_devices().items() if uid != user_id]
    entries = [*entries[-(MAX_ACCOUNTS - 1) :], (user_id, secrets.token_urlsafe(16))]
    config = current_app.config
    response.set_cookie(
        config["KNOWN_DEVICE_COOKIE_NAME"],
        _serializer().dumps(entries),
        max_age=MAX_AGE_SECONDS,
        path="/",
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
