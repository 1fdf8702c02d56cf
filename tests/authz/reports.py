"""Authorisation matrix rows for the reports pages (see tests/authz/__init__.py)."""

ROWS: dict = {}
