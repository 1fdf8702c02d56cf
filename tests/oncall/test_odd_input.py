"""What no form would send to the on-call pages: ids past the database's integer in the address, and
a NUL in a name (PostgreSQL refuses to store one). A plain 404 or the form's error, never a server
error (docs/architecture.md#one-web-idiom)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import sign_in_directly
from tests.oncall.test_oncall_pages import TEAM, policy_form, post
from tracker.clock import utcnow
from tracker.models import EscalationPolicy, RotaPattern

# 2^31 is one past PostgreSQL's integer; 2^63 one past a 64-bit integer (SQLite's and Python's C long).
HUGE_IDS = [2**31, 2**63, 10**30]


@pytest.mark.parametrize("number", HUGE_IDS)
@pytest.mark.parametrize(
    "path",
    [
        f"{TEAM}/rota/patterns/{{}}/end",
        f"{TEAM}/rota/shifts/{{}}/cancel",
        "/on-call/failed-messages/{}/resend",
        "/on-call/failed-messages/{}/dealt-with",
    ],
)
def test_an_id_too_big_for_the_database_is_not_found(app, client, on_call, path, number):
    sign_in_directly(app, client, on_call["manager"])
    assert post(client, path.format(number)).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/on-call/gen-ccot%00/rota"),
        ("GET", "/on-call/gen-ccot%00/policy"),
        ("POST", "/on-call/gen-ccot%00/policy"),
        ("POST", "/on-call/gen-ccot%00/rota/patterns"),
        ("POST", "/on-call/gen-ccot%00/rota/shifts"),
        ("POST", "/on-call/gen-ccot%00/test"),
        ("POST", "/on-call/%00/rota/patterns/1/end"),
    ],
)
def test_a_team_code_with_a_nul_is_refused(app, client, on_call, method, path):
    """PostgreSQL refuses to compare a NUL: it is refused before any view (web/request_checks.py)."""
    sign_in_directly(app, client, on_call["manager"])
    response = post(client, path, policy_form()) if method == "POST" else client.get(path)
    assert response.status_code == 400


def test_another_control_character_in_a_code_is_not_found(app, client, on_call):
    sign_in_directly(app, client, on_call["manager"])
    assert client.get("/on-call/gen-ccot/test/run%01/rows").status_code == 404


@pytest.mark.parametrize("name", ["Nights\x00", "\x00"])
def test_a_nul_in_a_patterns_name_is_refused_and_nothing_saved(app, client, read, on_call, name):
    sign_in_directly(app, client, on_call["manager"])
    before = read.count(RotaPattern)
    response = post(
        client,
        f"{TEAM}/rota/patterns",
        {
            "form": "pattern",
            "name": name,
            "tier": "secondary",
            "start_local": "20:00",
            "shift_hours": "12",
            "anchor_date": (utcnow() + timedelta(days=1)).date().isoformat(),
            "people": [str(on_call["people"]["secondary"])],
        },
    )
    assert response.status_code == 400  # before the form runs (web/request_checks.py)
    assert read.count(RotaPattern) == before


@pytest.mark.parametrize("field", ["fallback_name", "fallback_number"])
def test_a_nul_in_the_policy_is_refused_at_the_field(app, client, read, on_call, field):
    sign_in_directly(app, client, on_call["manager"])
    before = read.one(EscalationPolicy).fallback_name
    response = post(client, f"{TEAM}/policy", policy_form(**{field: "Hospital\x00 at night"}))
    assert response.status_code == 400
    assert read.one(EscalationPolicy).fallback_name == before


@pytest.mark.parametrize("value", ["²", "١٢", "9" * 5000])
def test_odd_digits_in_the_policy_are_refused_at_the_field(app, client, read, on_call, value):
    sign_in_directly(app, client, on_call["manager"])
    response = post(client, f"{TEAM}/policy", policy_form(repeat_times=value, step1_wait=value))
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)
