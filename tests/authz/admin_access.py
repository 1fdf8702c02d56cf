"""Authorisation matrix rows for the access review (see tests/authz/__init__.py): managers read and record their own
site's review, administrators a site's or the whole trust's; nobody else opens it. The test trust's site is `gen`,
the manager's own. OTHER_SITE says what each gets for another site (`other`, made by
tests/admin/test_access_routes.py::test_another_sites_review_is_not_found_by_a_manager): an administrator may review
it, a manager is not told it exists."""

S = "signin"
NOT_REVIEWERS = {"anonymous": S, "ward_staff": 403, "outreach": 403, "display": S, "tablet": S}

ROWS: dict = {
    "admin.access_page": ("GET", "/admin/access?site=gen", {**NOT_REVIEWERS, "manager": 200, "admin": 200}),
    "admin.access_csv": ("GET", "/admin/access.csv?site=gen", {**NOT_REVIEWERS, "manager": 200, "admin": 200}),
    # Posted with no site: the person's usual scope (a manager's site, an administrator's whole trust) is recorded.
    "admin.record_access_review": ("POST", "/admin/access/review", {**NOT_REVIEWERS, "manager": 302, "admin": 302}),
}

# endpoint: (method, path, posted fields, {role: expected}).
OTHER_SITE: dict = {
    "admin.access_page": ("GET", "/admin/access?site=other", None, {"manager": 404, "admin": 200}),
    "admin.access_csv": ("GET", "/admin/access.csv?site=other", None, {"manager": 404, "admin": 200}),
    "admin.record_access_review": ("POST", "/admin/access/review", {"site": "other"}, {"manager": 404, "admin": 302}),
}
