"""Setting up the trust: settings, sites, teams and wards. Each change is audited. Admin pages
(a later issue) and the `flask tracker` commands both call these."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Population, Settings, Site, Team, Ward
from tracker.problems import FieldProblem, Problem
from tracker.services import alarms
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.records import audit
from tracker.services.reports import report_facts
from tracker.services.setup import beds as beds_service
from tracker.services.setup import settings_history, ward_codes
from tracker.services.setup.settings import forget_settings
from tracker.services.setup.wards import forget_wards

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class SetupProblem(Problem):
    """A setting that cannot be saved; the message says why in plain English."""


def _code(value: str, what: str) -> str:
    code = (value or "").strip().lower()
    if not CODE.match(code):
        raise SetupProblem(f"{what} code must be 1–32 lower-case letters, digits or hyphens, like 7b or ngh-ward-9")
    return code


def _phone(value: str | None, what: str, *, mobile: bool = False, required: bool = True) -> str | None:
    if not value:
        if required:
            raise SetupProblem(f"{what} is required")
        return None
    try:
        phone = parse_phone(value)
    except PhoneProblem:
        raise SetupProblem(f"{what} is not a valid phone number: {value!r}") from None
    if mobile and not phone.is_mobile:
        raise SetupProblem(f"{what} must be a mobile number, because it receives text alerts")
    return phone.e164


def save_safeguarding_lead(actor: audit.Actor, *, name: str | None, phone: str | None) -> None:
    """Who a clinician calls about a call flagged for safeguarding: named on the call's page."""
    settings = db.session.get(Settings, 1)
    if settings is None:
        raise SetupProblem("Set up the trust first (setup-trust with its name and emergency instruction)")
    before = (settings.safeguarding_lead_name, settings.safeguarding_lead_phone)
    if name is not None:
        settings.safeguarding_lead_name = name.strip()[:120] or None
    if phone is not None:
        settings.safeguarding_lead_phone = _phone(phone, "The safeguarding lead's phone number", required=False)
    db.session.flush()
    forget_settings()
    after = (settings.safeguarding_lead_name, settings.safeguarding_lead_phone)
    changed = settings_history.differing(("safeguarding_lead_name", "safeguarding_lead_phone"), before, after)
    # Who they are is kept in the settings history, never in the audit.
    settings_history.kept("safeguarding_lead_saved", actor, changed)


def save_text_in(actor: audit.Actor, *, team_code: str | None, paging: bool | None) -> None:
    """Where texts from numbers with no call go (services/concerns/text_in.py), and whether they page."""
    settings = db.session.get(Settings, 1)
    if settings is None:
        raise SetupProblem("Set up the trust first (setup-trust with its name and emergency instruction)")
    before = (settings.text_in_team_id, settings.text_in_paging)
    if team_code is not None:
        team = db.session.scalar(select(Team).where(Team.code == team_code.strip()))
        if team is None or not team.active:
            raise SetupProblem(f"No active team has the code {team_code.strip()!r}")
        settings.text_in_team_id = team.id
    if paging is not None:
        settings.text_in_paging = paging
    db.session.flush()
    forget_settings()
    if team_code is not None:
        alarms.clear_alarm("text_in_team_not_chosen")
    after = (settings.text_in_team_id, settings.text_in_paging)
    settings_history.kept(
        "text_in_settings_saved",
        actor,
        settings_history.differing(("text_in_team_id", "text_in_paging"), before, after),
        {"text_in_team_id": settings.text_in_team_id, "text_in_paging": settings.text_in_paging},
    )


def save_linked_calls_counted(actor: audit.Actor, value: str) -> None:
    """How a linked call counts in the national figures: "own" (as its own call) or "once". A decision for the
    trust's Clinical Safety Officer and its return's owner (docs/clinical-safety/hazard-log.md)."""
    if value not in ("own", "once"):
        raise SetupProblem("Linked calls are counted 'own' (as their own calls) or 'once'")
    settings = db.session.get(Settings, 1)
    if settings is None:
        raise SetupProblem("Set up the trust first (setup-trust with its name and emergency instruction)")
    before = settings.linked_calls_counted
    settings.linked_calls_counted = value
    db.session.flush()
    forget_settings()
    settings_history.kept(
        "linked_calls_counting_saved",
        actor,
        ["linked_calls_counted"] if before != value else [],
        {"from": before, "to": value},
    )


def save_settings(
    actor: audit.Actor,
    *,
    trust_name: str,
    emergency_instruction: str,
    outreach_phone: str,
    pals_phone: str | None = None,
    text_relatives_allowed: bool = False,
    sms_allowed_regions: str = "GB",
    privacy_contact: str | None = None,
    timezone: str = "Europe/London",
    idle_timeout_minutes: int = 30,
    mfa_for_all_staff: bool = False,
) -> Settings:
    if not trust_name.strip() or not emergency_instruction.strip():
        raise SetupProblem("The trust name and the emergency instruction are required")
    regions = _regions(sms_allowed_regions)
    _check_idle_timeout_and_zone(idle_timeout_minutes, timezone)
    settings = db.session.get(Settings, 1) or Settings(id=1)
    changed = {
        "trust_name": trust_name.strip(),
        "emergency_instruction": emergency_instruction.strip(),
        "outreach_phone": _phone(outreach_phone, "The outreach phone number"),
        "pals_phone": _phone(pals_phone, "The PALS phone number", required=False),
        "text_relatives_allowed": text_relatives_allowed,
        "sms_allowed_regions": regions,
        "privacy_contact": (privacy_contact or "").strip() or None,
        "timezone": timezone,
        "idle_timeout_minutes": idle_timeout_minutes,
        "mfa_for_all_staff": mfa_for_all_staff,
    }
    fields = [name for name, value in changed.items() if getattr(settings, name, None) != value]
    for name, value in changed.items():
        setattr(settings, name, value)
    db.session.add(settings)
    db.session.flush()
    forget_settings()
    if "timezone" in fields:
        # Each call's local day, time and weekday were worked out in the old zone.
        report_facts.recompute(timezone)
    settings_history.kept(
        "settings_changed",
        actor,
        fields,
        {
            "fields": fields,
            "text_relatives_allowed": text_relatives_allowed,
            "sms_allowed_regions": regions,
            "idle_timeout_minutes": idle_timeout_minutes,
            "mfa_for_all_staff": mfa_for_all_staff,
        },
    )
    return settings


def _regions(sms_allowed_regions: str) -> str:
    """The countries whose mobiles may be texted, as sorted two-letter codes ("GB,IE")."""
    regions = ",".join(sorted({r.strip().upper() for r in sms_allowed_regions.split(",") if r.strip()}))
    if not regions or not all(re.fullmatch(r"[A-Z]{2}", r) for r in regions.split(",")):
        raise SetupProblem("Allowed SMS regions are two-letter country codes, like GB")
    return regions


def _check_idle_timeout_and_zone(idle_timeout_minutes: int, timezone: str) -> None:
    if not 5 <= idle_timeout_minutes <= 30:
        # ASVS L2 allows at most 30 minutes of inactivity; under 5 would sign clinicians out mid-task.
        raise SetupProblem("The idle timeout must be between 5 and 30 minutes")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SetupProblem(
            f"The time zone is not one the tz database knows: {timezone!r} (for example, Europe/London)"
        ) from None


def add_site(actor: audit.Actor, *, code: str, name: str) -> Site:
    code = _code(code, "The site")
    if db.session.scalar(select(Site.id).where(Site.code == code)):
        raise SetupProblem(f"There is already a site with the code {code}")
    site = Site(code=code, name=name.strip(), active=True)
    db.session.add(site)
    db.session.flush()
    audit.record("site_added", actor, object_type="site", object_id=site.id, changes={"code": code})
    return site


def add_team(
    actor: audit.Actor,
    *,
    code: str,
    site: Site,
    name: str,
    population: Population,
    public_phone: str,
    duty_phone: str | None,
    ack_target_minutes: int = 5,
    review_target_minutes: int = 30,
) -> Team:
    code = _code(code, "The team")
    if db.session.scalar(select(Team.id).where(Team.code == code)):
        raise SetupProblem(f"There is already a team with the code {code}")
    if not (0 < ack_target_minutes <= review_target_minutes <= 24 * 60):
        raise SetupProblem("Targets must be minutes, with acknowledging no later than reviewing")
    team = Team(
        code=code,
        site_id=site.id,
        name=name.strip(),
        population=population,
        public_phone=_phone(public_phone, "The team's public phone number"),
        duty_phone=_phone(duty_phone, "The team's duty phone", mobile=True, required=False),
        ack_target_minutes=ack_target_minutes,
        review_target_minutes=review_target_minutes,
    )
    db.session.add(team)
    db.session.flush()
    audit.record(
        "team_added",
        actor,
        object_type="team",
        object_id=team.id,
        changes={
            "code": code,
            "site_id": site.id,
            "population": population.value,
            "has_duty_phone": team.duty_phone is not None,
        },
    )
    return team


def add_ward(
    actor: audit.Actor,
    *,
    code: str,
    name: str,
    site: Site,
    team: Team,
    population: Population,
    beds: list[str] | None = None,
    nurse_in_charge_phone: str | None = None,
    kiosk_default: bool = False,
) -> Ward:
    """A ward's code becomes its permanent link (/w/<code>): it can never be reused, even after
    the ward is retired (services/setup/ward_codes.py)."""
    code = ward_codes.new_ward_code(code)
    if team.site_id != site.id:
        raise SetupProblem("The ward's team must belong to the ward's site")
    if team.population != population:
        raise SetupProblem(f"A {population.value} ward needs a {population.value} outreach team")
    ward = Ward(
        code=code,
        name=name.strip(),
        site_id=site.id,
        team_id=team.id,
        population=population,
        nurse_in_charge_phone=_phone(nurse_in_charge_phone, "The nurse in charge's number", required=False),
        kiosk_default=kiosk_default,
    )
    db.session.add(ward)
    db.session.flush()
    forget_wards()
    audit.record(
        "ward_added",
        actor,
        object_type="ward",
        object_id=ward.id,
        changes={
            "code": code,
            "site_id": site.id,
            "team_id": team.id,
            "population": population.value,
            "kiosk_default": kiosk_default,
        },
    )
    beds_service.set_beds(actor, ward.id, beds or [])
    return ward


def update_ward(
    actor: audit.Actor,
    ward: Ward,
    *,
    name: str | None = None,
    nurse_in_charge_phone: str | None = None,
    clear_nurse_in_charge_phone: bool = False,
    beds: list[str] | None = None,
    team: Team | None = None,
) -> list[str]:
    """Change a ward's name, its nurse in charge's number (or clear it), its beds (services/setup/beds.py: a bed
    is relabelled, added or retired, never deleted) or its outreach team. Its code never changes. Returns what
    changed, for the command to say; each change is audited."""
    if nurse_in_charge_phone is not None and clear_nurse_in_charge_phone:
        raise SetupProblem("Give the nurse in charge's number or clear it, not both")
    changed = ["team"] if team is not None and _move_to_team(actor, ward, team) else []
    if name is not None and name.strip() != ward.name:
        if not name.strip() or len(name.strip()) > 120:
            raise SetupProblem("The ward's name must be 1–120 characters")
        changes = {"from": ward.name, "to": name.strip()}
        audit.record("ward_renamed", actor, object_type="ward", object_id=ward.id, changes=changes)
        ward.name = name.strip()
        changed.append("name")
    if nurse_in_charge_phone is not None or clear_nurse_in_charge_phone:
        number = _phone(nurse_in_charge_phone, "The nurse in charge's number", required=False)
        if number != ward.nurse_in_charge_phone:
            # Only whether there is one is audited, as for a team's duty phone.
            removed = {"removed": number is None}
            audit.record("ward_nurse_in_charge_changed", actor, object_type="ward", object_id=ward.id, changes=removed)
            ward.nurse_in_charge_phone = number
            changed.append("nurse in charge's number")
    if beds is not None and beds_service.clean_labels(beds) != beds_service.labels_in_use(ward.id):
        beds_service.set_beds(actor, ward.id, beds)
        changed.append("beds")
    db.session.flush()
    forget_wards()
    return changed


def _move_to_team(actor: audit.Actor, ward: Ward, team: Team) -> bool:
    """New calls from the ward go to `team` (its calls already raised stay with theirs). It must be an active team
    of the ward's site, for the ward's population."""
    if team.id == ward.team_id:
        return False
    if team.site_id != ward.site_id or not team.active:
        raise FieldProblem("team", "The ward's team must be an active team of the ward's site")
    if team.population != ward.population:
        raise FieldProblem("team", f"A {ward.population.value} ward needs a {ward.population.value} outreach team")
    changes = {"from": ward.team_id, "to": team.id}
    audit.record("ward_team_changed", actor, object_type="ward", object_id=ward.id, changes=changes)
    ward.team = team
    return True


def retire_ward(actor: audit.Actor, ward: Ward, successor: Ward | None = None) -> Ward:
    """Close a ward. Its link keeps working, explaining that it has closed and offering the
    other wards (and the successor, if any)."""
    if ward.is_retired:
        raise SetupProblem(f"Ward {ward.code} is already retired")
    if successor is not None and (successor.id == ward.id or successor.is_retired):
        raise SetupProblem("The successor must be another ward that is still open")
    ward.retired_at = utcnow()
    ward.successor_id = successor.id if successor else None
    forget_wards()
    audit.record(
        "ward_retired",
        actor,
        object_type="ward",
        object_id=ward.id,
        changes={"code": ward.code, "successor_id": ward.successor_id},
    )
    return ward


def site_by_code(code: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.code == (code or "").lower()))
    if site is None:
        raise SetupProblem(f"No site has the code {code!r}")
    return site


def team_by_code(code: str) -> Team:
    team = db.session.scalar(select(Team).where(Team.code == (code or "").lower()))
    if team is None:
        raise SetupProblem(f"No team has the code {code!r}")
    return team


def ward_by_code(code: str) -> Ward:
    ward = db.session.scalar(select(Ward).where(Ward.code == (code or "").lower()))
    if ward is None:
        raise SetupProblem(f"No ward has the code {code!r}")
    return ward
