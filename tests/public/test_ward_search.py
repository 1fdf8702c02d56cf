"""Ward search that forgives: spacing, word order, the site's name and a typo (two in long words); numbers exact.
The same cases run through the page's live filter in Chromium (tests/e2e/test_ward_search.py)."""

from __future__ import annotations

import pytest

from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Population
from tracker.services.records import audit
from tracker.services.setup import hospital
from tracker.services.setup.ward_search import matches

WARD = ("Ward 7B Respiratory", "Northgate Hospital", "ng-7b")

# (what is typed, whether Ward 7B Respiratory at Northgate is found)
CASES = [
    ("7b", True),
    ("7 b", True),
    ("7B", True),
    ("northgate 7b", True),
    ("7b northgate", True),
    ("respiratory", True),
    ("respiritory", True),  # one typo
    ("respritory", True),  # two typos in a long word
    ("resp", True),
    ("wrad 7b", True),  # two letters swapped
    ("ng-7b", True),
    ("", True),
    ("8", False),
    ("7c", False),
    ("7b cardiology", False),
    ("rainbow", False),
    ("wxyz", False),
]


@pytest.mark.parametrize("typed, found", CASES)
def test_a_ward_is_found_by_what_a_visitor_types(typed, found):
    assert matches(typed, *WARD) is found


def add_northgate(app) -> None:
    """Ward 7B Respiratory at Northgate Hospital, beside the test trust's wards."""
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        site = hospital.add_site(actor, code="ngh", name="Northgate Hospital")
        team = hospital.add_team(
            actor,
            code="ngh-ccot",
            site=site,
            name="Northgate Outreach",
            population=Population.ADULT,
            public_phone="020 7946 0777",
            duty_phone="07400 900777",
        )
        hospital.add_ward(actor, code="ng-7b", name=WARD[0], site=site, team=team, population=Population.ADULT)
        db.session.commit()


def test_the_chooser_page_uses_the_same_search(client, trust, app):
    add_northgate(app)
    page = client.get("/?q=respiritory northgate").get_data(as_text=True)
    assert 'href="/w/ng-7b"' in page and 'href="/w/w7"' not in page
