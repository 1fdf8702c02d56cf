"""A ward's permanent code (docs/architecture.md#set-up): the last part of its link, /w/<code>, printed on posters as
a QR code, so it is fixed once the ward exists and never reused, even after the ward closes. The same rule for the
`flask tracker add-ward` command and the Wards page; a refusal names the form's `code` field."""

from __future__ import annotations

import re

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Ward
from tracker.problems import FieldProblem

FORMAT = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
# Words the tracker uses for its own pages and placeholders that mean nothing: a poster carrying one would look like
# a staff page, a test or a mistake, and a family reading it aloud to a nurse would not be believed.
RESERVED = frozenset(
    {
        "admin",
        "api",
        "assets",
        "auth",
        "daily",
        "devices",
        "display",
        "example",
        "health",
        "healthz",
        "livez",
        "more",
        "new",
        "none",
        "null",
        "on-call",
        "privacy",
        "records",
        "reports",
        "sent",
        "sign-in",
        "static",
        "test",
        "triage",
        "undefined",
        "w",
        "webhooks",
    }
)


def new_ward_code(value: str | None) -> str:
    """The code for a new ward, or a refusal (a FieldProblem for `code`) saying why in plain English: 1–32 lower-case
    letters, digits and hyphens, beginning with a letter or digit, with no hyphen at the end and no two together (a
    poster's hyphens are easily lost or doubled), not a word the tracker keeps, and no code any ward ever had.
    Upper-case letters are taken as lower-case (the command line has always done so; the Wards page asks for
    lower-case before it gets here)."""
    code = (value or "").strip().lower()
    if not code:
        raise FieldProblem("code", "Enter the ward's code, like 7b or ngh-ward-9")
    if not FORMAT.fullmatch(code):
        raise FieldProblem(
            "code", "A ward's code must be 1–32 lower-case letters, digits or hyphens, like 7b or ngh-ward-9"
        )
    if code.endswith("-") or "--" in code:
        raise FieldProblem(
            "code", "A ward's code cannot end with a hyphen or have two together: on a poster they are easily misread"
        )
    if code in RESERVED:
        raise FieldProblem("code", f"{code} is a word the tracker keeps for its own pages: choose another code")
    if db.session.scalar(select(Ward.id).where(Ward.code == code)):
        raise FieldProblem("code", f"The code {code} is taken (ward codes are never reused, even after a ward closes)")
    return code
