"""The on-call test trust (a team with people on call and a manager), for every on-call test module."""

from tests.oncall.test_oncall_pages import on_call  # noqa: F401 (a fixture)
