"""Every address with a part that names something: an id past the database's integer, or a part with a
NUL (PostgreSQL stores none), is simply not found (web/addresses.py), for every route and method. The
family's pages (`<ward_code:…>`) answer any code themselves, kindly: never a server error."""

from __future__ import annotations

import re

import pytest

from tests.triage.test_authorization_matrix import csrf_token

PART = re.compile(r"<(?:(\w+):)?\w+>")


def odd_paths(app) -> list[tuple[str, str, bool]]:
    found = []
    for rule in app.url_map.iter_rules():
        if "<" not in rule.rule or rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for odd_id, odd_text in ((str(2**63), "a%00b"), (str(2**31), "%01")):

                def swap(part, odd_id=odd_id, odd_text=odd_text):
                    return odd_id if part.group(1) == "int" else odd_text

                found.append((method, PART.sub(swap, rule.rule), "<ward_code:" in rule.rule))
    return found


@pytest.mark.parametrize("role", ["manager", "outreach"])
def test_an_odd_part_of_any_address_is_not_found(app, client, login_as, role):
    login_as(role)
    token = csrf_token(client)
    for method, path, family in odd_paths(app):
        response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        if family:
            assert response.status_code < 500, (method, path, response.status_code)
        else:  # a NUL anywhere in an address is refused before any view (web/request_checks.py)
            expected = 400 if "%00" in path else 404
            assert response.status_code == expected, (method, path, response.status_code)
