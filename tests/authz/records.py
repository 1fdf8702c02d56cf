"""Authorisation matrix rows for the records pages (see tests/authz/__init__.py)."""

ROWS: dict = {}
