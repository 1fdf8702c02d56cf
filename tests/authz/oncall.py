"""Authorisation matrix rows for the on-call pages (see tests/authz/__init__.py): outreach see and
test their teams' rotas and deal with failed messages; managers (their site) and admins
(anywhere) also change rotas and policies; admins never see the failed messages, which name
wards and calls. Forms posted empty come back with their problem (400); made-up ids are 404."""

S = "signin"
ROLES = ["anonymous", "ward_staff", "outreach", "manager", "admin"]
NOT_WARD = {"anonymous": S, "ward_staff": 403}
TEAM = "/on-call/gen-ccot"

ROWS: dict = {
    # Anyone signed in sets their own mobile for alerts (posted empty: removes it).
    "auth.change_mobile": ("POST", "/auth/mobile", {"anonymous": S, **dict.fromkeys(ROLES[1:], 302)}),
    "oncall.teams": ("GET", "/on-call/", {**NOT_WARD, "outreach": 200, "manager": 200, "admin": 200}),
    "oncall.rota_page": ("GET", f"{TEAM}/rota", {**NOT_WARD, "outreach": 200, "manager": 200, "admin": 200}),
    "oncall.add_pattern": (
        "POST",
        f"{TEAM}/rota/patterns",
        {**NOT_WARD, "outreach": 403, "manager": 400, "admin": 400},
    ),
    "oncall.end_pattern": (
        "POST",
        f"{TEAM}/rota/patterns/999/end",
        {**NOT_WARD, "outreach": 403, "manager": 404, "admin": 404},
    ),
    "oncall.add_shift": ("POST", f"{TEAM}/rota/shifts", {**NOT_WARD, "outreach": 403, "manager": 400, "admin": 400}),
    "oncall.cancel_shift": (
        "POST",
        f"{TEAM}/rota/shifts/999/cancel",
        {**NOT_WARD, "outreach": 403, "manager": 404, "admin": 404},
    ),
    "oncall.policy": ("GET", f"{TEAM}/policy", {**NOT_WARD, "outreach": 200, "manager": 200, "admin": 200}),
    # Nobody is on call in the test trust, so the test goes back to the rota with a warning.
    "oncall.test_rota": ("POST", f"{TEAM}/test", {**NOT_WARD, "outreach": 302, "manager": 302, "admin": 302}),
    "oncall.test_results": (
        "GET",
        f"{TEAM}/test/0123abcd",
        {**NOT_WARD, "outreach": 404, "manager": 404, "admin": 404},
    ),
    # The results page's own refresh: the same reach; a run that does not exist is 404.
    "oncall.test_result_rows": (
        "GET",
        f"{TEAM}/test/0123abcd/rows",
        {**NOT_WARD, "outreach": 404, "manager": 404, "admin": 404},
    ),
    "oncall.failed_messages_page": (
        "GET",
        "/on-call/failed-messages",
        {**NOT_WARD, "outreach": 200, "manager": 200, "admin": 403},
    ),
    "oncall.resend": (
        "POST",
        "/on-call/failed-messages/999/resend",
        {**NOT_WARD, "outreach": 404, "manager": 404, "admin": 403},
    ),
    "oncall.dealt_with": (
        "POST",
        "/on-call/failed-messages/999/dealt-with",
        {**NOT_WARD, "outreach": 404, "manager": 404, "admin": 403},
    ),
}
