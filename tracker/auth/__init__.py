"""Staff sign-in, sessions and second factor; and `decorators.py`, the one place that says who
may open what."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

import tracker.auth.invitation  # noqa: E402,F401  (the invitation to a new account)
from tracker.auth import outage, routes, sign_on  # noqa: E402,F401  (registers the views)
