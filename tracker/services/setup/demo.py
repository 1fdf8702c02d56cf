"""A demonstration trust for development and evaluation: two sites, eight wards, adult and
paediatric outreach teams, one user per role. Refused in production (config ALLOW_DEMO_SEED).

Phone numbers: landlines are from Ofcom's drama range (020 7946 0xxx). Ofcom's drama mobiles
(07700 900xxx) are not valid numbers to `phonenumbers`, so the duty mobiles below are ordinary-
looking numbers; the demo only ever sends through the console backend."""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import AlertChannel, Population, Role, Site, Team, Tier, User, Ward
from tracker.services.paging.policy import DEFAULT_STEPS, StepSpec, save_policy
from tracker.services.paging.rota import add_pattern
from tracker.services.people.users import create_user
from tracker.services.records import audit
from tracker.services.setup.demo_words import seed_demo_words
from tracker.services.setup.hospital import SetupProblem, add_site, add_team, add_ward, save_settings, save_text_in

DEMO_TRUST = "Demo Hospitals NHS Trust"


class _Scope(TypedDict, total=False):
    """What create_user is given besides the name and role."""

    teams: list[Team]
    ward: Ward
    site: Site
    mobile: str


def demo_exists() -> bool:
    return db.session.scalar(select(Site.id).limit(1)) is not None


# The trust's settings, as `save_settings` takes them.
DEMO_SETTINGS: dict[str, Any] = {
    "trust_name": DEMO_TRUST,
    "emergency_instruction": "If the patient is suddenly very unwell, press the emergency buzzer by the bed or "
    "ask any nurse now. From a hospital phone, call 2222.",
    "outreach_phone": "020 7946 0100",
    "pals_phone": "020 7946 0199",
    "text_relatives_allowed": True,
    "sms_allowed_regions": "GB",
    "privacy_contact": "the Data Protection Officer, dpo@demo-hospitals.invalid",
}
DEMO_SITES = [("ngh", "Northgate General Hospital"), ("rch", "Riverside Community Hospital")]
# code, site, name, population, public phone, duty mobile
DEMO_TEAMS = [
    ("ngh-ccot", "ngh", "Critical Care Outreach Team", Population.ADULT, "020 7946 0101", "07400 900101"),
    ("ngh-pccot", "ngh", "Children's Outreach Team", Population.PAEDIATRIC, "020 7946 0102", "07400 900102"),
    ("rch-ccot", "rch", "Critical Care Outreach Team", Population.ADULT, "020 7946 0201", "07400 900201"),
]
# code, name, team, beds; each ward is at its team's site and shares its population
DEMO_WARDS = [
    ("ngh-7b", "Ward 7B (Respiratory)", "ngh-ccot", ["Bay 1", "Bay 2", "Bay 3", "Side room 1", "Side room 2"]),
    ("ngh-9", "Ward 9 (Surgical)", "ngh-ccot", []),
    ("ngh-amu", "Acute Medical Unit", "ngh-ccot", []),
    ("ngh-rainbow", "Rainbow Ward (Children)", "ngh-pccot", ["Bed 1", "Bed 2", "Bed 3", "Bed 4"]),
    ("ngh-starlight", "Starlight Ward (Children's Surgery)", "ngh-pccot", []),
    ("rch-oak", "Oak Ward", "rch-ccot", []),
    ("rch-willow", "Willow Ward", "rch-ccot", []),
    ("rch-elm", "Elm Ward (Stroke)", "rch-ccot", []),
]
# email (before @demo-hospitals.invalid), name, role, and where they work: a site, teams or a ward; a mobile
DEMO_PEOPLE: list[tuple[str, str, Role, dict[str, str | list[str]]]] = [
    ("admin", "Demo Administrator", Role.ADMIN, {}),
    ("manager", "Demo Outreach Lead", Role.MANAGER, {"site": "ngh"}),
    ("outreach", "Demo Outreach Nurse", Role.OUTREACH, {"teams": ["ngh-ccot"], "mobile": "07400 900111"}),
    (
        "charge.outreach",
        "Demo Outreach Charge Nurse",
        Role.OUTREACH,
        {"teams": ["ngh-ccot"], "mobile": "07400 900113"},
    ),
    (
        "children.outreach",
        "Demo Children's Outreach Nurse",
        Role.OUTREACH,
        {"teams": ["ngh-pccot"], "mobile": "07400 900112"},
    ),
    ("ward7b", "Demo Ward 7B Nurse", Role.WARD_STAFF, {"ward": "ngh-7b"}),
]


def seed_demo(actor: audit.Actor) -> list[tuple[str, str, str]]:
    """Create the demo trust. Returns (email, role, one-time password) for each demo user."""
    if not current_app.config["ALLOW_DEMO_SEED"]:
        raise SetupProblem("The demo trust cannot be created in production")
    if demo_exists():
        raise SetupProblem("This database already has sites; the demo trust is only for an empty one")
    save_settings(actor, **DEMO_SETTINGS)
    sites = {code: add_site(actor, code=code, name=name) for code, name in DEMO_SITES}
    teams = {
        code: add_team(
            actor,
            code=code,
            site=sites[site],
            name=name,
            population=population,
            public_phone=public_phone,
            duty_phone=duty_phone,
        )
        for code, site, name, population, public_phone, duty_phone in DEMO_TEAMS
    }
    wards = {
        code: add_ward(
            actor,
            code=code,
            name=name,
            site=teams[team].site,
            team=teams[team],
            population=teams[team].population,
            beds=beds,
            nurse_in_charge_phone="020 7946 0300",
        )
        for code, name, team, beds in DEMO_WARDS
    }
    accounts, users = _seed_people(actor, sites, teams, wards)
    _seed_on_call(actor, teams["ngh-ccot"], teams["ngh-pccot"], users)
    save_text_in(actor, team_code="ngh-ccot", paging=False)  # texts from numbers with no call: its adult team
    seed_demo_words(actor, list(teams.values()))
    audit.record("demo_seeded", actor, changes={"sites": len(sites), "wards": len(wards), "users": len(users)})
    return accounts


def _seed_people(
    actor: audit.Actor, sites: dict[str, Site], teams: dict[str, Team], wards: dict[str, Ward]
) -> tuple[list[tuple[str, str, str]], dict[str, User]]:
    accounts, users = [], {}
    for handle, name, role, where in DEMO_PEOPLE:
        scope: _Scope = {}
        if isinstance(site := where.get("site"), str):
            scope["site"] = sites[site]
        if isinstance(ward := where.get("ward"), str):
            scope["ward"] = wards[ward]
        if isinstance(team_codes := where.get("teams"), list):
            scope["teams"] = [teams[code] for code in team_codes]
        if isinstance(mobile := where.get("mobile"), str):
            scope["mobile"] = mobile
        email = f"{handle}@demo-hospitals.invalid"
        user, password = create_user(actor, email=email, display_name=name, role=role, **scope)
        accounts.append((user.email, role.value, password))
        users[handle] = user
    return accounts, users


def _seed_on_call(actor: audit.Actor, adults: Team, children: Team, users: dict[str, User]) -> None:
    """Rotas and escalation policies for Northgate's two teams: the nurse and the charge nurse
    take turns as primary and secondary on 12-hour days and nights, the charge nurse leads; the
    hospital-at-night team is the voice fallback. Riverside has no policy, to show the simplest
    set-up: its duty phone is texted until someone claims the call."""
    nurse, charge, child = users["outreach"], users["charge.outreach"], users["children.outreach"]
    start = date(2026, 1, 1)
    for team, tier, name, hours, people in (
        (adults, Tier.PRIMARY, "Primary, days and nights", 12, [nurse.id, charge.id]),
        (adults, Tier.SECONDARY, "Secondary, days and nights", 12, [charge.id, nurse.id]),
        (adults, Tier.LEAD, "Lead", 24, [charge.id]),
        (children, Tier.PRIMARY, "Children's outreach", 24, [child.id]),
    ):
        add_pattern(
            actor, team, tier=tier, name=name, start_local="08:00", shift_hours=hours, anchor_date=start, people=people
        )
    save_policy(
        actor,
        adults,
        steps=DEFAULT_STEPS,
        repeat_times=1,
        fallback_name="Hospital at night",
        fallback_number="020 7946 0150",
        fallback_channel=AlertChannel.VOICE,
        fallback_wait_minutes=10,
    )
    save_policy(
        actor,
        children,
        steps=[StepSpec((Tier.PRIMARY,), AlertChannel.SMS, 5)],
        repeat_times=2,
        fallback_name="Paediatric registrar on call",
        fallback_number="020 7946 0160",
        fallback_channel=AlertChannel.VOICE,
        fallback_wait_minutes=10,
    )
