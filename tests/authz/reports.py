"""Authorisation matrix rows for the reports pages (see tests/authz/__init__.py): the dashboard,
the NHS England monthly return and its CSV are for managers only, for their own site (scope is
tested in tests/reports/test_report_pages.py). A manager's POST of the implementation status with
no answers gets the return page back with its problems (400): the point here is who gets past the
door."""

S = "signin"
MANAGER_ONLY = {"anonymous": S, "ward_staff": 403, "outreach": 403, "admin": 403}

ROWS: dict = {
    "reports.dashboard": ("GET", "/reports/", {**MANAGER_ONLY, "manager": 200}),
    "reports.monthly_return": ("GET", "/reports/return", {**MANAGER_ONLY, "manager": 200}),
    "reports.monthly_return_csv": ("GET", "/reports/return.csv", {**MANAGER_ONLY, "manager": 200}),
    # A .json address answers 401 (not the sign-in page) to anyone not signed in, as every JSON address does.
    "reports.standard_report_json": (
        "GET",
        "/reports/standard.json",
        {**MANAGER_ONLY, "anonymous": 401, "manager": 200},
    ),
    "reports.standard_report_csv": ("GET", "/reports/standard.csv", {**MANAGER_ONLY, "manager": 200}),
    "reports.improvement": ("GET", "/reports/improvement", {**MANAGER_ONLY, "manager": 200}),
    "reports.record_implementation": ("POST", "/reports/return/implementation", {**MANAGER_ONLY, "manager": 400}),
    # The improvement charts' changes and baselines: posted empty, the form's problems (400); a change or baseline
    # that is not the manager's site's (here none exists) is not found (scope: tests/reports/test_improvement_changes.py).
    "reports.record_change": ("POST", "/reports/improvement/changes", {**MANAGER_ONLY, "manager": 400}),
    "reports.remove_change": ("POST", "/reports/improvement/changes/1/remove", {**MANAGER_ONLY, "manager": 404}),
    "reports.fix_baseline": ("POST", "/reports/improvement/baselines", {**MANAGER_ONLY, "manager": 400}),
    "reports.remove_baseline": ("POST", "/reports/improvement/baselines/1/remove", {**MANAGER_ONLY, "manager": 404}),
}
