"""Reports blueprint (managers, for their own site): the dashboard and the NHS England monthly
return, with the site's implementation status, and the improvement charts."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from tracker.reports import improvement, routes, standard  # noqa: E402,F401  (registers the views)
