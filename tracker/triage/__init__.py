"""Triage blueprint: the outreach team's live queue, a concern's page and its actions, the staff
route for raising a call, and the ward's status page."""

from flask import Blueprint

bp = Blueprint("triage", __name__, url_prefix="/triage")

from tracker.triage import actions, daily_check, routes, ward  # noqa: E402,F401  (registers the views)
