"""What every public page must always show (docs/architecture.md#concerns-and-their-clocks): the trust's emergency instruction and a
phone number for the outreach team. The last values read are remembered in this process, so an
error page can still show them when the database cannot be reached."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from tracker.services.phone import display_phone
from tracker.services.setup.settings import TrustSettings


@dataclass(frozen=True)
class Contact:
    trust_name: str
    emergency_instruction: str
    phone: str  # as people write it
    phone_e164: str | None = None  # for tel: links; None when only a description is known
    team_name: str | None = None
    pals_phone: str | None = None
    privacy_contact: str | None = None


_last_known: dict[str, Contact] = {}
_TRUST = ""


def for_trust(settings: TrustSettings) -> Contact:
    contact = Contact(
        trust_name=settings.trust_name,
        emergency_instruction=settings.emergency_instruction,
        phone=display_phone(settings.outreach_phone) or settings.outreach_phone,
        phone_e164=_e164(settings.outreach_phone),
        pals_phone=display_phone(settings.pals_phone) or settings.pals_phone,
        privacy_contact=settings.privacy_contact,
    )
    if settings.id is not None:
        _last_known[_TRUST] = contact
    return contact


def for_ward(ward, settings: TrustSettings) -> Contact:
    base = for_trust(settings)
    contact = Contact(
        trust_name=base.trust_name,
        emergency_instruction=base.emergency_instruction,
        phone=display_phone(ward.team.public_phone) or ward.team.public_phone,
        phone_e164=_e164(ward.team.public_phone),
        team_name=ward.team.name,
        pals_phone=base.pals_phone,
        privacy_contact=base.privacy_contact,
    )
    _last_known[ward.code] = contact
    return contact


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
        phone=display_phone(_e164(phone)) or phone,
        phone_e164=_e164(phone),
    )
