"""The generated hostile-input battery (docs/architecture.md#testing): every category of the corpus × every
route of the URL map × one field of the route (rotating through its fields over the categories, so that every
field, query parameter and path parameter is hit) × every principal that can reach the route. The database is
emptied once per route (this module's one test per route), not per case. On PostgreSQL one sample per category
runs instead of the cross product. tests/battery/test_coverage.py proves nothing is left out."""

from __future__ import annotations

import math
import re
from collections import defaultdict

import pytest
from werkzeug.datastructures import MultiDict

from tests.authz.admin_staff import PEOPLE
from tests.battery import corpus, tally
from tests.battery.discover import Route, discover
from tests.battery.principals import reaching, sign_in, signed_out
from tests.battery.requests import Principal, Target, judge, path_with, send, targets
from tests.battery.submissions import submission_cases
from tests.conftest import ON_POSTGRES
from tests.services.test_concerns import raise_one
from tests.triage.test_authorization_matrix import MATRIX
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Ward
from tracker.services.concerns import abuse

ENDPOINTS = sorted(MATRIX)
# Where typed text comes back later: each principal reads these after a route's cases (stored, not reflected).
SHOWN_AGAIN = {
    "outreach": ["/triage/", "/triage/c/{ref}"],
    "manager": ["/triage/c/{ref}", "/records/audit", "/reports/improvement"],
    "ward_staff": ["/triage/ward", "/triage/ward/check"],
    "admin": ["/admin/staff", "/admin/settings"],
}
_next_payload: dict[str, int] = defaultdict(int)  # rotates each category's payloads from route to route


def pg_samples() -> dict[str, set[str]]:
    """On PostgreSQL, one route per category (spread over the URL map), one principal, one payload."""
    chosen: dict[str, set[str]] = defaultdict(set)
    for index, category in enumerate(corpus.CATEGORIES):
        endpoint = "public.concern_form" if category == "submission_id" else ENDPOINTS[(index * 37) % len(ENDPOINTS)]
        chosen[endpoint].add(category)
    return chosen


RUN = pg_samples() if ON_POSTGRES else {endpoint: set(corpus.CATEGORIES) for endpoint in ENDPOINTS}
_routes: dict = {}


def routes(app) -> dict[str, Route]:
    if id(app) not in _routes:
        _routes[id(app)] = discover(app)
    return _routes[id(app)]


def chosen_targets(route: Route, shift: int, category_index: int | None = None) -> list[Target]:
    """The fields one principal's cases aim at: category i hits field i (shifted per principal), and the fields
    beyond the number of categories are shared out too, so every field is hit. With no category, all of them."""
    found = targets(route)
    count = len(corpus.CATEGORIES)
    indexes = range(count) if category_index is None else [category_index]
    rounds = math.ceil(len(found) / count)
    hit = dict.fromkeys((i + shift + k * count) % len(found) for i in indexes for k in range(rounds))
    return [found[position] for position in hit]


def plan(route: Route, shift: int, categories: set[str]) -> list[tuple[str, str, Target]]:
    """(category, payload, target) for one principal; each category's payloads rotate from case to case."""
    cases = []
    for index, category in enumerate(corpus.CATEGORIES):
        if category not in categories or category == "submission_id":
            continue
        payloads = corpus.FIELD_VALUES.get(category) or corpus.SHAPES[category]
        for target in chosen_targets(route, shift, index)[: 1 if ON_POSTGRES else None]:
            cases.append((category, payloads[_next_payload[category] % len(payloads)], target))
            _next_payload[category] += 1
    return cases


def sample_path(app, endpoint: str, trust, reference: str) -> tuple[dict, MultiDict]:
    """The matrix's sample path for the route: its path parameters' values and its query."""
    _method, path, _expected = MATRIX[endpoint]
    people = {name: make(app, trust) for name, make in PEOPLE.items() if f"{{{name}}}" in path}
    path, _, query = path.format(ref=reference, **people).partition("?")
    adapter = app.url_map.bind("localhost")
    rule_values: dict = {}
    for method in ("GET", "POST"):
        try:
            _endpoint, rule_values = adapter.match(path, method=method)
            break
        except Exception:  # noqa: S112 (a method the rule does not take: try the other)
            continue
    return rule_values, MultiDict([pair.split("=", 1) for pair in query.split("&") if "=" in pair])


def attempt(principal: Principal, route: Route, path: str, query, category, payload, target) -> tuple:
    """Sends one case; (status, problem) and whether the principal was signed out by it."""
    abuse.reset_counts()  # rate limits would stop the cases reaching the view
    try:
        response = send(principal, route, path, query, category, payload, target)
    except Exception as crash:  # the test client re-raises what the app raised: a 500 in production
        return None, f"raised {type(crash).__name__}: {str(crash)[:120]}", False
    try:
        return response.status_code, judge(response), signed_out(response)
    finally:
        response.close()


@pytest.mark.parametrize("endpoint", sorted(RUN))
def test_hostile_input(app, trust, endpoint):
    started = tally.start()
    with app.app_context(), write_intent():
        reference = raise_one(db.session.get_one(Ward, trust["ward"])).concern.reference
    route = routes(app)[endpoint]
    values, query = sample_path(app, endpoint, trust, reference)
    sample = {name: values.get(name, "1" if kind == "int" else "x") for name, kind in route.path_params.items()}
    failures = []
    for shift, role in enumerate(reaching(endpoint)):
        principal = sign_in(app, trust, role)
        cases = plan(route, shift, RUN[endpoint])
        if "submission_id" in RUN[endpoint] and "submission_id" in route.form_fields:
            cases += submission_cases(app, principal, route, trust)
        for category, payload, target in cases:
            path = path_with(route, sample, target, payload if target.kind == "path" else "")
            status, problem, ended = attempt(principal, route, path, query, category, payload, target)
            tally.add(route.family, problem is None)
            if problem:
                failures.append(f"{role} {category} {target.kind}:{target.name}={_short(payload)} -> {problem}")
            if ended:
                principal = sign_in(app, trust, role)
        if route.main_method == "POST":  # what a GET cannot have stored
            failures += shown_again(principal, route, reference)
        if ON_POSTGRES:
            break
    tally.spent(started)
    assert failures == [], "\n".join(failures)


def shown_again(principal: Principal, route: Route, reference: str) -> list[str]:
    failures = []
    for page in SHOWN_AGAIN.get(principal.role, []):
        response = principal.client.get(page.format(ref=reference))
        problem = judge(response)
        response.close()
        tally.add(route.family, problem is None)
        if problem:
            failures.append(f"{principal.role} GET {page} after the cases -> {problem}")
    return failures


def _short(payload) -> str:
    text = repr(payload)
    return text if len(text) < 50 else f"{text[:40]}…({len(text)} chars)"


def test_the_corpus_is_big_enough():
    assert corpus.case_count() >= 300
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in corpus.CATEGORIES)
