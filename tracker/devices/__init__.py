"""Enrolled devices (docs/architecture.md#enrolled-devices): the Displays and Ward tablets pages where managers
enrol and revoke the outreach office's queue displays and the wards' tablets for families, the one-time link a
device is set up with, and the display itself: a team's open calls with nobody signed in, never a name, free text
or note. Acting on a call needs a person's sign-in."""

from flask import Blueprint

bp = Blueprint("devices", __name__)

from tracker.devices import routes, tablets  # noqa: E402,F401  (registers the views)
