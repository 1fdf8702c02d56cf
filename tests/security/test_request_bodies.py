"""Bodies no page sends (docs/architecture.md#security): every form is posted urlencoded or multipart, so a JSON
body is refused with 415 before any form reads it. Flask-WTF would otherwise read the JSON as the form's data, and
a body that is not one object (an array, a string, a number, or an array nested thousands deep) raised a 500.
Found by the hostile-input battery (tests/battery/)."""

from __future__ import annotations

import pytest

from tests.triage.test_authorization_matrix import csrf_token


@pytest.mark.parametrize("body", ["[1, 2, 3]", '"x"', "1e999", "null", "[" * 5000 + "]" * 5000, '{"mobile": "1"}'])
def test_a_json_body_is_refused_not_a_500(client, login_as, body):
    login_as("outreach")
    token = csrf_token(client)
    response = client.post("/auth/mobile", data=body, content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 415


def test_a_json_body_to_the_family_form_is_refused(client, trust):
    assert client.post("/w/w7", data="[]", content_type="application/json").status_code in (400, 415)


@pytest.mark.parametrize("number", [2**31, 2**63, 2**64, 10**30])
def test_an_id_in_the_address_past_what_the_database_holds_is_not_found(client, login_as, number):
    """Row ids are 32-bit on PostgreSQL; SQLite refuses integers past 64 bits. Either way, a 404 (not a 500)."""
    login_as("admin")
    token = csrf_token(client)
    response = client.post(f"/admin/staff/{number}/reset-authenticator", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.get(f"/admin/staff/{number}").status_code == 404
