"""The journeys the browser tests walk, each with the person who walks it and the screens they use
(docs/architecture.md#testing). This is the one place that says which screen sizes are tested:
a browser test names its journey with `@at(...)`, and runs once per screen of that journey.

    @at(OUTREACH_NURSE)                    # at 1366×768 and at 390×844
    @at(SERVICE_MANAGER, only="desktop")   # one screen of the journey, for a slow or screen-free test
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Screen:
    """A viewport; `name` is the test id and the screenshots' suffix."""

    name: str
    width: int
    height: int
    about: str

    @property
    def size(self) -> dict[str, int]:
        return {"width": self.width, "height": self.height}


PHONE = Screen("phone", 390, 844, "a phone held upright")
WARD_TABLET_PORTRAIT = Screen("tablet-portrait", 810, 1080, "a ward tablet held upright")
WARD_TABLET = Screen("tablet", 1024, 768, "a ward tablet on its side")
DESKTOP = Screen("desktop", 1366, 768, "the outreach office's and a manager's screen")

SCREENS = {screen.name: screen for screen in (PHONE, WARD_TABLET_PORTRAIT, WARD_TABLET, DESKTOP)}


@dataclass(frozen=True)
class Journey:
    """Who walks it (a principal of the authorisation matrix, tests/authz) and on which screens."""

    name: str
    principal: str
    screens: tuple[Screen, ...]

    @property
    def screen_names(self) -> tuple[str, ...]:
        return tuple(screen.name for screen in self.screens)


FAMILY_ON_A_PHONE = Journey("family on their own phone", "anonymous", (PHONE,))
# The kiosk: the ward's tablet, held either way up, that the next family uses after this one.
FAMILY_ON_A_WARD_TABLET = Journey("family on a ward tablet", "tablet", (WARD_TABLET_PORTRAIT, WARD_TABLET))
OUTREACH_NURSE = Journey("outreach nurse", "outreach", (DESKTOP, PHONE))
WARD_STAFF = Journey("ward staff", "ward_staff", (DESKTOP,))
# The daily check is recorded at the bedside, on the phone the nurse carries, and read back on the ward's PC.
WARD_NURSE_AT_THE_BEDSIDE = Journey("ward nurse at the bedside", "ward_staff", (PHONE, DESKTOP))
SERVICE_MANAGER = Journey("service manager", "manager", (DESKTOP, PHONE))
OFFICE_DISPLAY = Journey("the outreach office's queue display", "display", (DESKTOP,))
# The trust's set-up (tracker/admin): its settings, sites, teams, wards and accounts, at a desk.
ADMINISTRATOR = Journey("system administrator", "admin", (DESKTOP,))

JOURNEYS = (
    FAMILY_ON_A_PHONE,
    FAMILY_ON_A_WARD_TABLET,
    OUTREACH_NURSE,
    WARD_STAFF,
    WARD_NURSE_AT_THE_BEDSIDE,
    SERVICE_MANAGER,
    OFFICE_DISPLAY,
    ADMINISTRATOR,
)

# A test that names no journey yet (one being written) runs at these: a family's phone and the
# ward tablet. Name its journey with @at.
UNPLACED = ("tablet", "phone")


def at(*journeys: Journey, only: str | None = None) -> pytest.MarkDecorator:
    """Run the test once per screen of the journeys (in order, each screen once), or only on the
    screen named `only`, which must be one of theirs."""
    names = list(dict.fromkeys(name for journey in journeys for name in journey.screen_names))
    if only is not None:
        if only not in names:
            raise ValueError(f"{only!r} is not a screen of {[journey.name for journey in journeys]}")
        names = [only]
    return pytest.mark.parametrize("viewport", names, indirect=True)
