"""Records blueprint (managers, their own site): exports, the audit viewer, and a call's
retention flags."""

from flask import Blueprint

bp = Blueprint("records", __name__, url_prefix="/records")

from tracker.records import routes  # noqa: E402,F401  (registers the views)
