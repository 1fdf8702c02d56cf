"""Small functions the public templates call to turn form state into NHS.UK macro parameters."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _

from tracker.services.languages import language_of
from tracker.services.setup.settings import current_settings
from tracker.web.concern_form import LANGUAGE_CHOICES, WORRY_CHOICES, ConcernForm


def field_error(field) -> dict | None:
    return {"text": str(field.errors[0]), "visuallyHiddenText": _("Error")} if field.errors else None


def worry_items(form: ConcernForm) -> list[dict]:
    chosen = set(form.worry_categories.data or [])
    return [{"value": value, "text": str(label), "checked": value in chosen} for value, label in WORRY_CHOICES]


def language_items(form: ConcernForm) -> list[dict]:
    """The languages an interpreter could speak. Until the family answers, the page's own language is
    chosen: a family reading the form in Polish probably prefers to speak Polish. It stays a separate
    question, since it books an interpreter (and lists languages the pages are not in, such as BSL)."""
    if form.preferred_language.data is None:
        current = language_of(str(get_locale() or "en")).interpreter_choice
    else:
        current = form.preferred_language.data
    return [{"value": value, "text": str(label), "selected": value == current} for value, label in LANGUAGE_CHOICES]


def bed_items(beds: list[str], form: ConcernForm) -> list[dict]:
    current = form.bed.data or ""
    return [{"value": "", "text": _("I do not know"), "selected": not current}] + [
        {"value": bed, "text": bed, "selected": bed == current} for bed in beds
    ]


def sms_hint() -> str:
    regions = current_settings().allowed_regions
    where = _("UK mobile numbers") if regions == {"GB"} else _("mobile numbers")
    if current_settings().text_relatives_allowed:
        return _("We will text you to say we got your request. We can only text %(where)s.", where=where)
    return _("We can only send texts to patients, not to family or friends, and only to %(where)s.", where=where)


HELPERS = {
    "field_error": field_error,
    "worry_items": worry_items,
    "language_items": language_items,
    "bed_items": bed_items,
    "sms_hint": sms_hint,
}
