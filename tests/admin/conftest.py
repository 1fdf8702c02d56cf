"""Fixtures for the set-up pages' tests: a second site, and staff accounts of both sites made through the same service
the `flask tracker create-user` command uses (so each is audited as a joiner)."""

from __future__ import annotations

import pytest

from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Population, Role, Site, Team, Ward
from tracker.services.people.users import create_user
from tracker.services.records import audit
from tracker.services.setup import hospital


@pytest.fixture
def other_site(app, trust) -> dict:
    """A second site, `other`, with its own team and ward."""
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        site = hospital.add_site(actor, code="other", name="Other Hospital")
        team = hospital.add_team(
            actor,
            code="other-ccot",
            site=site,
            name="Other Outreach",
            population=Population.ADULT,
            public_phone="020 7946 0555",
            duty_phone="07400 900555",
        )
        ward = hospital.add_ward(
            actor, code="ow1", name="Other Ward", site=site, team=team, population=Population.ADULT
        )
        db.session.commit()
        return {"site": site.id, "team": team.id, "ward": ward.id}


@pytest.fixture
def staff(app, trust, other_site) -> dict[str, int]:
    """Accounts by email: ward staff, outreach and a manager of the test trust's site (`gen`); ward staff and a
    manager of the other site; an outreach clinician covering both; an administrator. Returns their ids."""
    with app.app_context(), write_intent():
        gen_team, other_team = db.session.get(Team, trust["team"]), db.session.get(Team, other_site["team"])
        gen_ward, other_ward = db.session.get(Ward, trust["ward"]), db.session.get(Ward, other_site["ward"])
        gen, other = db.session.get(Site, trust["site"]), db.session.get(Site, other_site["site"])
        made = [
            ("nurse@gen.invalid", "Nia Nurse", dict(role=Role.WARD_STAFF, ward=gen_ward)),
            ("ccot@gen.invalid", "Cai Outreach", dict(role=Role.OUTREACH, teams=[gen_team])),
            ("lead@gen.invalid", "Gwen Lead", dict(role=Role.MANAGER, site=gen)),
            ("nurse@other.invalid", "Olu Nurse", dict(role=Role.WARD_STAFF, ward=other_ward)),
            ("lead@other.invalid", "Ola Lead", dict(role=Role.MANAGER, site=other)),
            ("both@trust.invalid", "Bo Both", dict(role=Role.OUTREACH, teams=[gen_team, other_team])),
            ("admin@trust.invalid", "Ada Admin", dict(role=Role.ADMIN)),
        ]
        ids = {}
        for email, name, fields in made:
            user, _password = create_user(audit.Actor.cli(), email=email, display_name=name, **fields)
            ids[email] = user.id
        db.session.commit()
        return ids
