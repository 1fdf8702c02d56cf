"""Authorisation matrix rows for enrolled devices (see tests/authz/__init__.py). The office's queue display is a
principal of its own: it may see its team's display and nothing a person's sign-in guards; every other page
treats it as anyone not signed in. Managers (their site) and admins (every site) enrol and revoke displays;
made-up links and ids are refused."""

S = "signin"
STAFF = ["ward_staff", "outreach", "manager", "admin"]
ONLY_THE_DISPLAY = {"anonymous": 403, **dict.fromkeys(STAFF, 403), "display": 200}
EVERYONE = ["anonymous", *STAFF, "display"]

ROWS: dict = {
    "devices.displays_page": (
        "GET",
        "/devices/displays",
        {"anonymous": S, "ward_staff": 403, "outreach": 403, "manager": 200, "admin": 200, "display": S},
    ),
    # Posted empty: the team and name are asked for.
    "devices.create_display": (
        "POST",
        "/devices/displays",
        {"anonymous": S, "ward_staff": 403, "outreach": 403, "manager": 400, "admin": 400, "display": S},
    ),
    # A made-up device: refused with a message on the Displays page.
    "devices.revoke": (
        "POST",
        "/devices/99999/revoke",
        {"anonymous": S, "ward_staff": 403, "outreach": 403, "manager": 302, "admin": 302, "display": S},
    ),
    # A made-up set-up link: nobody can use it.
    "devices.enrol_page": ("GET", "/devices/enrol/made-up-link", dict.fromkeys(EVERYONE, 404)),
    "devices.enrol": ("POST", "/devices/enrol/made-up-link", dict.fromkeys(EVERYONE, 400)),
    "devices.display_page": ("GET", "/display", ONLY_THE_DISPLAY),
    "devices.display_rows": ("GET", "/display/rows", ONLY_THE_DISPLAY),
}
