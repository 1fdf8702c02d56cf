"""Staff accounts: creating one (the `create-user` command and the Staff accounts page), a mobile for alerts, and a
forgotten password (docs/architecture.md#set-up)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Role, Site, Team, User, Ward
from tracker.problems import Problem
from tracker.services.people.passwords import OneTime, new_one_time
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.records import audit
from tracker.services.setup.hospital import SetupProblem
from tracker.services.setup.settings import current_settings

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
    one_time: OneTime | None = None,
) -> tuple[User, str]:
    """Create an account with a random one-time password; returns the user and the password,
    which is shown once and never stored in clear. `one_time` is one made before the caller's write began."""
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise SetupProblem(f"{email!r} is not an email address")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise SetupProblem(f"There is already an account for {email}")
    teams = list(teams or [])
    check_scope(role, teams, ward, site)
    one_time = one_time or new_one_time()
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        role=role,
        teams=teams if role is Role.OUTREACH else [],
        ward_id=ward.id if ward and role is Role.WARD_STAFF else None,
        site_id=home_site(role, teams, ward, site),
        mobile=typed_mobile(mobile),
        password_hash=one_time.hash,
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
            "team_ids": sorted(t.id for t in user.teams),
            "ward_id": user.ward_id,
            "site_id": user.site_id,
        },
    )
    return user, one_time.text


def check_scope(role: Role, teams: list[Team], ward: Ward | None, site: Site | None) -> None:
    """What each role needs: a clinician a team, ward staff a ward, a manager the site they manage."""
    if role is Role.OUTREACH and not teams:
        raise SetupProblem("An outreach clinician needs a team")
    if role is Role.WARD_STAFF and ward is None:
        raise SetupProblem("Ward staff need a ward")
    if role is Role.MANAGER and site is None:
        raise SetupProblem("A manager needs the site they manage")


def home_site(role: Role, teams: list[Team], ward: Ward | None, site: Site | None) -> int | None:
    """The site an account belongs to: a manager's own, ward staff's ward's, a clinician's first team's."""
    if role is Role.MANAGER and site is not None:
        return site.id
    if role is Role.WARD_STAFF and ward is not None:
        return ward.site_id
    if role is Role.OUTREACH and teams:
        return teams[0].site_id
    return site.id if site is not None and role is not Role.ADMIN else None


def typed_mobile(raw: str | None) -> str | None:
    """A mobile typed for an account, in E.164: any real phone number (one that cannot get texts is warned about,
    see `mobile_warning`, not refused); nothing typed is none."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return parse_phone(raw).e164
    except PhoneProblem:
        raise MobileProblem("Enter the mobile number like 07700 900123, or leave it empty") from None


def mobile_warning(role: Role, e164: str | None) -> str | None:
    """Why a clinician could not be alerted at this number when on call, in plain English; None when they can
    (or when the role is never paged)."""
    from tracker.services.paging.rota import opted_out

    if role is not Role.OUTREACH:
        return None
    if e164 is None:
        return "No mobile number: they cannot be alerted when they are on call until one is added."
    phone = parse_phone(e164)
    if not phone.is_mobile:
        return "This number is a landline, which cannot get texts: they cannot be alerted when they are on call."
    if not phone.textable(current_settings().allowed_regions):
        return (
            "This mobile is in a country the trust does not send texts to: they cannot be alerted when they are "
            "on call."
        )
    if opted_out({phone.e164}):
        return (
            "This number replied STOP to the tracker's texts: they cannot be alerted until they text START to "
            "the number the alerts come from."
        )
    return None


class MobileProblem(Problem):
    """A mobile number that cannot get alerts; the message says why in plain English."""


def set_mobile(user: User, raw: str, actor: audit.Actor) -> None:
    """Set (or, with nothing typed, remove) the mobile where a person's on-call alerts go. It must
    be a mobile in a country the trust texts, or alerts to it would fail at night."""
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


def reset_password(actor: audit.Actor, email: str, one_time: OneTime | None = None) -> tuple[User, str]:
    """A new one-time password (shown once) for a forgotten one; the person's sessions end and
    they must choose their own at the next sign-in. Their second factor is kept."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise SetupProblem(f"No account for {email!r}")
    return user, give_one_time_password(actor, user, one_time or new_one_time())


def give_one_time_password(actor: audit.Actor, user: User, one_time: OneTime) -> str:
    """Replace the person's password with a one-time one: every session ends, any unused invitation is cancelled,
    and the next sign-in must choose a new one. Returns the password, to be shown once."""
    from tracker.services.people.invitations import cancel_pending
    from tracker.services.people.sessions import end_all_sessions

    user.password_hash = one_time.hash
    user.must_change_password = True
    cancel_pending(user)
    audit.record("password_reset", actor, object_type="user", object_id=user.id)
    end_all_sessions(user, "password_reset", actor=actor)
    return one_time.text
