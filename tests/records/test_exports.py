"""Exports (docs/architecture.md#security): calls as CSV and Excel and the audit log as CSV, read back
with the csv module and openpyxl; each export audited and behind a fresh sign-in; patient
details only when asked for with a reason; formulas made inert; bad input answered plainly."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine

from tests.conftest import ON_POSTGRES, create_staff, sign_in_directly
from tests.records.conftest import code_now, csrf, make_concern, read_csv
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    CallerRoute,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    ExportLog,
    Population,
)
from tracker.services.records import audit, audit_export, exports
from tracker.services.setup import hospital

LONDON = ZoneInfo("Europe/London")
FORMULAS = ['=HYPERLINK("http://x.invalid/?"&A1,"ok")', "+SUM(1+1)", "-2+3", "@SUM(1)", "\t=1+1", "|calc", "%0A"]


def today() -> date:
    return utcnow().astimezone(LONDON).date()


def period(start: date | None = None, end: date | None = None) -> dict:
    start, end = start or today().replace(day=1), end or today()
    return {
        "from-day": start.day,
        "from-month": start.month,
        "from-year": start.year,
        "to-day": end.day,
        "to-month": end.month,
        "to-year": end.year,
    }


def export_calls(client, **fields):
    data = {"csrf_token": csrf(client), **period(), **fields}
    return client.post("/records/exports/concerns", data=data)


def export_audit(client, **fields):
    data = {"csrf_token": csrf(client), **period(), **fields}
    return client.post("/records/exports/audit", data=data)


# --- calls as CSV ----------------------------------------------------------------------------


def test_a_calls_export_opens_as_csv_without_patient_details(app, client, trust, manager):
    make_concern(
        app,
        trust["ward"],
        patient_name="Pat Jones",
        status=ConcernStatus.CLOSED,
        concern_type=ConcernType.ACUTE_DETERIORATION,
        clinical_review_needed=True,
        deterioration_outcome=DeteriorationOutcome.CRITICAL_CARE_ADMISSION,
        closed_at=utcnow(),
    )
    response = export_calls(client)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = read_csv(response)
    assert len(rows) == 1
    row = rows[0]
    # Coded values in the dashboard's words.
    assert row["Ward"] == "Ward 7" and row["Site"] == "General Hospital" and row["Status"] == "Closed"
    assert row["Concern type"] == "Acute deterioration"
    assert row["Deterioration outcome"] == "Admitted to critical care (HDU or ICU)"
    assert row["Clinical review needed"] == "yes" and row["Route"] == "Family, carer or advocate"
    assert set(exports.IDENTIFIER_HEADERS).isdisjoint(row)
    body = response.get_data(as_text=True)
    assert "Pat Jones" not in body and "07400" not in body and "+447400" not in body and "Breathing fast" not in body


def test_times_in_the_export_are_the_trusts_local_time_with_the_offset(app, client, trust, manager):
    summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in BST
    with time_machine.travel(summer, tick=False):
        make_concern(app, trust["ward"])
    with time_machine.travel(summer + timedelta(hours=1), tick=False):
        sign_in_directly(app, client, manager)
        rows = read_csv(export_calls(client, **period(date(2026, 7, 2), date(2026, 7, 2))))
    assert [row["Raised"] for row in rows] == ["2026-07-02T00:30:00+01:00"]


def test_the_hour_the_clocks_go_back_is_told_apart_by_its_offset(app, client, trust, manager):
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    with time_machine.travel(first, tick=False):
        make_concern(app, trust["ward"])
    with time_machine.travel(first + timedelta(hours=1), tick=False):  # 01:30 GMT, an hour later
        make_concern(app, trust["ward"], patient_name="Alex Smith")
    with time_machine.travel(first + timedelta(hours=3), tick=False):
        sign_in_directly(app, client, manager)
        rows = read_csv(export_calls(client, **period(date(2026, 10, 25), date(2026, 10, 25))))
    assert [row["Raised"] for row in rows] == ["2026-10-25T01:30:00+01:00", "2026-10-25T01:30:00+00:00"]


def test_patient_details_come_only_with_the_box_ticked_and_a_reason_that_is_recorded(app, client, trust, manager, read):
    make_concern(
        app,
        trust["ward"],
        patient_name="Zoë Ångström",
        hospital_number="RX1234",
        patient_dob=date(1950, 2, 3),
        bed="Bay 4",
    )
    refused = export_calls(client, identifiers="yes")
    assert refused.status_code == 400
    assert "Say why this export needs patient details" in refused.get_data(as_text=True)
    assert read.count(ExportLog) == 0

    response = export_calls(client, identifiers="yes", reason="Serious incident investigation 2026/17")
    row = read_csv(response)[0]
    assert row["Patient name"] == "Zoë Ångström" and row["Hospital number"] == "RX1234"
    assert row["Date of birth"] == "1950-02-03" and row["Bed"] == "Bay 4"
    assert row["Callback number"] == "07400 123456"  # not +44..., which a spreadsheet reads as a sum
    log = read.one(ExportLog)
    assert log.identifiers and log.reason == "Serious incident investigation 2026/17"
    event = read.all(AuditEvent, AuditEvent.action == "exported")[-1]
    assert event.object_id == log.id and event.changes["identifiers"] is True
    assert "Serious incident" not in json.dumps(event.changes), "free text must stay out of the audit trail"


def test_a_staff_calls_bleep_or_extension_is_exported_beside_its_callback_number(app, client, trust, manager):
    make_concern(app, trust["ward"], caller_route=CallerRoute.STAFF, callback_extension="4471")
    make_concern(app, trust["ward"], caller_route=CallerRoute.STAFF, callback_extension="5502", safeguarding=True)
    rows = read_csv(export_calls(client, identifiers="yes", reason="Bleep audit"))
    headers = list(rows[0])
    assert headers.index("Callback extension") == headers.index("Callback number") + 1
    assert sorted(row["Callback extension"] for row in rows) == ["", "4471"]  # a safeguarded caller's leaves it
    assert all("Callback extension" not in row for row in read_csv(export_calls(client)))  # an identifier


def test_every_export_is_audited_with_who_when_and_the_filters(app, client, trust, manager, read):
    export_calls(client, status="closed", outcome="no_change", ward=str(trust["ward"]))
    event = read.one(AuditEvent, AuditEvent.action == "exported")
    assert (event.actor_type, event.actor_id, event.object_type) == ("user", manager, "export")
    assert event.changes["kind"] == "concerns_csv" and event.changes["status"] == "closed"
    assert event.changes["outcome"] == "no_change" and event.changes["ward_id"] == trust["ward"]
    assert event.changes["from"] == today().replace(day=1).isoformat() and event.changes["to"] == today().isoformat()
    assert event.changes["site_id"] == trust["site"] and event.changes["identifiers"] is False
    assert abs((event.occurred_at - utcnow()).total_seconds()) < 60


def test_filters_choose_the_calls(app, client, trust, manager):
    closed_id, closed_ref = make_concern(
        app,
        trust["ward"],
        status=ConcernStatus.CLOSED,
        concern_type=ConcernType.COMMUNICATION,
        clinical_review_needed=False,
        closed_at=utcnow(),
    )
    _, deteriorated = make_concern(
        app,
        trust["beds_ward"],
        status=ConcernStatus.CLOSED,
        concern_type=ConcernType.ACUTE_DETERIORATION,
        clinical_review_needed=True,
        deterioration_outcome=DeteriorationOutcome.NO_CHANGE,
        closed_at=utcnow(),
    )
    _, open_ref = make_concern(app, trust["ward"])

    def references(**filters):
        return sorted(row["Reference"] for row in read_csv(export_calls(client, **filters)))

    assert references() == sorted([closed_ref, deteriorated, open_ref])
    assert references(ward=str(trust["ward"])) == sorted([closed_ref, open_ref])
    assert references(status="new") == [open_ref]
    assert references(outcome="communication") == [closed_ref]
    assert references(outcome="no_change") == [deteriorated]
    assert references(outcome="not_coded") == [open_ref]
    last_month = today().replace(day=1) - timedelta(days=1)
    assert references(**period(last_month.replace(day=1), last_month)) == []


def test_another_sites_calls_are_never_exported(app, client, trust, manager):
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        site = hospital.add_site(actor, code="far", name="Far Hospital")
        team = hospital.add_team(
            actor,
            code="far-ccot",
            site=site,
            name="Far Team",
            population=Population.ADULT,
            public_phone="020 7946 0555",
            duty_phone="07400 900555",
        )
        ward = hospital.add_ward(actor, code="far1", name="Far Ward", site=site, team=team, population=Population.ADULT)
        db.session.commit()
        far_ward, far_site = ward.id, site.code
    make_concern(app, far_ward, patient_name="Elsewhere Person")
    _, mine = make_concern(app, trust["ward"])
    assert [row["Reference"] for row in read_csv(export_calls(client))] == [mine]
    refused = export_calls(client, site=far_site)
    assert refused.status_code == 400 and "Choose a site from the list" in refused.get_data(as_text=True)
    refused = export_calls(client, ward=str(far_ward))
    assert refused.status_code == 400 and "Choose a ward from the list" in refused.get_data(as_text=True)


@pytest.mark.parametrize("text", FORMULAS)
def test_cells_that_look_like_formulas_are_made_inert_in_csv(app, client, trust, manager, text):
    make_concern(
        app,
        trust["ward"],
        patient_name=text.replace("\t", " ") if text.startswith("\t") else text,
        caller_relationship=text,
        ward_response=text,
    )
    row = read_csv(export_calls(client, identifiers="yes", reason="Checking the export"))[0]
    assert row["Caller relationship"] == "'" + text
    assert row["What the ward team said"] == "'" + text
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "|", "%", "\r")), value


def test_a_field_with_quotes_commas_and_new_lines_survives_the_round_trip(app, client, trust, manager):
    tricky = 'She said "come now", then:\nnothing, for an hour'
    make_concern(app, trust["ward"], worry_details=tricky)
    row = read_csv(export_calls(client, identifiers="yes", reason="Checking quoting"))[0]
    assert row["What worries them"] == tricky


# --- calls as Excel ------------------------------------------------------------------------------


def read_xlsx(response) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_a_calls_export_opens_in_excel_with_real_dates_and_inert_text(app, client, trust, manager):
    make_concern(
        app,
        trust["ward"],
        caller_relationship="=1+1",
        patient_dob=date(2015, 6, 7),
        status=ConcernStatus.CLOSED,
        closed_at=utcnow(),
        priority=1,
    )
    response = export_calls(client, format="xlsx", identifiers="yes", reason="Checking Excel")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    rows = read_xlsx(response)
    assert len(rows) == 1
    row = rows[0]
    assert row["Caller relationship"] == "'=1+1"
    assert isinstance(row["Raised"], datetime) and isinstance(row["Closed"], datetime)
    assert row["Date of birth"] == datetime(2015, 6, 7) and row["Priority"] == 1
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert all(cell.data_type != "f" for line in workbook.active.iter_rows() for cell in line), "a formula cell"


def test_more_calls_than_an_excel_sheet_holds_points_to_csv(app, client, trust, manager, monkeypatch, read):
    make_concern(app, trust["ward"])
    make_concern(app, trust["ward"])
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 2)  # a header and one call
    response = export_calls(client, format="xlsx")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "more than an Excel sheet can hold" in page and "Choose CSV" in page
    assert read.count(ExportLog) == 0
    assert export_calls(client, format="csv").status_code == 200


# --- the audit log ------------------------------------------------------------------------------


def test_the_audit_log_export_opens_as_csv_with_hashes_that_match_the_chain(app, client, trust, manager, read):
    _, reference = make_concern(app, trust["ward"])
    response = export_audit(client)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_csv(response)
    events = {e.id: e for e in read.all(AuditEvent)}
    assert rows and all(events[int(row["Event"])].hash == row["Hash"] for row in rows)
    assert [int(row["Event"]) for row in rows] == sorted(int(row["Event"]) for row in rows)
    raised = next(row for row in rows if row["Action"] == "concern_raised")
    assert raised["Concern reference"] == reference and raised["Actor type"] == "public"
    assert json.loads(raised["Changes"]) == events[int(raised["Event"])].changes
    time = datetime.strptime(raised["Time (UTC)"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    assert time == events[int(raised["Event"])].occurred_at


def test_the_audit_log_export_filters_by_person_action_and_call(app, client, trust, manager, read):
    _, first = make_concern(app, trust["ward"])
    _, second = make_concern(app, trust["ward"])
    with app.app_context():
        from tracker.models import User

        email = db.session.get(User, manager).email
    by_call = read_csv(export_audit(client, reference=second.lower().replace("-", " ")))
    assert by_call and {row["Concern reference"] for row in by_call} == {second}
    by_action = read_csv(export_audit(client, action="concern_raised"))
    assert sorted(row["Concern reference"] for row in by_action) == sorted([first, second])
    by_person = read_csv(export_audit(client, user=email.upper()))
    assert by_person and {row["Actor email"] for row in by_person} == {email}


def test_the_audit_log_export_leaves_out_another_sites_calls(app, client, trust, manager):
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        site = hospital.add_site(actor, code="far", name="Far Hospital")
        team = hospital.add_team(
            actor,
            code="far-ccot",
            site=site,
            name="Far Team",
            population=Population.ADULT,
            public_phone="020 7946 0555",
            duty_phone="07400 900555",
        )
        far = hospital.add_ward(
            actor, code="far1", name="Far Ward", site=site, team=team, population=Population.ADULT
        ).id
        db.session.commit()
    _, elsewhere = make_concern(app, far)
    _, mine = make_concern(app, trust["ward"])
    references = {row["Concern reference"] for row in read_csv(export_audit(client))}
    assert mine in references and elsewhere not in references
    refused = export_audit(client, reference=elsewhere)
    assert refused.status_code == 400 and "No call with that reference at your site" in refused.get_data(as_text=True)


@pytest.mark.postgres
def test_postgres_copy_gives_the_same_file_as_the_cursor(app, client, trust, manager):
    """The SQL twin of the spreadsheet rule, in COPY, against neutralise() in Python."""
    assert ON_POSTGRES
    for text in FORMULAS:
        create_staff(app, "outreach", email=f"{text.strip()[:1]}x{len(text)}@test.invalid")
    make_concern(app, trust["ward"])
    with app.app_context():
        filters = exports.AuditFilters(exports.Period(today() - timedelta(days=1), today()), trust["site"])
        copied = b"".join(audit_export.audit_csv(db.engine, filters, tz="Europe/London")).decode()
        cursor = b"".join(audit_export.audit_csv_cursor(db.engine, filters, tz="Europe/London")).decode()

    def parsed(text):
        import csv

        rows = list(csv.reader(io.StringIO(text[1:], newline="")))
        return [row[:9] + [json.loads(row[9]) if row[9] else None] + row[10:] for row in rows[1:]]

    assert parsed(copied) == parsed(cursor)
    assert len(parsed(copied)) > 5


# --- a fresh sign-in, and who may export -----------------------------------------------------------


def test_an_export_needs_a_sign_in_within_five_minutes(app, client, trust, manager, read):
    token = csrf(client)
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        stale = client.post("/records/exports/concerns", data={"csrf_token": token, **period(), "status": "new"})
        assert stale.status_code == 302 and stale.headers["Location"].startswith("/auth/confirm?next=")
        assert read.count(ExportLog) == 0
        page = client.get(stale.headers["Location"])
        assert page.status_code == 200 and "Confirm it is you" in page.get_data(as_text=True)
        confirmed = client.post(
            stale.headers["Location"],
            data={"csrf_token": token, "password": "correct horse battery staple", "code": code_now()},
        )
        assert confirmed.status_code == 302
        back = confirmed.headers["Location"]
        assert back.startswith("/records/exports?") and "status=new" in back
        assert client.get(back).status_code == 200
        assert export_calls(client).status_code == 200
    assert read.count(ExportLog) == 1
    assert read.count(AuditEvent, AuditEvent.action == "sign_in_confirmed") == 1


def test_the_exports_page_itself_asks_for_a_fresh_sign_in(app, client, trust, manager):
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        response = client.get("/records/exports?status=new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/confirm?next=")


@pytest.mark.parametrize("role", ["ward_staff", "outreach", "admin"])
@pytest.mark.parametrize("path", ["/records/exports/concerns", "/records/exports/audit"])
def test_only_managers_can_fetch_an_export(app, client, trust, login_as, role, path, read):
    make_concern(app, trust["ward"], patient_name="Pat Jones")
    login_as(role)
    token = csrf(client, "/auth/account")
    response = client.post(path, data={"csrf_token": token, **period(), "identifiers": "yes", "reason": "x"})
    assert response.status_code == 403
    assert "Pat Jones" not in response.get_data(as_text=True)
    assert client.get(path).status_code == 405
    assert read.count(ExportLog) == 0


def test_an_export_needs_a_csrf_token(client, trust, manager):
    assert client.post("/records/exports/concerns", data=period()).status_code == 400


# --- bad input ----------------------------------------------------------------------------------

BAD_PERIODS = [
    (
        {"from-day": "31", "from-month": "12", "from-year": "2026", "to-day": "1", "to-month": "1", "to-year": "2026"},
        "The end date must be the same as or after the start date",
    ),
    (
        {"from-day": "1", "from-month": "1", "from-year": "1900", "to-day": "31", "to-month": "12", "to-year": "9999"},
        "The start date must be between 1 January 2000",
    ),
    ({"from-day": "45", "from-month": "13", "from-year": "2026"}, "The start date must be a real date"),
    ({"from-day": "yesterday", "from-month": "", "from-year": ""}, "The start date must be a real date"),
    ({"from-day": "1", "from-month": "1", "from-year": "99999999999999999999"}, "The start date must be a real date"),
    ({"from-day": "１", "from-month": "１", "from-year": "２０２６"}, "The start date must be a real date"),
    # NUL is refused before any view (tests/security/test_nul_refused.py).
    ({"from-day": "", "from-month": "", "from-year": ""}, "Enter the start date"),
    ({"to-day": "29", "to-month": "2", "to-year": "2027"}, "The end date must be a real date"),
]


@pytest.mark.parametrize(("dates", "message"), BAD_PERIODS)
@pytest.mark.parametrize("path", ["/records/exports/concerns", "/records/exports/audit"])
def test_bad_dates_get_a_clear_message_not_a_file(client, trust, manager, read, dates, message, path):
    response = client.post(path, data={"csrf_token": csrf(client), **period(), **dates})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and message in page
    assert read.count(ExportLog) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "deleted", "Choose a status from the list"),
        ("status", "closed' OR '1'='1", "Choose a status from the list"),
        ("outcome", "cured", "Choose an outcome from the list"),
        ("ward", "../../etc/passwd", "Choose a ward from the list"),
        ("ward", "999999", "Choose a ward from the list"),
        ("site", "=cmd|' /C calc'!A0", "Choose a site from the list"),
        ("format", "pdf", "Choose CSV or Excel"),
    ],
)
def test_filters_not_on_the_list_get_a_clear_message(client, trust, manager, read, field, value, message):
    response = export_calls(client, **{field: value})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert read.count(ExportLog) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("user", "nobody@nowhere.invalid", "No staff account has that email address"),
        ("action", "drop_table", "Choose an action from the list"),
        ("reference", "MR-AAAA-AA", "No call with that reference at your site"),
        ("reference", "../../etc/passwd", "No call with that reference at your site"),
    ],
)
def test_audit_filters_not_found_get_a_clear_message(client, trust, manager, field, value, message):
    response = export_audit(client, **{field: value})
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_unknown_fields_are_ignored(client, trust, manager):
    response = export_calls(client, colour="red", **{"order_by": "patient_name; DROP TABLE concern"})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["../../etc/passwd", "..%2f..%2fsecret", 'a";b.csv'])
def test_file_names_come_from_the_server_never_the_request(client, trust, manager, name):
    data = {"csrf_token": csrf(client), **period(), "name": name, "filename": name}
    response = client.post(f"/records/exports/concerns?name={name}", data=data)
    disposition = response.headers["Content-Disposition"]
    start = today().replace(day=1).isoformat()
    assert disposition == f'attachment; filename="concerns-gen-{start}-to-{today().isoformat()}.csv"'


def test_the_reason_is_checked_like_any_text(client, trust, manager):
    long = export_calls(client, identifiers="yes", reason="x" * 501)
    assert long.status_code == 400 and "500 characters or fewer" in long.get_data(as_text=True)
    nul = export_calls(client, identifiers="yes", reason="an investigation\x00")
    assert nul.status_code == 400  # refused before the view (tests/security/test_nul_refused.py)


def test_a_bad_form_comes_back_with_what_was_typed(client, trust, manager):
    response = export_calls(client, status="deleted", identifiers="yes", reason="Keep this reason")
    page = response.get_data(as_text=True)
    assert "Keep this reason" in page
    assert 'name="identifiers" type="checkbox" value="yes" checked' in page


# --- streaming ------------------------------------------------------------------------------------


def test_exports_are_streamed_in_batches(app, client, trust, manager, monkeypatch):
    """Rows leave in batches as the database gives them; the first byte waits for the first rows."""
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)
    references = sorted(make_concern(app, trust["ward"])[1] for _ in range(5))
    response = export_calls(client)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) == 3  # the header with the first two calls, then two, then one
    assert sorted(line.split(",")[0] for line in b"".join(chunks).decode().splitlines()[1:]) == references


def test_an_export_with_no_rows_is_just_the_header(client, trust, manager):
    assert read_csv(export_calls(client)) == []
    assert read_csv(export_audit(client, action="signed_in", **period(date(2020, 1, 1), date(2020, 1, 2)))) == []


def test_a_stream_reads_outside_the_write_lock(app, client, trust, manager, monkeypatch):
    """A long export must not hold SQLite's write lock: a family's submission still goes through
    while the file is being sent."""
    monkeypatch.setattr(exports, "BATCH_ROWS", 1)
    for _ in range(3):
        make_concern(app, trust["ward"])
    response = export_calls(client)
    chunks = iter(response.response)
    assert next(chunks).decode().count("MR-") == 1  # the header and the first call: the query is open now
    make_concern(app, trust["ward"])  # would wait out the busy timeout and fail if the lock were held
    rest = b"".join(chunks).decode()
    assert rest.count("MR-") == 2, "the file is one consistent snapshot: the call raised meanwhile is not in it"
