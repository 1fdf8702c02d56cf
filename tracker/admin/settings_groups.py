"""The trust settings page's groups (docs/architecture.md#set-up): each group's title, what it is for, its settings'
labels in order, and each value in words, for the page, its read-only view and the settings history alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracker import numbers
from tracker.services.languages import by_code
from tracker.services.phone import display_phone
from tracker.services.reports.working_hours import REGION_NAMES
from tracker.services.setup import trust_words


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    about: str
    labels: dict[str, str] = field(default_factory=dict)  # setting name -> label, in the page's order
    checked: bool = False  # a change is shown first, after a fresh sign-in

    @property
    def first_field(self) -> str:
        return next(iter(self.labels))


GROUPS = (
    Group(
        "contact",
        "What families are told",
        "Shown on every family page. A change to the emergency instruction or a phone number is shown to you as "
        "families will see it, after you sign in again, before it is saved.",
        {
            "trust_name": "Trust name",
            "emergency_instruction": "Emergency instruction",
            "outreach_phone": "Outreach team's number, before a ward is chosen",
            "pals_phone": "PALS number",
            "privacy_contact": "Privacy contact",
        },
        checked=True,
    ),
    Group(
        "texting",
        "Texting families",
        "Your information governance decisions about texting callers.",
        {
            "text_relatives_allowed": "Relatives and carers may be texted",
            "sms_allowed_regions": "Countries whose mobiles may be texted",
        },
    ),
    Group(
        "sign-in",
        "Staff sign-in",
        "How long a staff session lasts without use, and who needs an authenticator code.",
        {
            "idle_timeout_minutes": "Signed out after this many minutes without use",
            "mfa_for_all_staff": "Every staff role needs an authenticator code",
        },
    ),
    Group(
        "reports",
        "Reports",
        "The time zone, what counts as in hours, how linked calls count in the national figures, and how the "
        "improvement charts find a shift or a trend.",
        {
            "timezone": "Time zone",
            "in_hours_start": "In hours begins (weekdays)",
            "in_hours_end": "In hours ends (weekdays)",
            "bank_holiday_region": "Bank holidays (out of hours) of",
            "linked_calls_counted": "A call linked to another about the same patient counts",
            "spc_run_length": "Months in a row that make a shift or a trend on the improvement charts",
        },
    ),
    Group(
        "retention",
        "How long calls are kept",
        "The Records Management Code's periods are minimums: you may keep calls longer, never shorter. A change is "
        "shown to you first, with how many calls it would make due for destruction now, after you sign in again. "
        "After a period is shortened, the purge removes nothing for 14 days unless it is told the change is meant.",
        {
            "retention_adult_years": "An adult's call, years after it ended",
            "retention_child_until_age": "A child's call, until this birthday",
            "retention_complaint_years": "A call linked to a complaint, years",
            "retention_serious_incident_years": "A call linked to a serious incident, years",
        },
        checked=True,
    ),
    Group(
        "safeguarding",
        "Safeguarding lead",
        "Named on a call flagged for safeguarding, for the clinician to call.",
        {"safeguarding_lead_name": "Name", "safeguarding_lead_phone": "Phone number"},
    ),
    Group(
        "text-in",
        "Texts from numbers with no call",
        "A text to the tracker's number from someone with no call becomes a text-in call on one team's queue.",
        {"text_in_team": "The team whose queue takes them", "text_in_paging": "They page the on-call clinicians"},
    ),
    Group(
        "devices",
        "Network for queue displays and ward tablets",
        "The network address ranges an enrolled display or ward tablet must be on.",
        {"device_address_ranges": "Address ranges"},
    ),
)
BY_KEY = {group.key: group for group in GROUPS}
RUN_LENGTHS = {
    "7": "7 months (NHS England's Making Data Count; the default)",
    "6": "6 months (allowed by NHS England's SPC tool: flags a shift or trend a month sooner, with more false alarms)",
}
LINKED_CALLS = {"own": "As a call of its own (the default)", "once": "Only through the call it is linked to"}
# Settings chosen from a list: each value's words.
CHOICE_WORDS = {
    "bank_holiday_region": REGION_NAMES,
    "linked_calls_counted": LINKED_CALLS,
    "spc_run_length": RUN_LENGTHS,
}
NOT_SET = "Not set"
# Fields answered with radios: the error summary links to the first.
RADIOS = {
    "text_relatives_allowed",
    "mfa_for_all_staff",
    "bank_holiday_region",
    "linked_calls_counted",
    "spc_run_length",
    "text_in_paging",
}
STORED_AS = {"text_in_team": "text_in_team_id"}  # a label's name -> the setting's, where they differ


def in_words(name: str, value: Any, teams: Mapping[int, str]) -> str:
    """A setting's value as the page says it (`value` as the settings history keeps it)."""
    if value is None or value == "":
        if name == "text_in_team":
            return "Not chosen: the first adult team takes them, with an alarm"
        if name == "device_address_ranges":
            return "None set"
        return NOT_SET
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name.endswith("_phone"):
        return display_phone(value) or value
    if name == "retention_child_until_age":
        return f"Until their {value}th birthday"
    if name.startswith("retention_"):
        return f"{value} years"
    if name == "idle_timeout_minutes":
        return f"{value} minutes"
    if name in CHOICE_WORDS:
        return CHOICE_WORDS[name].get(str(value), str(value))
    if name == "text_in_team":
        return teams.get(value, f"a team no longer listed ({value})")
    return str(value)


def summary(group: Group, values: Mapping[str, Any], teams: Mapping[int, str]) -> list[tuple[str, str]]:
    """The group's settings as label and words."""
    return [
        (label, in_words(name, values.get(STORED_AS.get(name, name)), teams)) for name, label in group.labels.items()
    ]


def label_of(name: str) -> str:
    """A setting's label, wherever it is ("words:pl" for the trust's own words in Polish)."""
    if name.startswith("words:"):
        language = by_code(name.removeprefix("words:"))
        return f"The trust's own words in {language.english if language else name.removeprefix('words:')}"
    name = {stored: shown for shown, stored in STORED_AS.items()}.get(name, name)
    for group in GROUPS:
        if name in group.labels:
            return group.labels[name]
    return {"languages_enabled": "Families' languages", "kiosk_default_until": "Old kiosk setting ends"}.get(
        name, name.replace("_", " ")
    )


def error_links(form: str, problems: Mapping[str, str]) -> list[dict[str, str]]:
    """The error summary's list: each problem, linking to its field (the first radio of a choice)."""
    return [
        {"text": message, "href": f"#{form}-{name}{'-1' if name in RADIOS else ''}"}
        for name, message in problems.items()
    ]


def words_label(key: str, team_names: Mapping[int, str]) -> str:
    """The label of one of the trust's own words (its key as trust_words stores it), for the check page and the
    history alike; a team since removed is "A team's name"."""
    if key == trust_words.EMERGENCY_INSTRUCTION:
        return "Emergency instruction"
    if key == trust_words.PRIVACY_CONTACT:
        return "Privacy contact"
    team_id = numbers.database_id(key.removeprefix(trust_words.TEAM_NAME))
    name = team_names.get(team_id) if team_id is not None else None
    return f"Team name: {name}" if name else "A team's name"
