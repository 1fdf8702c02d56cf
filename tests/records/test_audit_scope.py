"""A manager reads their own site's audit events, on the page and in the export: events about no call
(a team, a ward, the rota, a staff account, a search of the log) belong to the site of what they are
about, or else to whoever did them (services/records/audit_scope.py)."""

from __future__ import annotations

import pytest

from tests.conftest import build_other_site, create_staff
from tests.records.conftest import read_csv
from tests.records.test_audit_viewer import events_shown
from tests.records.test_exports import export_audit
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Team, Ward
from tracker.services.records import audit


def record(app, action: str, actor: audit.Actor, object_type: str | None = None, object_id: int | None = None) -> int:
    with app.app_context(), write_intent():
        event = audit.record(action, actor, object_type=object_type, object_id=object_id)
        db.session.commit()
        return event.id


@pytest.fixture
def events(app, trust):
    """Call-less events of the manager's site (or the whole trust), and of another site."""
    with app.app_context(), write_intent():
        other_ward = build_other_site()
        db.session.flush()
        other_team, other_site = other_ward.team_id, other_ward.site_id
        other_ward_id = other_ward.id
        db.session.commit()
        mine_team = db.session.scalar(db.select(Team.id).where(Team.site_id == trust["site"]))
        mine_ward = db.session.get(Ward, trust["ward"]).id
    other_manager, _ = create_staff(app, "manager", site_id=other_site)
    other_nurse, _ = create_staff(app, "outreach", team_ids=[other_team])
    mine_manager, _ = create_staff(app, "manager", site_id=trust["site"])
    admin, _ = create_staff(app, "admin")
    cli = audit.Actor.cli()
    hidden = [
        record(app, "team_renamed", cli, "team", other_team),
        record(app, "ward_renamed", cli, "ward", other_ward_id),
        record(app, "site_renamed", cli, "site", other_site),
        record(app, "staff_role_changed", audit.Actor.user(admin), "user", other_nurse),
        record(app, "audit_log_viewed", audit.Actor.user(other_manager)),
        record(app, "export_made", audit.Actor.user(other_manager), "export", 1),
        record(app, "rota_pattern_added", audit.Actor.user(other_manager), "rota_pattern", 10_000),
    ]
    shown = [
        record(app, "team_renamed", cli, "team", mine_team),
        record(app, "ward_renamed", cli, "ward", mine_ward),
        record(app, "audit_log_viewed", audit.Actor.user(mine_manager)),
        record(app, "settings_changed", audit.Actor.user(admin), "settings", 1),
        record(app, "alarm_raised", audit.Actor.system(), "alarm", 1),
    ]
    return {"hidden": hidden, "shown": shown}


def test_the_audit_page_shows_no_call_less_event_of_another_site(client, manager, events):
    page = client.get("/records/audit")
    assert page.status_code == 200
    listed = set(events_shown(page.get_data(as_text=True)))
    assert set(events["shown"]) <= listed
    assert not set(events["hidden"]) & listed


def test_the_audit_export_holds_no_call_less_event_of_another_site(client, manager, events, read):
    response = export_audit(client)
    assert response.status_code == 200
    exported = {int(row["Event"]) for row in read_csv(response)}
    assert set(events["shown"]) <= exported
    assert not set(events["hidden"]) & exported
    assert read.count(AuditEvent) > len(exported)
