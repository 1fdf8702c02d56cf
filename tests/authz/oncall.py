"""Authorisation matrix rows for the admin pages (see tests/authz/__init__.py)."""

ROWS: dict = {}
