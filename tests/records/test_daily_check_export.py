"""The daily check's answers as CSV (services/records/daily_check_export.py): one row per answer at the manager's
site in words, names and free text only with the box ticked and a reason (recorded, never in the audit trail), and
another site's wards never exported."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.records.conftest import csrf, read_csv
from tests.reports.test_daily_check_figures import seed_december
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, DailyCheckAnswer, ExportKind, ExportLog

DECEMBER = {"from-day": 1, "from-month": 12, "from-year": 2026, "to-day": 3, "to-month": 12, "to-year": 2026}


def export_checks(client, **fields):
    return client.post("/records/exports/daily-check", data={"csrf_token": csrf(client), **DECEMBER, **fields})


def seeded(app, trust) -> None:
    with app.app_context(), write_intent():
        seed_december(trust["beds_ward"])
        worse = db.session.scalars(select(DailyCheckAnswer).where(DailyCheckAnswer.concern_id.is_not(None))).one()
        worse.free_text, worse.patient_name_given = '=HYPERLINK("x") Mum is grey', "Zoë Ångström"
        db.session.commit()


def test_the_answers_export_in_words_without_names_or_free_text(app, client, trust, manager, read):
    seeded(app, trust)
    response = export_checks(client)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="daily-check-gen-2026-12-01-to-2026-12-03.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert len(rows) == 5
    assert "What they said" not in rows[0] and "Name given with the answer" not in rows[0]
    linked = next(row for row in rows if row["Call raised"])
    assert (linked["Ward"], linked["Bed"], linked["Day"]) == ("Ward 8", "Bay 2", "2026-12-03")
    assert (linked["How they are feeling"], linked["Compared with yesterday"], linked["Worse"]) == (
        "Bad",
        "Worse",
        "yes",
    )
    assert (linked["Who answered"], linked["Channel"]) == ("Asked by staff", "Staff-assisted")
    assert linked["Call raised"].startswith("MR-")
    confirmed = [row for row in rows if row["Confirmed by staff"]]
    assert [row["Who answered"] for row in confirmed] == ["Answered by family"]
    log = read.one(ExportLog)
    assert log.kind is ExportKind.DAILY_CHECK_CSV and not log.identifiers


def test_names_and_free_text_only_with_the_box_ticked_and_a_reason(app, client, trust, manager, read):
    seeded(app, trust)
    refused = export_checks(client, identifiers="yes")
    assert refused.status_code == 400
    assert "Say why this export needs patient details" in refused.get_data(as_text=True)
    assert read.count(ExportLog) == 0
    rows = read_csv(export_checks(client, identifiers="yes", reason="Review of a serious incident 2026/18"))
    linked = next(row for row in rows if row["Call raised"])
    assert linked["Name given with the answer"] == "Zoë Ångström"
    assert linked["What they said"] == '\'=HYPERLINK("x") Mum is grey'  # made inert for a spreadsheet
    log = read.one(ExportLog)
    assert log.identifiers and log.reason == "Review of a serious incident 2026/18"
    event = read.all(AuditEvent, AuditEvent.action == "exported")[-1]
    assert "serious incident" not in json.dumps(event.changes).lower()


def test_another_sites_ward_and_bad_dates_are_refused_in_plain_words(app, client, trust, manager):
    seeded(app, trust)
    wrong_ward = export_checks(client, ward="99999")
    assert wrong_ward.status_code == 400 and "Choose a ward from the list" in wrong_ward.get_data(as_text=True)
    bad = export_checks(client, **{"to-day": "40"})
    assert bad.status_code == 400
