"""The trust's settings, read on almost every request: kept in memory for a few seconds.

A change saved through `save_settings` takes effect at once in this process and within
`CACHE_SECONDS` in the others (the settings are the trust's configuration: names, phone numbers,
the emergency instruction; nothing here is per-concern)."""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from dataclasses import dataclass, fields
from datetime import datetime
from datetime import time as clock_time

from flask import current_app

from tracker.extensions import db
from tracker.models import Settings

CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class TrustSettings:
    """A read-only copy of the settings row (or of configuration's stand-in when there is none)."""

    id: int | None
    trust_name: str
    timezone: str
    emergency_instruction: str
    outreach_phone: str
    pals_phone: str | None
    text_relatives_allowed: bool
    sms_allowed_regions: str
    languages_enabled: str
    privacy_contact: str | None
    idle_timeout_minutes: int
    mfa_for_all_staff: bool
    in_hours_start: clock_time = clock_time(8, 0)
    in_hours_end: clock_time = clock_time(18, 0)
    bank_holiday_region: str = "england-and-wales"
    retention_adult_years: int = 8
    retention_child_until_age: int = 25
    retention_complaint_years: int = 10
    retention_serious_incident_years: int = 20
    safeguarding_lead_name: str | None = None
    safeguarding_lead_phone: str | None = None
    linked_calls_counted: str = "own"  # or "once" (services/concerns/linking.py)
    text_in_team_id: int | None = None  # services/concerns/text_in.py
    text_in_paging: bool = False
    device_address_ranges: str = ""  # services/setup/devices.py
    kiosk_default_until: datetime | None = None  # services/setup/tablets.py
    access_review_unused_days: int = 90  # services/people/access_review.py
    spc_run_length: int = 7  # services/reports/spc.py DEFAULT_RUN_LENGTH

    @property
    def allowed_regions(self) -> set[str]:
        return {code.strip().upper() for code in self.sms_allowed_regions.split(",") if code.strip()}


_NAMES = [f.name for f in fields(TrustSettings)]
_cache: dict[str, tuple[float, TrustSettings]] = {}
# Within a request the first copy read is kept, so one page never mixes two versions of the settings.
# The web layer decides where a request starts and ends (start_pinning, stop_pinning).
_pinned: ContextVar[list[TrustSettings] | None] = ContextVar("tracker_pinned_settings", default=None)


def start_pinning() -> Token[list[TrustSettings] | None]:
    """From now until `stop_pinning`, the first settings read are the ones every later read gets."""
    return _pinned.set([])


def stop_pinning(token: Token[list[TrustSettings] | None]) -> None:
    _pinned.reset(token)


def current_settings() -> TrustSettings:
    """The trust's settings, or a stand-in from configuration when the trust has not been set up
    yet (a fresh database before `flask tracker seed-demo` or `setup-trust`)."""
    pinned = _pinned.get()
    if pinned:
        return pinned[0]
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        settings = cached[1]
    else:
        settings = _load()
        if settings.id is not None:
            _cache[key] = (time.monotonic(), settings)
    if pinned is not None:
        pinned.append(settings)
    return settings


def _load() -> TrustSettings:
    row = db.session.get(Settings, 1)
    if row is not None:
        return TrustSettings(**{name: getattr(row, name) for name in _NAMES})
    config = current_app.config
    return TrustSettings(
        id=None,
        trust_name="NHS hospital",
        timezone="Europe/London",
        emergency_instruction=config["FALLBACK_EMERGENCY_INSTRUCTION"],
        outreach_phone=config["FALLBACK_PHONE"],
        pals_phone=None,
        text_relatives_allowed=False,
        sms_allowed_regions="GB",
        languages_enabled="en",
        privacy_contact=None,
        idle_timeout_minutes=30,
        mfa_for_all_staff=False,
    )


def forget_settings() -> None:
    """Drop the cached copy (after saving new settings, and between tests)."""
    _cache.clear()
    pinned = _pinned.get()
    if pinned:
        pinned.clear()
