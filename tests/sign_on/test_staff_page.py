"""An administrator links a person's account to their trust account on the person's page, by their subject at
the provider (docs/architecture.md#sign-on): their local password then stops working; a wrong link is removed; an
administrator is made break-glass there. Managers cannot do any of it."""

from __future__ import annotations

import re

from tests.sign_on.conftest import staff
from tests.sign_on.test_local_passwords import code_step, csrf, password_sign_in
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, SignOnLink, User


def signed_in_admin(app, client) -> int:
    admin = staff(app, "admin", email="admin@test.invalid")
    with app.app_context(), write_intent():
        db.session.get_one(User, admin).break_glass = True
        db.session.commit()
    password_sign_in(client, "admin@test.invalid")
    code_step(client)
    return admin


def person_page(client, user_id: int) -> str:
    return client.get(f"/admin/staff/{user_id}").get_data(as_text=True)


def post(client, user_id: int, path: str, **data):
    token = re.search(r'name="csrf_token" value="([^"]+)"', person_page(client, user_id)).group(1)
    return client.post(f"/admin/staff/{user_id}/{path}", data={"csrf_token": token, **data})


def test_an_administrator_links_a_nurse_by_their_subject_and_their_password_stops_working(sso_app, sso_client, read):
    nurse = staff(sso_app, "outreach", email="nurse@test.invalid")
    signed_in_admin(sso_app, sso_client)
    assert "Link their trust account" in person_page(sso_client, nurse)
    refused = sso_client.get(post(sso_client, nurse, "trust-account", subject="has spaces in it").headers["Location"])
    assert "with no spaces" in refused.get_data(as_text=True)
    assert read.all(SignOnLink) == []
    assert post(sso_client, nurse, "trust-account", subject="nurse-object-id").status_code == 302
    (made,) = read.all(SignOnLink)
    assert (made.user_id, made.subject) == (nurse, "nurse-object-id")
    assert "data-trust-account-linked" in person_page(sso_client, nurse)
    events = [e.action for e in read.all(AuditEvent) if e.object_type == "user" and e.object_id == nurse]
    assert "sign_on_linked" in events

    other = sso_app.test_client()
    refused_password = password_sign_in(other, "nurse@test.invalid")
    assert refused_password.status_code == 400
    assert "Your account signs in with your trust account" in refused_password.get_data(as_text=True)

    assert post(sso_client, nurse, "trust-account/remove").status_code == 302
    assert read.all(SignOnLink) == []


def test_an_administrator_is_made_break_glass_on_their_page_and_a_manager_cannot(sso_app, sso_client, read):
    other_admin = staff(sso_app, "admin", email="other@test.invalid")
    signed_in_admin(sso_app, sso_client)
    assert post(sso_client, other_admin, "break-glass", on="yes").status_code == 302
    assert read.one(User, User.id == other_admin).break_glass is True
    manager = sso_app.test_client()
    staff(sso_app, "manager", email="manager@test.invalid")
    password_sign_in(manager, "manager@test.invalid")
    code_step(manager)
    token = csrf(manager, "/admin/")
    assert manager.post(f"/admin/staff/{other_admin}/break-glass", data={"csrf_token": token}).status_code == 403
