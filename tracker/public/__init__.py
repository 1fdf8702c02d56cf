"""Public blueprint: the ward chooser, the family's form (/w/<code>), its confirmation, and the
privacy and accessibility pages. No sign-in; every page shows the emergency instruction."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from tracker.public import daily_check, more, routes, sent  # noqa: E402,F401  (registers the views)
