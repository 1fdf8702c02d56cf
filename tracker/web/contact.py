"""What every public page must always show (docs/architecture.md#concerns-and-their-clocks): the trust's emergency instruction and a
phone number for the outreach team. The last values read are remembered in this process, so an
error page can still show them when the database cannot be reached."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import current_app, has_request_context
from flask_babel import get_locale

from tracker.services.phone import display_phone
from tracker.services.setup.settings import TrustSettings
from tracker.services.setup.trust_words import EMERGENCY_INSTRUCTION, PRIVACY_CONTACT, team_key, words_for


@dataclass(frozen=True)
class Contact:
    trust_name: str
    emergency_instruction: str
    phone: str  # as people write it
    phone_e164: str | None = None  # for tel: links; None when only a description is known
    team_name: str | None = None
    pals_phone: str | None = None
    privacy_contact: str | None = None
    # The trust's own words are shown in the page's language where its translators have written them,
    # else in English, marked as English (docs/architecture.md#languages).
    emergency_instruction_english: str = ""
    instruction_lang: str | None = None  # "en" when the instruction is shown in English on a translated page
    team_name_lang: str | None = None


_last_known: dict[str, Contact] = {}
_TRUST = ""


def for_trust(settings: TrustSettings) -> Contact:
    contact = _trust_contact(settings)
    if settings.id is not None:
        _last_known[_TRUST] = contact
    return _in_page_language(contact)


def _trust_contact(settings: TrustSettings) -> Contact:
    return Contact(
        trust_name=settings.trust_name,
        emergency_instruction=settings.emergency_instruction,
        phone=display_phone(settings.outreach_phone) or settings.outreach_phone,
        phone_e164=_e164(settings.outreach_phone),
        pals_phone=display_phone(settings.pals_phone) or settings.pals_phone,
        privacy_contact=settings.privacy_contact,
    )


def preview(settings: TrustSettings, translated_instruction: str | None = None) -> Contact:
    """What families would be shown before a ward is chosen with settings not yet saved, for the settings page's
    check: never remembered as the last known (which error pages fall back on). With `translated_instruction` (the
    trust's words in a family language; empty: none), as a page in that language shows it."""
    contact = _trust_contact(settings)
    english = replace(contact, emergency_instruction_english=contact.emergency_instruction)
    if translated_instruction is None:
        return english
    if not translated_instruction:
        return replace(english, instruction_lang="en")
    return replace(english, emergency_instruction=translated_instruction)


def for_ward(ward, settings: TrustSettings) -> Contact:
    contact = Contact(
        trust_name=settings.trust_name,
        emergency_instruction=settings.emergency_instruction,
        phone=display_phone(ward.team.public_phone) or ward.team.public_phone,
        phone_e164=_e164(ward.team.public_phone),
        team_name=ward.team.name,
        pals_phone=display_phone(settings.pals_phone) or settings.pals_phone,
        privacy_contact=settings.privacy_contact,
    )
    _last_known[ward.code] = contact
    return _in_page_language(contact, team_id=ward.team.id)


def _in_page_language(contact: Contact, team_id: int | None = None) -> Contact:
    english = replace(contact, emergency_instruction_english=contact.emergency_instruction)
    locale = str(get_locale() or "en") if has_request_context() else "en"
    if locale == "en":
        return english
    words = words_for(locale)
    instruction = words.get(EMERGENCY_INSTRUCTION)
    team_name = words.get(team_key(team_id)) if team_id is not None else None
    return replace(
        english,
        emergency_instruction=instruction or contact.emergency_instruction,
        instruction_lang=None if instruction else "en",
        team_name=team_name or contact.team_name,
        team_name_lang=None if team_name or not contact.team_name else "en",
        privacy_contact=words.get(PRIVACY_CONTACT) or contact.privacy_contact,
    )


def _e164(number: str | None) -> str | None:
    return number if number and number.startswith("+") and number[1:].isdigit() else None


def fallback(ward_code: str | None = None) -> Contact:
    """The best we know without the database."""
    if ward_code and ward_code in _last_known:
        return _last_known[ward_code]
    if _TRUST in _last_known:
        return _last_known[_TRUST]
    config = current_app.config
    phone = config["FALLBACK_PHONE"]
    return Contact(
        trust_name="NHS hospital",
        emergency_instruction=config["FALLBACK_EMERGENCY_INSTRUCTION"],
        emergency_instruction_english=config["FALLBACK_EMERGENCY_INSTRUCTION"],
        phone=display_phone(_e164(phone)) or phone,
        phone_e164=_e164(phone),
    )
