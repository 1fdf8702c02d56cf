"""Authorisation matrix rows for the set-up pages (see tests/authz/__init__.py): managers and administrators
open the Set-up page; what each may change is in each page's rows."""

S = "signin"
NOT_SETUP = {"anonymous": S, "ward_staff": 403, "outreach": 403, "display": S, "tablet": S}

ROWS: dict = {
    "admin.index": ("GET", "/admin/", {**NOT_SETUP, "manager": 200, "admin": 200}),
}
