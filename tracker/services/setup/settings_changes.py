"""Changing the trust's settings a group at a time, as the settings page does (docs/architecture.md#set-up),
through the same functions `flask tracker setup-trust` uses; and what a change would do, shown before it is
saved: what families would be told, and how many calls a shorter retention period would make due now.

Each group's change is one transaction and one version of the settings history: nothing half-saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tracker.extensions import db
from tracker.models import Settings
from tracker.services.records import audit, retention
from tracker.services.reports.working_hours import HoursProblem, save_working_hours
from tracker.services.setup import devices, hospital, run_length, trust_words
from tracker.services.setup.hospital import SetupProblem
from tracker.services.setup.settings import TrustSettings, current_settings

# What `hospital.save_settings` keeps (the rest have services of their own).
SAVED_TOGETHER = (
    "trust_name",
    "emergency_instruction",
    "outreach_phone",
    "pals_phone",
    "text_relatives_allowed",
    "sms_allowed_regions",
    "privacy_contact",
    "timezone",
    "idle_timeout_minutes",
    "mfa_for_all_staff",
)
# What families are told that is checked before it changes (HAZ-083): a fresh sign-in and a preview first.
FAMILY_FACING = ("emergency_instruction", "outreach_phone", "pals_phone")
RETENTION = tuple(retention.MINIMUMS)  # every change previewed, and a shorter one makes the purge wait (HAZ-084)
WORDS_GROUP = "words-"  # a language's own words: "words-pl"


def change_settings(actor: audit.Actor, **changes: Any) -> None:
    """Change some of what `save_settings` keeps, leaving the rest as it is. A trust not yet set up is set up by
    what families are told (its name, emergency instruction and number), as `setup-trust` would."""
    unknown = set(changes) - set(SAVED_TOGETHER)
    if unknown:
        raise TypeError(sorted(unknown))
    row = db.session.get(Settings, 1)
    if row is None and {"trust_name", "emergency_instruction", "outreach_phone"} <= set(changes):
        hospital.save_settings(actor, **changes)
        return
    row = _settings_row()
    hospital.save_settings(actor, **({name: getattr(row, name) for name in SAVED_TOGETHER} | changes))


def _settings_row() -> Settings:
    row = db.session.get(Settings, 1)
    if row is None:
        raise SetupProblem("Save what families are told (the trust's name, emergency instruction and number) first")
    return row


def _reports(actor: audit.Actor, values: dict) -> None:
    change_settings(actor, timezone=values["timezone"])
    try:
        save_working_hours(
            actor, start=values["in_hours_start"], end=values["in_hours_end"], region=values["bank_holiday_region"]
        )
    except HoursProblem as problem:
        raise SetupProblem(str(problem)) from None
    hospital.save_linked_calls_counted(actor, values["linked_calls_counted"])
    if "spc_run_length" in values:
        run_length.save_run_length(actor, int(values["spc_run_length"]))


def _retention(actor: audit.Actor, values: dict) -> None:
    try:
        retention.save_retention(actor, **{name: values[name] for name in RETENTION})
    except retention.RetentionProblem as problem:
        raise SetupProblem(str(problem)) from None


SAVERS: dict[str, Callable[[audit.Actor, dict], Any]] = {
    "contact": lambda actor, values: change_settings(actor, **values),
    "texting": lambda actor, values: change_settings(actor, **values),
    "sign-in": lambda actor, values: change_settings(actor, **values),
    "reports": _reports,
    "retention": _retention,
    "safeguarding": lambda actor, values: hospital.save_safeguarding_lead(
        actor, name=values["safeguarding_lead_name"], phone=values["safeguarding_lead_phone"]
    ),
    "text-in": lambda actor, values: hospital.save_text_in(
        actor, team_code=values["text_in_team"], paging=values["text_in_paging"]
    ),
    "devices": lambda actor, values: devices.save_address_ranges(actor, values["device_address_ranges"]),
}


def save(actor: audit.Actor, group: str, values: dict) -> None:
    """Save one group's values (as its form gives them) in the caller's transaction; the caller commits, or rolls
    back on a refusal."""
    if group.startswith(WORDS_GROUP):
        save_words(actor, group.removeprefix(WORDS_GROUP), values)
        return
    if group != "contact":
        _settings_row()
    SAVERS[group](actor, values)


def save_words(actor: audit.Actor, locale: str, words: dict[str, str]) -> None:
    """The trust's own words in one language, by key; an empty text removes one (families then see the English)."""
    for key, text in words.items():
        trust_words.save_words(actor, locale, key, text)


# --- what a change would do ----------------------------------------------------------------------------------------


def needs_preview(group: str, values: dict) -> bool:
    """Whether saving these values changes what families are told or how long calls are kept: then the change
    waits for a fresh sign-in and is shown before it is saved."""
    settings = current_settings()
    if group == "contact":
        return any(values[name] != getattr(settings, name) for name in FAMILY_FACING if name in values)
    if group == "retention":
        return any(values[name] != getattr(settings, name) for name in RETENTION)
    if group.startswith(WORDS_GROUP):
        locale = group.removeprefix(WORDS_GROUP)
        instruction = trust_words.words_for(locale).get(trust_words.EMERGENCY_INSTRUCTION, "")
        return values.get(trust_words.EMERGENCY_INSTRUCTION, instruction) != instruction
    return False


def would_be(values: dict) -> TrustSettings:
    """The trust's settings as they would be with these values (for a preview; nothing is saved)."""
    settings = current_settings()
    return replace(settings, **{name: value for name, value in values.items() if hasattr(settings, name)})


@dataclass(frozen=True)
class DueNow:
    due: int  # would be destroyed by the next purge
    held: int  # due, but kept under legal hold
    ids: frozenset[int]


@dataclass(frozen=True)
class RetentionPreview:
    now: DueNow  # with the periods in force
    then: DueNow  # with the new periods
    shortened: tuple[str, ...]  # the periods made shorter

    @property
    def more(self) -> int:
        """Calls the new periods make due now that the periods in force do not."""
        return len(self.then.ids - self.now.ids)


def due_now(settings: TrustSettings) -> DueNow:
    """The purge's dry run, counted: how many calls it would destroy today with these settings."""
    found = list(retention.candidates(settings=settings))
    return DueNow(
        due=sum(1 for c in found if not c.held),
        held=sum(1 for c in found if c.held),
        ids=frozenset(c.concern_id for c in found if not c.held),
    )


def retention_preview(values: dict) -> RetentionPreview:
    settings = current_settings()
    proposed = would_be({name: values[name] for name in RETENTION})
    shortened = tuple(name for name in RETENTION if getattr(proposed, name) < getattr(settings, name))
    return RetentionPreview(now=due_now(settings), then=due_now(proposed), shortened=shortened)
