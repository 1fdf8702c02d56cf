"""What the Trust settings page tests share: a signed-in administrator, the page's forms as posted, and a sign-in
made older than the few minutes a change to what families are told allows."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import SessionRecord, SettingsVersion

PASSWORD = "correct horse battery staple"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # login_as gives managers and admins this secret
CONTACT = {
    "trust_name": "Test Hospitals NHS Trust",
    "emergency_instruction": "Press the red buzzer or ask any nurse now. Call 2222.",
    "outreach_phone": "020 7946 0100",
    "pals_phone": "020 7946 0199",
    "privacy_contact": "",
}
RETENTION = {
    "retention_adult_years": "8",
    "retention_child_until_age": "25",
    "retention_complaint_years": "10",
    "retention_serious_incident_years": "20",
}
REPORTS = {
    "timezone": "Europe/London",
    "in_hours_start": "08:00",
    "in_hours_end": "18:00",
    "bank_holiday_region": "england-and-wales",
    "linked_calls_counted": "own",
    "spc_run_length": "7",
}


def csrf(client, path: str = "/admin/settings") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(r'data-csrf-token="([^"]+)"', page)
    assert found, f"no token on {path}"
    return found.group(1)


def post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": csrf(client), **(data or {})})


def stale_sign_in(app, user_id: int, minutes: int = 20) -> None:
    """Make the person's sign-in older than a change to what families are told allows."""
    with app.app_context(), write_intent():
        db.session.execute(
            update(SessionRecord)
            .where(SessionRecord.user_id == user_id)
            .values(authenticated_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def version_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(SettingsVersion.id)).all())
