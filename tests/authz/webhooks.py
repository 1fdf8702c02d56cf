"""Authorisation matrix rows for the webhooks pages (see tests/authz/__init__.py)."""

ROWS: dict = {}
