"""The one-time submission id of the forms that raise a call (tests/battery/test_battery.py): a whole, valid form
sent with an empty, made-up or reused id. A reused id is first used by a real submission."""

from __future__ import annotations

from tests.battery import corpus
from tests.battery.discover import Route
from tests.battery.requests import Principal, Target
from tests.conftest import hidden_fields, valid_answers
from tests.triage.test_authorization_matrix import MATRIX

TARGET = Target("form", "submission_id")


def answers(route: Route, trust) -> dict:
    extra = {"ward_id": str(trust["ward"])} if "ward_id" in route.form_fields else {}
    return valid_answers(**extra)


def submission_cases(app, principal: Principal, route: Route, trust) -> list[tuple[str, dict, Target]]:
    page = MATRIX[route.endpoint][1]
    cases = []
    for value in corpus.SUBMISSION_IDS:
        body = answers(route, trust)
        if value == "REUSED":
            response = principal.client.get(page)
            value = hidden_fields(response.get_data(as_text=True)).get("submission_id", "")
            response.close()
            first = principal.client.post(page, data={**body, "submission_id": value, "csrf_token": principal.token})
            first.close()
        cases.append(("submission_id", {**body, "submission_id": value}, TARGET))
    return cases
