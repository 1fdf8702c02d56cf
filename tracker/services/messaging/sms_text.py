"""SMS texts: rendered from template files (tracker/templates/sms/), never from request text,
and measured in segments as the network counts them (docs/facts.md#texting-patients-and-families)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale

# GSM 03.38 basic character set, and the extension table whose characters cost two.
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

# How many segments each text may use: family texts one (docs/architecture.md#messages); alerts to staff two.
SEGMENT_BUDGET = {
    "family_receipt": 1,
    "family_reference": 1,
    "update_team_coming": 1,
    "update_team_will_call": 1,
    "update_review_done": 2,
    "update_please_call": 1,
    "clinician_alert": 2,
    "clinician_alert_burst": 2,
    "review_reminder": 2,
    "review_overdue": 2,
    "rota_test": 1,
    "ack_confirm": 1,
    "ack_ceiling": 1,
    "ack_nothing": 1,
    "help_reply": 2,
    "follow_up_reply": 2,
    "text_in_reply": 2,
    "daily_check_alert": 2,
}


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets, or UTF-16 code units
    count: int


def measure(text: str) -> Segments:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return Segments("GSM-7", units, 1 if units <= 160 else math.ceil(units / 153))
    units = len(text.encode("utf-16-le")) // 2
    return Segments("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))


# Sent to families, in the family's language (docs/architecture.md#languages): in every language each fits
# two GSM-7 or three UCS-2 segments, and carries the reference, the team's number and what to do now.
FAMILY_TEMPLATES = frozenset(
    {
        "family_receipt",
        "family_reference",
        "update_team_coming",
        "update_team_will_call",
        "update_review_done",
        "update_please_call",
        "follow_up_reply",
        "text_in_reply",
        "help_reply",
    }
)

# Read out on voice calls: not texts, so no segment budget.
VOICE_TEMPLATES = frozenset(
    {"voice_alert", "voice_ack", "voice_ack_ceiling", "voice_wrong_key", "voice_not_waiting", "voice_daily_check"}
)


def render(template_id: str, variables: dict, locale: str) -> str:
    """The text of one message, in its own locale, as one line of plain text."""
    if template_id not in SEGMENT_BUDGET and template_id not in VOICE_TEMPLATES:
        raise KeyError(f"unknown SMS template {template_id!r}")
    template = current_app.jinja_env.get_template(f"sms/{template_id}.txt")
    with force_locale(locale):
        text = template.render(**variables)
    return " ".join(text.split())
