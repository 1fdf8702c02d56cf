"""Authenticator codes are six ASCII digits: other digits get the normal error, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import create_staff, sign_in_directly
from tests.security.helpers import TOTP_SECRET, csrf, sign_in

NOT_ASCII = ["１２３４５６", "١٢٣٤٥٦", "۱۲۳۴۵۶", "१२३४५६", "12345６", "²²²²²²"]


@pytest.fixture
def lead(app, trust):
    return create_staff(app, "manager", email="lead@test.invalid", site_id=trust["site"], totp_secret=TOTP_SECRET)[0]


@pytest.mark.parametrize("code", NOT_ASCII)
def test_the_sign_in_code_step_refuses_digits_that_are_not_ascii(client, lead, code):
    sign_in(client, "lead@test.invalid")
    response = client.post("/auth/sign-in/code", data={"csrf_token": csrf(client, "/auth/sign-in/code"), "code": code})
    assert response.status_code == 400
    assert "6-digit code" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", NOT_ASCII)
def test_signing_in_again_refuses_digits_that_are_not_ascii(app, client, lead, code):
    from tests.security.helpers import PASSWORD

    sign_in_directly(app, client, lead)
    response = client.post(
        "/auth/confirm", data={"csrf_token": csrf(client, "/auth/confirm"), "password": PASSWORD, "code": code}
    )
    assert response.status_code == 400
    assert "6-digit code" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", NOT_ASCII)
def test_setting_up_an_authenticator_refuses_digits_that_are_not_ascii(app, client, trust, code):
    user = create_staff(app, "manager", email="new-lead@test.invalid", site_id=trust["site"])[0]
    sign_in_directly(app, client, user)
    page = client.get("/auth/mfa")
    assert page.status_code == 200
    response = client.post("/auth/mfa", data={"csrf_token": csrf(client, "/auth/mfa"), "code": code})
    assert response.status_code == 400
