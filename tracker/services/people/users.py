"""Staff accounts."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Role, Site, Team, User, Ward
from tracker.problems import Problem
from tracker.services.people.passwords import hash_password, one_time_password
from tracker.services.records import audit
from tracker.services.setup.hospital import SetupProblem, _phone

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


def create_user(
    actor: audit.Actor,
    *,
    email: str,
    display_name: str,
    role: Role,
    teams: list[Team] | None = None,
    ward: Ward | None = None,
    site: Site | None = None,
    mobile: str | None = None,
) -> tuple[User, str]:
    """Create an account with a random one-time password; returns the user and the password,
    which is shown once and never stored in clear."""
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise SetupProblem(f"{email!r} is not an email address")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise SetupProblem(f"There is already an account for {email}")
    teams = list(teams or [])
    if role is Role.OUTREACH and not teams:
        raise SetupProblem("An outreach clinician needs a team")
    if role is Role.WARD_STAFF and ward is None:
        raise SetupProblem("Ward staff need a ward")
    if role is Role.MANAGER and site is None:
        raise SetupProblem("A manager needs the site they manage")
    password = one_time_password()
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        role=role,
        teams=teams,
        ward_id=ward.id if ward else None,
        site_id=site.id if site else (ward.site_id if ward else (teams[0].site_id if teams else None)),
        mobile=_phone(mobile, "The mobile number", mobile=True, required=False),
        password_hash=hash_password(password),
        must_change_password=True,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user_created",
        actor,
        object_type="user",
        object_id=user.id,
        changes={
            "role": role.value,
            "team_ids": sorted(t.id for t in teams),
            "ward_id": user.ward_id,
            "site_id": user.site_id,
        },
    )
    return user, password


class MobileProblem(Problem):
    """A mobile number that cannot get alerts; the message says why in plain English."""


def set_mobile(user: User, raw: str, actor: audit.Actor) -> None:
    """Set (or, with nothing typed, remove) the mobile where a person's on-call alerts go. It must
    be a mobile in a country the trust texts, or alerts to it would fail at night."""
    from tracker.services.phone import PhoneProblem, parse_phone
    from tracker.services.setup.settings import current_settings

    raw = (raw or "").strip()
    if not raw:
        number = None
    else:
        try:
            phone = parse_phone(raw)
        except PhoneProblem:
            raise MobileProblem("Enter a mobile number, like 07700 900123") from None
        if not phone.textable(current_settings().allowed_regions):
            raise MobileProblem(
                "Enter a mobile number that can get texts (not a landline), in a country the trust texts"
            )
        number = phone.e164
    if number != user.mobile:
        user.mobile = number
        audit.record(
            "user_mobile_changed", actor, object_type="user", object_id=user.id, changes={"removed": number is None}
        )


def reset_password(actor: audit.Actor, email: str) -> tuple[User, str]:
    """A new one-time password (shown once) for a forgotten one; the person's sessions end and
    they must choose their own at the next sign-in. Their second factor is kept."""
    from tracker.services.people.sessions import end_all_sessions

    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise SetupProblem(f"No account for {email!r}")
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    audit.record("password_reset", actor, object_type="user", object_id=user.id)
    end_all_sessions(user, "password_reset", actor=actor)
    return user, password
