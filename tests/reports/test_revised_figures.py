"""Corrected clocks and review counts (docs/architecture.md#reports): the migration keeps each month's figures as
they stood, works the clocks out again from the messages, and the return page says what was revised, from what
to what; calls whose coding contradicts a recorded review are listed, never changed."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

from flask_migrate import upgrade
from sqlalchemy import text

from tests.conftest import create_staff, make_config, sign_in_directly
from tracker.extensions import db
from tracker.models import Site
from tracker.services.reports import monthly_return as nhs_return
from tracker.services.setup.settings import current_settings

AUGUST = date(2025, 8, 1)


def stamp(value: str, dialect: str):
    return value if dialect == "sqlite" else datetime.fromisoformat(value).replace(tzinfo=UTC)


def insert_august_at_0011() -> None:
    """Three August calls as the old code left them: reviewed but coded "not needed"; "could not
    contact" with a caller-updated time set by a text; a first alert set by a review reminder."""
    dialect = db.engine.dialect.name
    for statement in (
        "INSERT INTO site (id, code, name, active) VALUES (1, 's', 'Site', true)",
        "INSERT INTO team (id, code, site_id, name, population, public_phone, ack_target_minutes, "
        "review_target_minutes, active) VALUES (1, 't', 1, 'Team', 'adult', '+442079460101', 5, 30, true)",
        "INSERT INTO ward (id, code, name, site_id, team_id, population, kiosk_default) "
        "VALUES (1, 'w', 'Ward', 1, 1, 'adult', false)",
    ):
        db.session.execute(text(statement))
    calls = {
        1: {
            "reviewed_at": "2025-08-04 10:20:00",
            "clinical_review_needed": False,
            "method": "phone",
            "caller_updated_at": "2025-08-04 10:40:00",
            "first_alert_sent_at": None,
        },
        2: {
            "reviewed_at": None,
            "clinical_review_needed": False,
            "method": "could_not_contact",
            "caller_updated_at": "2025-08-05 10:05:00",
            "first_alert_sent_at": None,
        },
        3: {
            "reviewed_at": None,
            "clinical_review_needed": False,
            "method": "phone",
            "caller_updated_at": "2025-08-06 11:00:00",
            "first_alert_sent_at": "2025-08-06 10:31:00",
        },
    }
    for number, call in calls.items():
        db.session.execute(
            text(
                "INSERT INTO concern (id, reference, submission_id, ward_id, site_id, team_id, caller_route, "
                "callback_textable, sms_consent, locale, interpreter_needed, worry_categories, channel, status, "
                "version, repeat_count, flagged_burst, flagged_automated, raised_at, updated_at, change_in_care, "
                "escalation_position, review_nudges, unread_reply, concern_type, clinical_review_needed, "
                "caller_update_method, reviewed_at, caller_updated_at, first_alert_sent_at, closed_at, "
                "raised_local_date, raised_local_month, raised_local_hour, raised_local_seconds, raised_local_weekday) "
                "VALUES (:id, :ref, :sub, 1, 1, 1, 'family_carer_advocate', true, true, 'en', false, '[]', 'own_device', "
                "'closed', 5, 0, false, false, :raised, :raised, '[]', 1, 0, false, 'clinical_concern', :needed, "
                ":method, :reviewed, :told, :alerted, :raised, :day, :month, 11, 39600, 0)"
            ),
            {
                "id": number,
                "ref": f"MR-REV{number}-00",
                "sub": f"rev-{number}",
                "raised": stamp(f"2025-08-0{number + 3} 10:00:00", dialect),
                "needed": call["clinical_review_needed"],
                "method": call["method"],
                "reviewed": call["reviewed_at"] and stamp(call["reviewed_at"], dialect),
                "told": stamp(call["caller_updated_at"], dialect),
                "alerted": call["first_alert_sent_at"] and stamp(call["first_alert_sent_at"], dialect),
                "day": date(2025, 8, number + 3),
                "month": AUGUST,
            },
        )
    db.session.execute(
        text(
            "INSERT INTO message (concern_id, audience, channel, recipient_kind, to_number, template_id, variables, "
            "locale, idempotency_key, send_state, attempts, next_attempt_at, created_at, updated_at, accepted_at) "
            "VALUES (3, 'clinician', 'sms', 'user', '+447400100001', 'review_reminder', '{}', 'en', 'k3', "
            "'accepted', 1, :at, :at, :at, :at)"
        ),
        {"at": stamp("2025-08-06 10:31:00", dialect)},
    )
    db.session.commit()


def test_the_migration_keeps_august_as_it_stood_and_the_return_says_what_was_revised(empty_database_url, build_app):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0011")
        insert_august_at_0011()
        upgrade()
        told, alerted = zip(
            *db.session.execute(text("SELECT caller_updated_at, first_alert_sent_at FROM concern ORDER BY id")).all(),
            strict=True,
        )
        assert [value is not None for value in told] == [True, False, True]  # "could not contact": no time
        assert alerted == (None, None, None)  # a review reminder is not a first alert
        report = nhs_return.monthly_return(db.session.get(Site, 1), AUGUST, current_settings())
        (revision,) = report.revisions
        assert [(c.label, c.was, c.now) for c in revision.changes] == [
            ("Calls that needed a clinical review", 0, 1),
            ("Calls whose caller a clinician recorded as told the outcome", 3, 2),
            ("Calls with an alert sent to a clinician", 1, 0),
        ]
        assert report.coded_against_review == ["MR-REV1-00"]
        figures = {m.key: m.value for section in report.sections for m in section.measures}
        assert figures["clinical_review"] == 1  # the recorded review counts, whatever the coding said
        db.session.commit()
        manager, _ = create_staff(app, "manager", site_id=1, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        client = app.test_client()
        sign_in_directly(app, client, manager)
        page = html.unescape(re.sub(r"<[^>]+>", "", client.get("/reports/return?site=s&month=8&year=2025").text))
        assert "Calls that needed a clinical review: was 0, now 1" in page
        assert "Coding that contradicts a recorded review" in page and "MR-REV1-00" in page
        db.session.remove()
        db.engine.dispose()
