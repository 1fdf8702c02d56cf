"""The battery covers everything the day it lands (docs/architecture.md#testing): every route of the URL map is
attacked as someone who can reach it; every posted field, query parameter and path parameter is the target of
at least one case; a view that reads its query or its posted fields in a way discovery cannot follow must say
what it reads (tests/battery/discover.py) or fail here."""

from __future__ import annotations

import re
from pathlib import Path

from tests.battery import corpus
from tests.battery.discover import DECLARED_QUERY
from tests.battery.principals import reaching
from tests.battery.requests import SHAPERS, targets
from tests.battery.test_battery import ENDPOINTS, chosen_targets, routes

TRACKER = Path(__file__).resolve().parents[2] / "tracker"
# POST routes that read no field at all: the action is the route (a claim, a sign-out). A new POST route whose
# fields discovery cannot find fails below until its fields are declared (discover.DECLARED_FIELDS) or it is
# listed here.
NO_FIELDS = {
    "admin.clear_sign_in_counts",
    "admin.confirm_change",
    "admin.deactivate",
    "admin.invite",
    "admin.reactivate",
    "admin.reset_authenticator",
    "admin.reset_password",
    "admin.unlink_trust_account",
    "auth.end_sign_on_outage",
    "auth.keepalive",
    "auth.link_trust_account",
    "auth.remove_mfa",
    "auth.sign_out",
    "auth.sign_out_everywhere",
    "auth.sign_out_others",
    "devices.enrol",
    "devices.revoke",
    "oncall.cancel_shift",
    "oncall.dealt_with",
    "oncall.end_pattern",
    "oncall.test_rota",
    "public.daily_check_review",
    "public.text_reference",
    "triage.claim",
    "triage.clear_safeguarding",
    "triage.confirm_check_answer",
    "triage.discharge_from_bed",
    "triage.follow_up_read",
    "triage.mark_check_acted_on",
    "triage.mark_check_seen",
    "triage.raise_check_call",
    "triage.raise_follow_up",
    "triage.set_safeguarding",
}
ARGS_READ = re.compile(r"request\.args(?:\.get|\.getlist|\[)\(?\s*[\"']([^\"']+)[\"']")


def test_every_route_is_attacked_by_someone_who_can_reach_it(app):
    found = routes(app)
    assert set(found) == set(ENDPOINTS), "the battery's routes are the URL map's (and the authorisation matrix's)"
    assert [endpoint for endpoint in found if not reaching(endpoint)] == []


def test_every_field_and_parameter_is_a_target(app):
    missed = {}
    for endpoint, route in routes(app).items():
        hit = {(t.kind, t.name) for shift in range(len(reaching(endpoint))) for t in chosen_targets(route, shift)}
        left = {(t.kind, t.name) for t in targets(route)} - hit
        if left:
            missed[endpoint] = sorted(left)
    assert missed == {}


def test_every_post_route_says_what_it_reads(app):
    unknown = [
        endpoint
        for endpoint, route in routes(app).items()
        if route.main_method == "POST" and not route.form_fields and endpoint not in NO_FIELDS
    ]
    assert unknown == [], "declare their fields in discover.DECLARED_FIELDS, or list them in NO_FIELDS"
    assert {e for e in NO_FIELDS if routes(app)[e].form_fields} == set(), "these read fields now"


def test_a_view_that_hands_on_its_query_declares_what_it_reads(app):
    opaque = [endpoint for endpoint, route in routes(app).items() if route.opaque_args]
    assert [endpoint for endpoint in opaque if endpoint not in DECLARED_QUERY] == []


def test_every_query_parameter_read_anywhere_is_a_target(app):
    """A `request.args.get("x")` in a hook or helper discovery did not follow still has to be attacked."""
    attacked = {name for route in routes(app).values() for name in route.query_params}
    read = {
        f"{path.relative_to(TRACKER)}: {name}"
        for path in TRACKER.rglob("*.py")
        for name in ARGS_READ.findall(path.read_text())
        if name not in attacked
    }
    assert read == set()


def test_every_category_is_sent():
    assert set(corpus.CATEGORIES) == set(corpus.FIELD_VALUES) | set(corpus.SHAPES)
    assert set(corpus.SHAPES) == set(SHAPERS), "each request shape needs its builder (tests/battery/requests.py)"
