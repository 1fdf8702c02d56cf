"""What the tests of the Sites, teams and Wards pages share: posting a form with its CSRF token, and a second site
with its own manager (someone whose reach does not include the test trust's site)."""

from __future__ import annotations

import re

from tests.conftest import build_other_site, create_staff, sign_in_directly
from tracker.db import write_intent
from tracker.extensions import db

TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def token(client) -> str:
    page = client.get("/auth/account").get_data(as_text=True)
    found = re.search(r'data-csrf-token="([^"]+)"', page)
    assert found, "no CSRF token on the account page"
    return found.group(1)


def post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": token(client), **(data or {})})


def add_other_site(app) -> int:
    """The second site of tests/conftest.py (build_other_site: "other", team "other-ccot", ward "ow1"); its id."""
    with app.app_context(), write_intent():
        ward = build_other_site(duty_phone="07400 900555")
        db.session.commit()
        return ward.site_id


def sign_in_other_manager(app, client) -> int:
    """A manager of the other site, signed in; returns their id."""
    user_id, _ = create_staff(app, "manager", site_id=add_other_site(app), totp_secret=TOTP)
    sign_in_directly(app, client, user_id)
    return user_id
