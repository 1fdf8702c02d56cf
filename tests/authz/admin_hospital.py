"""Authorisation matrix rows for the Sites, teams and Wards pages (see tests/authz/__init__.py), as issue 15's table
says: sites and teams, an administrator edits and a manager reads (their own site); wards, both edit (a manager their
own site's). Forms posted empty come back with what is missing (400). The matrix's manager is at the test trust's
site; OTHER_SITE says what a manager of another site gets from the same pages (tests/admin/test_hospital_reach.py):
404, as if the site, team or ward did not exist, and the attempt audited."""

S = "signin"
NOT_SETUP = {"anonymous": S, "ward_staff": 403, "outreach": 403, "display": S, "tablet": S}
BOTH = {**NOT_SETUP, "manager": 200, "admin": 200}
ADMIN_ONLY = {**NOT_SETUP, "manager": 403}

ROWS: dict = {
    "admin.sites_page": ("GET", "/admin/sites", BOTH),
    "admin.add_site": ("POST", "/admin/sites", {**ADMIN_ONLY, "admin": 400}),
    "admin.site_page": ("GET", "/admin/sites/gen", BOTH),  # the manager reads their own site
    "admin.rename_site": ("POST", "/admin/sites/gen", {**ADMIN_ONLY, "admin": 400}),
    "admin.new_team_page": ("GET", "/admin/sites/gen/teams/new", {**ADMIN_ONLY, "admin": 200}),
    "admin.add_team": ("POST", "/admin/sites/gen/teams", {**ADMIN_ONLY, "admin": 400}),
    "admin.team_page": ("GET", "/admin/teams/gen-ccot", BOTH),  # read only for the manager
    "admin.save_team": ("POST", "/admin/teams/gen-ccot", {**ADMIN_ONLY, "admin": 400}),
    "admin.wards_page": ("GET", "/admin/wards", BOTH),
    "admin.new_ward_page": ("GET", "/admin/sites/gen/wards/new", BOTH),
    "admin.add_ward": ("POST", "/admin/sites/gen/wards", {**NOT_SETUP, "manager": 400, "admin": 400}),
    "admin.ward_page": ("GET", "/admin/wards/w7", BOTH),
    "admin.save_ward": ("POST", "/admin/wards/w7", {**NOT_SETUP, "manager": 400, "admin": 400}),
    "admin.retire_page": ("GET", "/admin/wards/w7/retire", BOTH),
    # Posted empty: where its patients went (or "none") is asked for; nothing closes.
    "admin.retire_ward": ("POST", "/admin/wards/w7/retire", {**NOT_SETUP, "manager": 400, "admin": 400}),
    "admin.ward_link": ("GET", "/admin/wards/w7/link", BOTH),
}

# A manager of another site, on the test trust's site, team and ward: none of them is theirs. The pages that list
# (sites, wards) open, showing only their own site (tests/admin/test_hospital_routes.py).
OTHER_SITE: dict = {
    "admin.sites_page": ("GET", "/admin/sites", 200),
    "admin.site_page": ("GET", "/admin/sites/gen", 404),
    "admin.add_site": ("POST", "/admin/sites", 403),
    "admin.rename_site": ("POST", "/admin/sites/gen", 403),
    "admin.new_team_page": ("GET", "/admin/sites/gen/teams/new", 403),
    "admin.add_team": ("POST", "/admin/sites/gen/teams", 403),
    "admin.team_page": ("GET", "/admin/teams/gen-ccot", 404),
    "admin.save_team": ("POST", "/admin/teams/gen-ccot", 403),
    "admin.wards_page": ("GET", "/admin/wards", 200),
    "admin.new_ward_page": ("GET", "/admin/sites/gen/wards/new", 404),
    "admin.add_ward": ("POST", "/admin/sites/gen/wards", 404),
    "admin.ward_page": ("GET", "/admin/wards/w7", 404),
    "admin.save_ward": ("POST", "/admin/wards/w7", 404),
    "admin.retire_page": ("GET", "/admin/wards/w7/retire", 404),
    "admin.retire_ward": ("POST", "/admin/wards/w7/retire", 404),
    "admin.ward_link": ("GET", "/admin/wards/w7/link", 404),
}
