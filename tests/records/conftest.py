"""Fixtures for the records pages: a signed-in manager of the test trust's site, calls made to
order, and the files the exports send, read back as a spreadsheet would."""

from __future__ import annotations

import csv
import io
import itertools
import re

import pyotp
import pytest

from tests.services.test_concerns import raise_one
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, Ward
from tracker.services.concerns.intake import Source

MANAGER_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # login_as gives managers this secret
_numbers = itertools.count(1)


@pytest.fixture
def manager(login_as) -> int:
    """A manager of the test trust's site, signed in just now (so exports need no confirmation)."""
    return login_as("manager")


def make_concern(app, ward_id: int, **fields) -> tuple[int, str]:
    """A call raised on the ward by a family (patient Pat Jones unless told otherwise), then given
    `fields` directly (status, outcome coding, dates...). Returns (id, reference)."""
    n = next(_numbers)
    intake = {key: fields.pop(key) for key in ("patient_name", "worry_details", "caller_name") if key in fields}
    intake.setdefault("worry_details", f"Breathing fast, call {n}")
    with app.app_context(), write_intent():
        ward = db.session.get(Ward, ward_id)
        outcome = raise_one(
            ward,
            source=Source(device_id=f"device-{n}", address=f"10.1.{n // 250}.{n % 250}"),
            submission=f"records-{n:016d}",
            **intake,
        )
        concern = db.session.get(Concern, outcome.concern.id)
        for name, value in fields.items():
            setattr(concern, name, value)
        db.session.commit()
        return concern.id, concern.reference


def csrf(client, path: str = "/records/exports") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no form on {path}"
    return found.group(1)


def read_csv(response) -> list[dict]:
    """The CSV as the csv module reads it (after Excel's UTF-8 mark)."""
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff"), "no UTF-8 byte order mark: Excel would misread accents"
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def code_now() -> str:
    return pyotp.TOTP(MANAGER_TOTP).now()
