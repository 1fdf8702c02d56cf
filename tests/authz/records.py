"""Authorisation matrix rows for the records pages (see tests/authz/__init__.py): exports, the
audit viewer and a call's retention flags are for managers only; the ward posters for managers
(their site) and administrators (every site); the confirm-your-sign-in page is for anyone signed
in. A manager's POST with no filters gets the form back with its problems (400): the point here
is who gets past the door."""

S = "signin"
ROLES = ["anonymous", "ward_staff", "outreach", "manager", "admin"]
MANAGER_ONLY = {"anonymous": S, "ward_staff": 403, "outreach": 403, "admin": 403}
POSTERS = {"anonymous": S, "ward_staff": 403, "outreach": 403}

ROWS: dict = {
    "records.exports_page": ("GET", "/records/exports", {**MANAGER_ONLY, "manager": 200}),
    "records.export_concerns": ("POST", "/records/exports/concerns", {**MANAGER_ONLY, "manager": 400}),
    "records.export_daily_check": ("POST", "/records/exports/daily-check", {**MANAGER_ONLY, "manager": 400}),
    "records.export_audit": ("POST", "/records/exports/audit", {**MANAGER_ONLY, "manager": 400}),
    "records.audit_page": ("GET", "/records/audit", {**MANAGER_ONLY, "manager": 200}),
    "records.retention_flags": ("POST", "/records/c/{ref}/retention", {**MANAGER_ONLY, "manager": 302}),
    "records.posters_page": ("GET", "/records/posters", {**POSTERS, "manager": 200, "admin": 200}),
    # A made-up ward is not found; a real one is a PDF (tests/records/test_posters.py, where the fonts are installed).
    "records.ward_poster": ("GET", "/records/posters/en/no-such-ward.pdf", {**POSTERS, "manager": 404, "admin": 404}),
    # A language that is not one of the trust's is not found.
    "records.all_posters": ("GET", "/records/posters/xx.pdf", {**POSTERS, "manager": 404, "admin": 404}),
    "auth.confirm": ("GET", "/auth/confirm", {"anonymous": S, **dict.fromkeys(ROLES[1:], 200)}),
}
