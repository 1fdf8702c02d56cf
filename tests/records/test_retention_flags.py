"""A manager's retention flags on a call (legal hold, serious incident, complaint): shown on the
call's page to managers only, saved and audited, without disturbing a clinician's open page."""

from __future__ import annotations

from tests.records.conftest import make_concern
from tests.triage.test_authorization_matrix import csrf_token
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, Population
from tracker.services.records import audit
from tracker.services.setup import hospital


def test_a_manager_sets_a_legal_hold_and_it_is_audited(app, client, trust, manager, read):
    concern_id, reference = make_concern(app, trust["ward"])
    version = read.one(Concern).version
    page = client.get(f"/triage/c/{reference}").get_data(as_text=True)
    assert "Keeping this record" in page and 'name="legal_hold"' in page
    response = client.post(
        f"/records/c/{reference}/retention",
        data={"csrf_token": csrf_token(client), "legal_hold": "yes", "complaint": "yes"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/triage/c/{reference}#retention")
    concern = read.one(Concern)
    assert (concern.legal_hold, concern.serious_incident, concern.complaint) == (True, False, True)
    assert concern.version == version, "a clinician's open page must not go stale over a retention flag"
    event = read.one(AuditEvent, AuditEvent.action == "retention_flags_set")
    assert (event.actor_id, event.concern_id, event.changes) == (
        manager,
        concern_id,
        {"legal_hold": True, "complaint": True},
    )
    page = client.get(f"/triage/c/{reference}").get_data(as_text=True)
    assert 'name="legal_hold" type="checkbox" value="yes" checked' in page


def test_clinicians_do_not_see_the_retention_form(app, client, trust, login_as):
    _, reference = make_concern(app, trust["ward"])
    login_as("outreach")
    assert "Keeping this record" not in client.get(f"/triage/c/{reference}").get_data(as_text=True)


def test_another_sites_call_is_not_found(app, client, trust, manager, read):
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        site = hospital.add_site(actor, code="far", name="Far Hospital")
        team = hospital.add_team(
            actor,
            code="far-ccot",
            site=site,
            name="Far Team",
            population=Population.ADULT,
            public_phone="020 7946 0555",
            duty_phone="07400 900555",
        )
        far = hospital.add_ward(
            actor, code="far1", name="Far Ward", site=site, team=team, population=Population.ADULT
        ).id
        db.session.commit()
    _, elsewhere = make_concern(app, far)
    token = csrf_token(client)
    assert (
        client.post(f"/records/c/{elsewhere}/retention", data={"csrf_token": token, "legal_hold": "yes"}).status_code
        == 404
    )
    assert client.post("/records/c/MR-AAAA-AA/retention", data={"csrf_token": token}).status_code == 404
    assert client.post("/records/c/..%2F..%2Fetc/retention", data={"csrf_token": token}).status_code == 404
    assert read.count(Concern, Concern.legal_hold.is_(True)) == 0
