"""Changing a site or an outreach team after it was added (docs/architecture.md#set-up): a site's name, a team's
name, population, response targets and phone numbers. Codes never change. Used by the Sites and teams pages and by
`flask tracker rename-site` and `update-team`; each change is audited (which fields, never a phone number)."""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from tracker.extensions import db
from tracker.models import Concern, Population, Site, Team, Ward
from tracker.problems import FieldProblem
from tracker.services.records import audit
from tracker.services.setup.hospital import SetupProblem, _phone
from tracker.services.setup.wards import forget_wards

NAME_LIMIT = 120
DAY_MINUTES = 24 * 60
# What update_team's changed fields are called when a page or a command says what changed.
TEAM_FIELD_WORDS = {
    "name": "name",
    "population": "population",
    "public_phone": "public number",
    "duty_phone": "duty phone",
    "ack_target_minutes": "target to acknowledge",
    "review_target_minutes": "target to review",
}


def _name(value: str, what: str) -> str:
    name = " ".join((value or "").split())
    if not name or len(name) > NAME_LIMIT:
        raise FieldProblem("name", f"{what} name must be 1–{NAME_LIMIT} characters")
    return name


def rename_site(actor: audit.Actor, site: Site, name: str) -> bool:
    """Give a site a new name (its code never changes). False when the name is the same."""
    new = _name(name, "The site's")
    if new == site.name:
        return False
    audit.record("site_renamed", actor, object_type="site", object_id=site.id, changes={"from": site.name, "to": new})
    site.name = new
    db.session.flush()
    forget_wards()
    return True


def _in_use(team: Team) -> bool:
    """Whether the team has any ward (open or closed) or any call: both depend on its population (a ward must be
    served by a team of its own population, and a call with no ward is kept as long as its team's population says)."""
    return bool(
        db.session.scalar(
            select(
                or_(exists().where(Ward.team_id == team.id), exists().where(Concern.team_id == team.id)),
            )
        )
    )


def _targets(team: Team, ack: int | None, review: int | None) -> tuple[int, int]:
    ack = team.ack_target_minutes if ack is None else ack
    review = team.review_target_minutes if review is None else review
    if not 0 < ack <= DAY_MINUTES:
        raise FieldProblem("ack_target_minutes", f"The target to acknowledge must be 1 to {DAY_MINUTES} minutes")
    if not ack <= review <= DAY_MINUTES:
        raise FieldProblem(
            "review_target_minutes",
            f"The target to review must be from the target to acknowledge ({ack}) to {DAY_MINUTES} minutes",
        )
    return ack, review


def _duty_phone(team: Team, duty_phone: str | None, clear: bool) -> str | None:
    if duty_phone is not None and clear:
        raise SetupProblem("Give the duty phone or clear it, not both")
    if duty_phone is None and not clear:
        return team.duty_phone
    try:
        return _phone(duty_phone, "The team's duty phone", mobile=True, required=False)
    except SetupProblem as problem:
        raise FieldProblem("duty_phone", str(problem)) from None


def update_team(
    actor: audit.Actor,
    team: Team,
    *,
    name: str | None = None,
    population: Population | None = None,
    public_phone: str | None = None,
    duty_phone: str | None = None,
    clear_duty_phone: bool = False,
    ack_target_minutes: int | None = None,
    review_target_minutes: int | None = None,
) -> list[str]:
    """Change what is given (None leaves a field as it is) and return the names of the fields that changed. The
    duty phone must be a mobile, as new calls text it when the team has no escalation policy; whether it can get
    texts at all is `phone_checks.duty_phone_warnings`. The population is fixed once the team has a ward or a call.
    Calls already raised keep the review target they started with."""
    wanted: dict[str, object] = {
        "name": team.name if name is None else _name(name, "The team's"),
        "population": population or team.population,
        "public_phone": team.public_phone if public_phone is None else _public_phone(public_phone),
        "duty_phone": _duty_phone(team, duty_phone, clear_duty_phone),
    }
    wanted["ack_target_minutes"], wanted["review_target_minutes"] = _targets(
        team, ack_target_minutes, review_target_minutes
    )
    changed = [field for field, value in wanted.items() if getattr(team, field) != value]
    if "population" in changed and _in_use(team):
        raise FieldProblem(
            "population",
            "A team's population is fixed once it has wards or calls: its wards' families and how long its calls are "
            "kept depend on it. Add a new team instead.",
        )
    if not changed:
        return []
    for field in changed:
        setattr(team, field, wanted[field])
    db.session.flush()
    forget_wards()  # a ward's page shows its team's number
    audit.record(
        "team_changed",
        actor,
        object_type="team",
        object_id=team.id,
        changes={
            "fields": changed,
            "population": team.population.value,
            "ack_target_minutes": team.ack_target_minutes,
            "review_target_minutes": team.review_target_minutes,
            "has_duty_phone": team.duty_phone is not None,
        },
    )
    return changed


def _public_phone(value: str) -> str:
    try:
        number = _phone(value, "The team's public phone number")
    except SetupProblem as problem:
        raise FieldProblem("public_phone", str(problem)) from None
    assert number is not None  # required: an empty one is refused
    return number
