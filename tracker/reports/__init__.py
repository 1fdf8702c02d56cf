"""Reports blueprint (managers, for their own site): the dashboard and the NHS England monthly
return, with the site's implementation status."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from tracker.reports import routes, standard  # noqa: E402,F401  (registers the views)
