"""The access review (docs/architecture.md#set-up): every staff account in a person's reach with its role, where it
works, when it last signed in, its authenticator and how it signs in, with the accounts nobody has used for the
trust's number of days flagged; as a page and as CSV. Managers see their own site's accounts, administrators a
site's or the whole trust's (`accounts_at_site`). That each month's review was done is recorded in
services/people/access_reviews.py."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from tracker.clock import local
from tracker.extensions import db
from tracker.models import Site, Team, User, Ward, user_team
from tracker.services import scope
from tracker.services.people.sessions import needs_mfa
from tracker.services.records.spreadsheet import neutralise

UTF8_BOM = "\ufeff"  # so Excel reads the file as UTF-8 (names with accents stay right)
WHOLE_TRUST = "_trust"  # the site choice for the whole trust: no site's code can start with "_"

# How an account signs in, in words (later, single sign-on too).
SIGN_IN_METHODS = {False: "Password", True: "Password and authenticator"}


def accounts_at_site(site_id: int) -> ColumnElement[bool]:
    """A filter on accounts: those of a site, by the site they are given, their ward's site or a team of theirs there
    (an outreach clinician covering two sites belongs to both). Administrators belong to no site."""
    return or_(
        User.site_id == site_id,
        User.ward_id.in_(select(Ward.id).where(Ward.site_id == site_id)),
        User.id.in_(
            select(user_team.c.user_id).join(Team, Team.id == user_team.c.team_id).where(Team.site_id == site_id)
        ),
    )


@dataclass(frozen=True)
class ReviewScope:
    """What one review covers: a site, or (site_id None) the whole trust."""

    site_id: int | None
    code: str  # the site's code, or WHOLE_TRUST
    name: str

    def accounts(self) -> ColumnElement[bool]:
        return true() if self.site_id is None else accounts_at_site(self.site_id)


def scope_for(user: User, chosen: str | None) -> ReviewScope | None:
    """The scope a person asked for (a site's code, WHOLE_TRUST, or nothing for their usual one), or None when it is
    beyond their reach: a manager reviews only their own site; an administrator any site or the whole trust."""
    chosen = (chosen or "").strip().lower()
    if not scope.can(user, scope.Permission.REVIEW_ACCESS):
        return None
    if scope.reach(user) is not scope.Reach.EVERY_TEAM:
        site = user.site
        if site is None or chosen not in ("", site.code):
            return None
        return ReviewScope(site.id, site.code, site.name)
    if chosen in ("", WHOLE_TRUST):
        return ReviewScope(None, WHOLE_TRUST, "The whole trust")
    found = db.session.scalar(select(Site).where(Site.code == chosen[:32]))
    return ReviewScope(found.id, found.code, found.name) if found is not None else None


def scopes_offered(user: User) -> list[ReviewScope]:
    """The scopes a person may choose between: an administrator's whole trust and each site; a manager's own site."""
    if scope.reach(user) is not scope.Reach.EVERY_TEAM:
        own = scope_for(user, None)
        return [own] if own else []
    sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    return [ReviewScope(None, WHOLE_TRUST, "The whole trust")] + [ReviewScope(s.id, s.code, s.name) for s in sites]


@dataclass(frozen=True)
class AccountRow:
    """One account as the review shows it."""

    id: int
    name: str
    email: str
    role: str
    sites: str
    teams: str
    ward: str
    last_sign_in_at: datetime | None
    created_at: datetime
    active: bool
    unused: bool  # active, and no sign-in (or, never signed in, no creation) within the trust's number of days
    authenticator_set_up: bool
    authenticator_needed: bool  # the sign-in asks for a code (the role, or the trust's setting for every role)
    authenticator_reset: bool  # reset: a new one is set up at the next sign-in

    @property
    def signs_in_with(self) -> str:
        return SIGN_IN_METHODS[self.authenticator_needed]

    @property
    def authenticator(self) -> str:
        if self.authenticator_set_up:
            return "Set up" + ("" if self.authenticator_needed else " (not asked for at sign-in)")
        if self.authenticator_reset:
            return "Reset: a new one is set up at the next sign-in"
        if self.authenticator_needed:
            return "Not set up: it is set up at the next sign-in"
        return "Not set up (not needed)"

    @property
    def where(self) -> str:
        """Where the account works, in words: its ward, teams or site (administrators: the whole trust)."""
        if self.ward:
            return f"{self.ward}, {self.sites}"
        if self.teams:
            return self.teams
        return self.sites or "The whole trust"


def unused_since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def is_unused(user: User, now: datetime, days: int) -> bool:
    """An active account with no sign-in for `days` days; never signed in, one created more than `days` days ago (a
    new joiner who has not signed in yet is not flagged)."""
    last = user.last_sign_in_at or user.created_at
    return user.active and last < unused_since(now, days)


def _row(user: User, now: datetime, days: int) -> AccountRow:
    sites = {site.name for site in (user.site, user.ward.site if user.ward else None) if site is not None}
    sites |= {team.site.name for team in user.teams}
    return AccountRow(
        id=user.id,
        name=user.display_name,
        email=user.email,
        role=scope.role_name(user),
        sites=", ".join(sorted(sites)),
        teams=", ".join(team.name for team in user.teams),
        ward=user.ward.name if user.ward else "",
        last_sign_in_at=user.last_sign_in_at,
        created_at=user.created_at,
        active=user.active,
        unused=is_unused(user, now, days),
        authenticator_set_up=bool(user.totp_secret),
        authenticator_needed=needs_mfa(user),
        authenticator_reset=user.must_enrol_mfa and not user.totp_secret,
    )


def accounts(review: ReviewScope, now: datetime, days: int) -> list[AccountRow]:
    """Every account the scope covers, active or not, by name."""
    users = db.session.scalars(
        select(User)
        .where(review.accounts())
        .options(
            selectinload(User.teams).joinedload(Team.site),
            joinedload(User.ward).joinedload(Ward.site),
            joinedload(User.site),
        )
        .order_by(func.lower(User.display_name), User.email)
    ).unique()
    return [_row(user, now, days) for user in users]


@dataclass(frozen=True)
class Summary:
    accounts: int
    active: int
    unused: int
    no_authenticator: int  # active accounts whose sign-in needs a code they have not set up

    @classmethod
    def of(cls, rows: list[AccountRow]) -> Summary:
        active = [row for row in rows if row.active]
        return cls(
            len(rows),
            len(active),
            sum(row.unused for row in active),
            sum(row.authenticator_needed and not row.authenticator_set_up for row in active),
        )


CSV_HEADER = [
    "Name",
    "Email",
    "Role",
    "Site",
    "Teams",
    "Ward",
    "Active",
    "Last sign-in",
    "Unused",
    "Authenticator set up",
    "Authenticator needed",
    "Signs in with",
    "Account created",
]


def csv_text(rows: list[AccountRow], *, tz: str, days: int) -> str:
    """The review as CSV, every cell passed through the spreadsheet rule (a name typed as a formula stays text).
    Times are the trust's local time; "Unused" says whether the account is flagged."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_HEADER[:8], f"Unused for {days} days or more", *CSV_HEADER[9:]])

    def when(moment: datetime | None) -> str:
        return local(moment, tz).strftime("%Y-%m-%d %H:%M") if moment else "Never"

    for row in rows:
        cells = [
            row.name,
            row.email,
            row.role,
            row.sites,
            row.teams,
            row.ward,
            "Yes" if row.active else "No",
            when(row.last_sign_in_at),
            "Yes" if row.unused else "No",
            "Yes" if row.authenticator_set_up else "No",
            "Yes" if row.authenticator_needed else "No",
            row.signs_in_with,
            when(row.created_at),
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return UTF8_BOM + buffer.getvalue()
