"""The hospital's set-up in the browser (docs/architecture.md#set-up): the trust's settings, sites, teams and
wards, staff accounts and the access review, for administrators and (within their site, as far as their role
allows) managers. Every change goes through the same service functions as `flask tracker`, and is audited."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Each module registers its views: sites and wards (the Sites, teams and Wards pages), access (the access review),
# settings (Trust settings), staff_actions (the Staff accounts pages).
import tracker.admin.staff_actions  # noqa: E402,F401
import tracker.admin.staff_sign_on  # noqa: E402,F401
from tracker.admin import access, routes, settings, sites, wards  # noqa: E402,F401
