"""A demonstration trust for development and evaluation: two sites, eight wards, adult and
paediatric outreach teams, one user per role. Refused in production (config ALLOW_DEMO_SEED).

Phone numbers: landlines are from Ofcom's drama range (020 7946 0xxx). Ofcom's drama mobiles
(07700 900xxx) are not valid numbers to `phonenumbers`, so the duty mobiles below are ordinary-
looking numbers; the demo only ever sends through the console backend."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import AlertChannel, Population, Role, Site, Team, Tier, User, Ward
from tracker.services.paging.policy import DEFAULT_STEPS, StepSpec, save_policy
from tracker.services.paging.rota import add_pattern
from tracker.services.people.users import create_user
from tracker.services.records import audit
from tracker.services.setup.hospital import SetupProblem, add_site, add_team, add_ward, save_settings

DEMO_TRUST = "Demo Hospitals NHS Trust"


class _Scope(TypedDict, total=False):
    """What create_user is given besides the name and role."""

    teams: list[Team]
    ward: Ward
    site: Site
    mobile: str


def demo_exists() -> bool:
    return db.session.scalar(select(Site.id).limit(1)) is not None


def seed_demo(actor: audit.Actor) -> list[tuple[str, str, str]]:
    """Create the demo trust. Returns (email, role, one-time password) for each demo user."""
    if not current_app.config["ALLOW_DEMO_SEED"]:
        raise SetupProblem("The demo trust cannot be created in production")
    if demo_exists():
        raise SetupProblem("This database already has sites; the demo trust is only for an empty one")
    save_settings(
        actor,
        trust_name=DEMO_TRUST,
        emergency_instruction="If the patient is suddenly very unwell, press the emergency buzzer by the bed or "
        "ask any nurse now. From a hospital phone, call 2222.",
        outreach_phone="020 7946 0100",
        pals_phone="020 7946 0199",
        text_relatives_allowed=True,
        sms_allowed_regions="GB",
        privacy_contact="the Data Protection Officer, dpo@demo-hospitals.invalid",
    )
    north = add_site(actor, code="ngh", name="Northgate General Hospital")
    river = add_site(actor, code="rch", name="Riverside Community Hospital")
    ngh_adult = add_team(
        actor,
        code="ngh-ccot",
        site=north,
        name="Critical Care Outreach Team",
        population=Population.ADULT,
        public_phone="020 7946 0101",
        duty_phone="07400 900101",
    )
    ngh_child = add_team(
        actor,
        code="ngh-pccot",
        site=north,
        name="Children's Outreach Team",
        population=Population.PAEDIATRIC,
        public_phone="020 7946 0102",
        duty_phone="07400 900102",
    )
    rch_adult = add_team(
        actor,
        code="rch-ccot",
        site=river,
        name="Critical Care Outreach Team",
        population=Population.ADULT,
        public_phone="020 7946 0201",
        duty_phone="07400 900201",
    )
    wards = [
        (
            "ngh-7b",
            "Ward 7B (Respiratory)",
            north,
            ngh_adult,
            Population.ADULT,
            ["Bay 1", "Bay 2", "Bay 3", "Side room 1", "Side room 2"],
            False,
        ),
        ("ngh-9", "Ward 9 (Surgical)", north, ngh_adult, Population.ADULT, [], False),
        ("ngh-amu", "Acute Medical Unit", north, ngh_adult, Population.ADULT, [], True),
        (
            "ngh-rainbow",
            "Rainbow Ward (Children)",
            north,
            ngh_child,
            Population.PAEDIATRIC,
            ["Bed 1", "Bed 2", "Bed 3", "Bed 4"],
            False,
        ),
        ("ngh-starlight", "Starlight Ward (Children's Surgery)", north, ngh_child, Population.PAEDIATRIC, [], False),
        ("rch-oak", "Oak Ward", river, rch_adult, Population.ADULT, [], False),
        ("rch-willow", "Willow Ward", river, rch_adult, Population.ADULT, [], False),
        ("rch-elm", "Elm Ward (Stroke)", river, rch_adult, Population.ADULT, [], True),
    ]
    created = {}
    for code, name, site, team, population, beds, kiosk in wards:
        created[code] = add_ward(
            actor,
            code=code,
            name=name,
            site=site,
            team=team,
            population=population,
            beds=beds,
            nurse_in_charge_phone="020 7946 0300",
            kiosk_default=kiosk,
        )
    people: list[tuple[str, str, Role, _Scope]] = [
        ("admin@demo-hospitals.invalid", "Demo Administrator", Role.ADMIN, {}),
        ("manager@demo-hospitals.invalid", "Demo Outreach Lead", Role.MANAGER, {"site": north}),
        (
            "outreach@demo-hospitals.invalid",
            "Demo Outreach Nurse",
            Role.OUTREACH,
            {"teams": [ngh_adult], "mobile": "07400 900111"},
        ),
        (
            "charge.outreach@demo-hospitals.invalid",
            "Demo Outreach Charge Nurse",
            Role.OUTREACH,
            {"teams": [ngh_adult], "mobile": "07400 900113"},
        ),
        (
            "children.outreach@demo-hospitals.invalid",
            "Demo Children's Outreach Nurse",
            Role.OUTREACH,
            {"teams": [ngh_child], "mobile": "07400 900112"},
        ),
        ("ward7b@demo-hospitals.invalid", "Demo Ward 7B Nurse", Role.WARD_STAFF, {"ward": created["ngh-7b"]}),
    ]
    accounts = []
    users: dict[str, User] = {}
    for email, name, role, scope in people:
        user, password = create_user(actor, email=email, display_name=name, role=role, **scope)
        accounts.append((user.email, role.value, password))
        users[email.split("@")[0]] = user
    _seed_on_call(actor, ngh_adult, ngh_child, users)
    audit.record("demo_seeded", actor, changes={"sites": 2, "wards": len(wards), "users": len(people)})
    return accounts


def _seed_on_call(actor: audit.Actor, adults: Team, children: Team, users: dict[str, User]) -> None:
    """Rotas and escalation policies for Northgate's two teams: the nurse and the charge nurse
    take turns as primary and secondary on 12-hour days and nights, the charge nurse leads; the
    hospital-at-night team is the voice fallback. Riverside has no policy, to show the simplest
    set-up: its duty phone is texted until someone claims the call."""
    nurse, charge, child = users["outreach"], users["charge.outreach"], users["children.outreach"]
    start = date(2026, 1, 1)
    add_pattern(
        actor,
        adults,
        tier=Tier.PRIMARY,
        name="Primary, days and nights",
        start_local="08:00",
        shift_hours=12,
        anchor_date=start,
        people=[nurse.id, charge.id],
    )
    add_pattern(
        actor,
        adults,
        tier=Tier.SECONDARY,
        name="Secondary, days and nights",
        start_local="08:00",
        shift_hours=12,
        anchor_date=start,
        people=[charge.id, nurse.id],
    )
    add_pattern(
        actor,
        adults,
        tier=Tier.LEAD,
        name="Lead",
        start_local="08:00",
        shift_hours=24,
        anchor_date=start,
        people=[charge.id],
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
    add_pattern(
        actor,
        children,
        tier=Tier.PRIMARY,
        name="Children's outreach",
        start_local="08:00",
        shift_hours=24,
        anchor_date=start,
        people=[child.id],
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
