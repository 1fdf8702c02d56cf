"""Authorisation matrix rows for enrolled devices (see tests/authz/__init__.py). The office's queue display and a
ward's tablet are principals of their own: the display may see its team's display and nothing a person's
sign-in guards; the tablet only what anyone may (it changes how the family form behaves, never what it may
open); every other page treats them as anyone not signed in. Managers (their site) and admins (every site)
enrol and revoke displays and tablets; made-up links and ids are refused."""

S = "signin"
STAFF = ["ward_staff", "outreach", "manager", "admin"]
ONLY_THE_DISPLAY = {"anonymous": 403, **dict.fromkeys(STAFF, 403), "display": 200, "tablet": 403}
EVERYONE = ["anonymous", *STAFF, "display", "tablet"]
MANAGERS = {"anonymous": S, "ward_staff": 403, "outreach": 403, "display": S, "tablet": S}

ROWS: dict = {
    "devices.displays_page": (
        "GET",
        "/devices/displays",
        {**MANAGERS, "manager": 200, "admin": 200},
    ),
    # Posted empty: the team and name are asked for.
    "devices.create_display": ("POST", "/devices/displays", {**MANAGERS, "manager": 400, "admin": 400}),
    "devices.tablets_page": ("GET", "/devices/tablets", {**MANAGERS, "manager": 200, "admin": 200}),
    # Posted empty: the ward and name are asked for.
    "devices.create_tablet": ("POST", "/devices/tablets", {**MANAGERS, "manager": 400, "admin": 400}),
    # A made-up device: refused with a message on the Displays page.
    "devices.revoke": (
        "POST",
        "/devices/99999/revoke",
        {**MANAGERS, "manager": 302, "admin": 302},
    ),
    # A made-up set-up link: nobody can use it.
    "devices.enrol_page": ("GET", "/devices/enrol/made-up-link", dict.fromkeys(EVERYONE, 404)),
    "devices.enrol": ("POST", "/devices/enrol/made-up-link", dict.fromkeys(EVERYONE, 400)),
    "devices.display_page": ("GET", "/display", ONLY_THE_DISPLAY),
    "devices.display_rows": ("GET", "/display/rows", ONLY_THE_DISPLAY),
}
