"""Authorisation matrix rows for the ward's own view and its daily check (see tests/authz/__init__.py): the ward's list, its refresh and
a call's status page are for ward staff only (the test's ward staff are on the ward of the matrix's call). Outreach
and managers have the queue and the call's page instead; an office display proves nothing about a person."""

S = "signin"
# The daily check: outreach see their teams' wards read only (without a ward, the page lists them); only the
# ward's staff change anything. Posted empty to a bed or answer not on their ward, ward staff are not found (404).
DAILY_CHECK = {"anonymous": S, "ward_staff": 200, "outreach": 200, "manager": 403, "admin": 403, "display": S}
RECORD = {"anonymous": S, "ward_staff": 404, "outreach": 403, "manager": 403, "admin": 403, "display": S}
WARD_STAFF_ONLY = {"anonymous": S, "ward_staff": 200, "outreach": 403, "manager": 403, "admin": 403, "display": S}

ROWS: dict = {
    "triage.ward_page": ("GET", "/triage/ward", WARD_STAFF_ONLY),
    "triage.ward_rows": ("GET", "/triage/ward/rows", WARD_STAFF_ONLY),
    "triage.ward_call_page": ("GET", "/triage/ward/c/{ref}", WARD_STAFF_ONLY),
    "triage.daily_check_page": ("GET", "/triage/ward/check", DAILY_CHECK),
    "triage.admit_to_bed": ("POST", "/triage/ward/check/bed/999999/admit", RECORD),
    "triage.discharge_from_bed": ("POST", "/triage/ward/check/bed/999999/discharge", RECORD),
    "triage.record_check_answer": ("POST", "/triage/ward/check/bed/999999/answer", RECORD),
    "triage.mark_check_seen": ("POST", "/triage/ward/check/answer/999999/seen", RECORD),
    "triage.mark_check_acted_on": ("POST", "/triage/ward/check/answer/999999/acted-on", RECORD),
    "triage.confirm_check_answer": ("POST", "/triage/ward/check/answer/999999/confirm", RECORD),
    "triage.raise_check_call": ("POST", "/triage/ward/check/answer/999999/raise-call", RECORD),
}
