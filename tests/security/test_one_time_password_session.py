"""A session still on its one-time password may only choose a new password or sign out."""

from __future__ import annotations

import pytest

from tests.conftest import create_staff
from tests.security.helpers import csrf, sign_in
from tracker.models import User


@pytest.fixture
def newcomer(app, trust):
    return create_staff(app, "outreach", email="new@test.invalid", team_ids=[trust["team"]], must_change_password=True)[
        0
    ]


def test_the_alert_mobile_cannot_be_changed_before_the_one_time_password_is(client, newcomer, read):
    sign_in(client, "new@test.invalid")
    token = csrf(client, "/auth/password")
    response = client.post("/auth/mobile", data={"csrf_token": token, "mobile": "07400 111222"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/password"
    assert read.one(User).mobile is None


@pytest.mark.parametrize("path", ["/auth/account", "/auth/mfa", "/auth/confirm"])
def test_account_pages_send_a_one_time_password_session_to_choose_a_password(client, newcomer, path):
    sign_in(client, "new@test.invalid")
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/password"


def test_a_one_time_password_session_may_still_sign_out(client, newcomer):
    sign_in(client, "new@test.invalid")
    assert client.get("/auth/sign-out").status_code == 200
    token = csrf(client, "/auth/password")
    response = client.post("/auth/sign-out", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/sign-in"
    assert client.get("/auth/password").status_code == 302
