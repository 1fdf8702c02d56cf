"""Who may do what, and see which calls, teams and messages (docs/architecture.md#access). The only place
roles are compared: views declare a `Permission`, templates ask `can(...)`, and every reader of calls,
teams or messages takes its filter from here, so a rule changes in one place.

Outreach clinicians reach their own teams; managers their site; administrators every team's set-up
but no call; ward staff only their ward's calls, through the ward's own page."""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from tracker.models import Concern, Role, Site, Team, User, Ward


class Permission(enum.Enum):
    WORK_CALLS = "work calls"  # claim, review, close, note, text the caller
    SEE_CALLS = "see calls"  # the queue and a call's page (managers read only)
    KEEP_RECORDS = "keep records"  # exports, the audit viewer, a call's retention flags
    SEE_REPORTS = "see reports"  # the dashboard and the monthly return
    RAISE_CALLS = "raise calls"  # the staff route: a call raised by staff or taken by phone
    SEE_WARD = "see ward"  # the ward's own page of its calls
    SEE_ROTAS = "see rotas"  # rotas, escalation policies, "test the rota"
    EDIT_ROTAS = "edit rotas"
    ACCOUNT = "account"  # one's own account pages
    FLAG_SAFEGUARDING = "flag safeguarding"  # stop every text to a call's caller
    CLEAR_SAFEGUARDING = "clear safeguarding"
    MANAGE_DEVICES = "manage devices"  # enrol and revoke the office's queue displays
    SEE_DAILY_CHECK = "see the daily check"  # a ward's daily-check page (outreach read only)
    RECORD_DAILY_CHECK = "record the daily check"  # admit, discharge, record an answer, mark one seen
    # The hospital's set-up (tracker/admin). Managers' reach is their own site, and the services narrow it further.
    SEE_SETUP = "see the set-up"  # the Set-up page; the trust's settings, sites and teams read only
    EDIT_TRUST = "edit the trust's settings"
    EDIT_SITES = "edit sites and teams"
    EDIT_WARDS = "edit wards"  # managers: their own site's wards
    MANAGE_STAFF = "manage staff accounts"  # managers: ward staff and outreach of their own site
    # Reactivate, move, reset a password or an authenticator, clear sign-in counts, deactivate at once.
    ADMINISTER_STAFF = "administer staff accounts"
    REVIEW_ACCESS = "review access"  # the access review: read and record (managers: their own site)
    PRINT_POSTERS = "print posters"  # the wards' posters for families (no personal data)
    # The sign-on outage switch (docs/architecture.md#sign-on): break-glass administrators only, checked by the service.
    SWITCH_SIGN_ON = "turn local sign-in on while the trust's sign-in is down"
    SEE_METRICS = "see the service's metrics"  # /metrics: counts and ages, no personal data


ROLES: dict[Permission, frozenset[Role]] = {
    Permission.WORK_CALLS: frozenset({Role.OUTREACH}),
    Permission.SEE_CALLS: frozenset({Role.OUTREACH, Role.MANAGER}),
    Permission.KEEP_RECORDS: frozenset({Role.MANAGER}),
    Permission.SEE_REPORTS: frozenset({Role.MANAGER}),
    Permission.RAISE_CALLS: frozenset({Role.WARD_STAFF, Role.OUTREACH}),
    Permission.SEE_WARD: frozenset({Role.WARD_STAFF}),
    Permission.SEE_ROTAS: frozenset({Role.OUTREACH, Role.MANAGER, Role.ADMIN}),
    Permission.EDIT_ROTAS: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.ACCOUNT: frozenset(Role),
    Permission.FLAG_SAFEGUARDING: frozenset({Role.OUTREACH, Role.MANAGER}),
    Permission.CLEAR_SAFEGUARDING: frozenset({Role.MANAGER}),
    Permission.MANAGE_DEVICES: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.SEE_DAILY_CHECK: frozenset({Role.WARD_STAFF, Role.OUTREACH}),
    Permission.RECORD_DAILY_CHECK: frozenset({Role.WARD_STAFF}),
    Permission.SEE_SETUP: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.EDIT_TRUST: frozenset({Role.ADMIN}),
    Permission.EDIT_SITES: frozenset({Role.ADMIN}),
    Permission.EDIT_WARDS: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.MANAGE_STAFF: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.ADMINISTER_STAFF: frozenset({Role.ADMIN}),
    Permission.REVIEW_ACCESS: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.PRINT_POSTERS: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.SWITCH_SIGN_ON: frozenset({Role.ADMIN}),
    Permission.SEE_METRICS: frozenset({Role.ADMIN}),
}


# What each role is called on the staff pages.
ROLE_NAMES = {
    Role.WARD_STAFF: "Ward staff",
    Role.OUTREACH: "Outreach clinician",
    Role.MANAGER: "Manager",
    Role.ADMIN: "Administrator",
}

# Roles that need a second factor whatever the trust's setting.
MFA_ROLES = frozenset({Role.MANAGER, Role.ADMIN})

# Where each role lands after signing in (endpoint names).
HOME = {
    Role.OUTREACH: "triage.queue_page",
    Role.MANAGER: "triage.queue_page",
    Role.WARD_STAFF: "triage.ward_page",
    Role.ADMIN: "admin.index",
}


class Reach(enum.Enum):
    """How far a person's view of teams extends."""

    TEAMS = "teams"  # their own teams (outreach)
    SITE = "site"  # every team at their site (managers)
    EVERY_TEAM = "every team"  # administrators: set-up and warnings, never a call's content
    WARD = "ward"  # ward staff: their ward


REACH = {
    Role.OUTREACH: Reach.TEAMS,
    Role.MANAGER: Reach.SITE,
    Role.ADMIN: Reach.EVERY_TEAM,
    Role.WARD_STAFF: Reach.WARD,
}


def can(user: User | None, permission: Permission) -> bool:
    return user is not None and user.role in ROLES[permission]


def holders(permission: Permission) -> ColumnElement[bool]:
    """A filter on accounts: those whose role has the permission (the clinicians who work calls)."""
    return User.role.in_(ROLES[permission])


def home_endpoint(user: User) -> str:
    return HOME[user.role]


def role_name(user: User) -> str:
    return ROLE_NAMES[user.role]


def reach(user: User) -> Reach:
    return REACH[user.role]


def needs_authenticator(user: User) -> bool:
    """Whether the role needs a second factor whatever the trust's setting."""
    return user.role in MFA_ROLES


def calls(user: User) -> ColumnElement[bool]:
    """The calls this person may open from the queue: outreach their teams', managers their site's."""
    if not can(user, Permission.SEE_CALLS):
        return false()
    if reach(user) is Reach.TEAMS:
        return Concern.team_id.in_(user.team_ids or {-1})
    return Concern.site_id == (user.site_id or -1)


def teams(user: User) -> ColumnElement[bool]:
    """The teams this person may see (rotas, warnings): their own, their site's, or every one."""
    match reach(user):
        case Reach.TEAMS:
            return Team.id.in_(user.team_ids or {-1})
        case Reach.SITE:
            return Team.site_id == (user.site_id or -1)
        case Reach.EVERY_TEAM:
            return true()
    return false()


def site_team_ids(user: User) -> Select[int]:
    """A subquery of the team ids at this person's site."""
    return select(Team.id).where(Team.site_id == (user.site_id or -1))


def wards_to_raise_for(user: User) -> ColumnElement[bool]:
    """The wards a person may raise a call for: ward staff their own ward, outreach their teams' wards."""
    if reach(user) is Reach.WARD:
        return Ward.id == (user.ward_id or -1)
    if can(user, Permission.RAISE_CALLS):
        return Ward.team_id.in_(user.team_ids or {-1})
    return false()


def wards_to_see_checks(user: User) -> ColumnElement[bool]:
    """The wards whose daily check a person may see: ward staff their own ward, outreach their teams' wards."""
    if not can(user, Permission.SEE_DAILY_CHECK):
        return false()
    if reach(user) is Reach.WARD:
        return Ward.id == (user.ward_id or -1)
    return Ward.team_id.in_(user.team_ids or {-1})


def ward_to_check(user: User) -> int | None:
    """The one ward whose daily check a person may record (admit, discharge, answer, mark seen): ward staff's own."""
    return user.ward_id if can(user, Permission.RECORD_DAILY_CHECK) else None


def wards_for_posters(user: User) -> ColumnElement[bool]:
    """The wards whose posters a person may print: a manager their site's, an administrator every site's."""
    if not can(user, Permission.PRINT_POSTERS):
        return false()
    if reach(user) is Reach.EVERY_TEAM:
        return true()
    return Ward.site_id == (user.site_id or -1)


def sites(user: User) -> ColumnElement[bool]:
    """The sites whose set-up a person may see (tracker/admin): a manager's own site, an administrator's every site."""
    if not can(user, Permission.SEE_SETUP):
        return false()
    if reach(user) is Reach.EVERY_TEAM:
        return true()
    return Site.id == (user.site_id or -1)


def wards_to_set_up(user: User) -> ColumnElement[bool]:
    """The wards a person may add, change and close: a manager's own site's, an administrator's every ward."""
    if not can(user, Permission.EDIT_WARDS):
        return false()
    if reach(user) is Reach.EVERY_TEAM:
        return true()
    return Ward.site_id == (user.site_id or -1)


# The accounts a manager may create and deactivate, when wholly of their own site; the rest of their site they read.
MANAGED_BY_MANAGERS = frozenset({Role.WARD_STAFF, Role.OUTREACH})


def accounts(user: User) -> ColumnElement[bool]:
    """The staff accounts a person may see on the set-up pages: administrators every one; managers those of
    their own site (its own, its ward's or one of its teams'); nobody else any."""
    if not can(user, Permission.MANAGE_STAFF):
        return false()
    if reach(user) is Reach.EVERY_TEAM:
        return true()
    site = user.site_id or -1
    return or_(User.site_id == site, User.teams.any(Team.site_id == site), User.ward.has(Ward.site_id == site))


def account_sites(person: User) -> set[int]:
    """Every site an account belongs to: its own, its ward's and its teams'."""
    found = {person.site_id, person.ward.site_id if person.ward else None, *(team.site_id for team in person.teams)}
    return {site for site in found if site is not None}


def may_change_account(user: User, person: User) -> bool:
    """Whether this person may create and deactivate that account: administrators any; managers ward staff and
    outreach of their own site alone (someone who also works at another site is an administrator's to change)."""
    if not can(user, Permission.MANAGE_STAFF):
        return False
    if reach(user) is Reach.EVERY_TEAM:
        return True
    return person.role in MANAGED_BY_MANAGERS and user.site_id is not None and account_sites(person) == {user.site_id}


def roles_to_give(user: User) -> list[Role]:
    """The roles this person may give a new account, in the order the form lists them."""
    if not can(user, Permission.MANAGE_STAFF):
        return []
    if reach(user) is Reach.EVERY_TEAM:
        return list(Role)
    return [role for role in Role if role in MANAGED_BY_MANAGERS]


def sites_to_staff(user: User) -> ColumnElement[bool]:
    """A filter on sites: those whose teams and wards this person may give an account (a manager's own)."""
    if reach(user) is Reach.EVERY_TEAM:
        return true()
    return Site.id == (user.site_id or -1) if can(user, Permission.MANAGE_STAFF) else false()
