"""Fixtures for a call's page: one call raised by a family, and an outreach clinician signed in."""

from __future__ import annotations

import pytest

from tracker.extensions import db
from tracker.models import Concern


@pytest.fixture
def call(family, app):
    family.submit()
    with app.app_context():
        return db.session.scalar(db.select(Concern.reference))


@pytest.fixture
def nurse(login_as):
    return login_as("outreach")
