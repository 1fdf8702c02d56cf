"""Authorisation matrix rows for /metrics (see tests/authz/__init__.py): administrators only (the scraper's token
is tested in tests/test_metrics.py); for everyone else the page is not there."""

ROWS: dict = {
    "metrics.metrics": (
        "GET",
        "/metrics",
        {"anonymous": 404, "ward_staff": 404, "outreach": 404, "manager": 404, "admin": 200},
    ),
}
