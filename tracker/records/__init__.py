"""Records blueprint: for managers about their own site, exports, the audit viewer and a call's retention flags;
for managers (their site) and administrators (every site), the wards' posters."""

from flask import Blueprint

bp = Blueprint("records", __name__, url_prefix="/records")

from tracker.records import posters, routes  # noqa: E402,F401  (registers the views)
