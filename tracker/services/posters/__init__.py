"""Printable ward posters (docs/architecture.md#posters)."""
