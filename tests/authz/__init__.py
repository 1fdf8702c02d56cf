"""Rows of the authorisation matrix (tests/triage/test_authorization_matrix.py), one module per
area, so each area adds its endpoints beside its own code. Each module defines ROWS in the
matrix's format: endpoint -> (method, path, {role: expected})."""
