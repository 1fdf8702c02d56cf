"""Asking for another site's figures is audited (`access_denied`) and answered 404 while others write. On
SQLite, a page that has been reading and then writes in the same transaction fails at once with "database
is locked" if another writer committed in between (the busy timeout cannot help it): the refusal must
take the write lock before it writes (tracker/db.py, web/access.py)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import ON_POSTGRES
from tests.reports.test_report_pages import far_site, manager  # noqa: F401 (fixtures)
from tracker.models import AuditEvent
from tracker.reports import routes
from tracker.services.posters import printing

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write lock; PostgreSQL locks rows as it writes")


def write_after(monkeypatch, database_url, module, name: str) -> None:
    """Another process commits just after the page has called `module.name` (a read)."""
    path = make_url(database_url).database
    read = getattr(module, name)

    def then_someone_writes(*args, **kwargs):
        found = read(*args, **kwargs)
        other = sqlite3.connect(path, timeout=5)
        version = other.execute("PRAGMA user_version").fetchone()[0]
        other.execute(f"PRAGMA user_version = {version + 1}")
        other.commit()
        other.close()
        return found

    monkeypatch.setattr(module, name, then_someone_writes)


@pytest.fixture
def a_write_lands_mid_request(monkeypatch, database_url):
    write_after(monkeypatch, database_url, routes, "managed_sites")


# Not the return's CSV: its download is audited, so it takes the write lock before its first query.
@pytest.mark.parametrize("path", ["/reports/?site=far", "/reports/return?site=far"])
def test_another_sites_code_is_not_found_while_others_write(
    client,
    manager,  # noqa: F811
    far_site,  # noqa: F811
    read,
    a_write_lands_mid_request,
    path,
):
    assert client.get(path).status_code == 404
    assert read.count(AuditEvent, AuditEvent.action == "access_denied") == 1


def test_another_sites_ward_poster_is_not_found_while_others_write(
    client,
    manager,  # noqa: F811
    far_site,  # noqa: F811
    read,
    monkeypatch,
    database_url,
):
    write_after(monkeypatch, database_url, printing, "enabled_language")
    assert client.get("/records/posters/en/far1.pdf").status_code == 404
    assert read.count(AuditEvent, AuditEvent.action == "access_denied") == 1
