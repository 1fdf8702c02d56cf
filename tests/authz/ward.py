"""Authorisation matrix rows for the ward's own view (see tests/authz/__init__.py): the ward's list, its refresh and
a call's status page are for ward staff only (the test's ward staff are on the ward of the matrix's call). Outreach
and managers have the queue and the call's page instead; an office display proves nothing about a person."""

S = "signin"
WARD_STAFF_ONLY = {"anonymous": S, "ward_staff": 200, "outreach": 403, "manager": 403, "admin": 403, "display": S}

ROWS: dict = {
    "triage.ward_page": ("GET", "/triage/ward", WARD_STAFF_ONLY),
    "triage.ward_rows": ("GET", "/triage/ward/rows", WARD_STAFF_ONLY),
    "triage.ward_call_page": ("GET", "/triage/ward/c/{ref}", WARD_STAFF_ONLY),
}
