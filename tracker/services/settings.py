"""The trust's settings row, read once per request."""

from __future__ import annotations

from flask import current_app, g, has_request_context

from tracker.extensions import db
from tracker.models import Settings


def current_settings() -> Settings:
    """The saved settings, or an unsaved stand-in built from configuration when the trust has
    not been set up yet (a fresh database before `flask tracker seed-demo` or `setup-trust`)."""
    if has_request_context() and "tracker_settings" in g:
        return g.tracker_settings
    settings = db.session.get(Settings, 1)
    if settings is None:
        settings = Settings(
            id=None,
            trust_name="NHS hospital",
            timezone="Europe/London",
            emergency_instruction=current_app.config["FALLBACK_EMERGENCY_INSTRUCTION"],
            outreach_phone=current_app.config["FALLBACK_PHONE"],
            text_relatives_allowed=False,
            sms_allowed_regions="GB",
            languages_enabled="en",
        )
    if has_request_context():
        g.tracker_settings = settings
    return settings
