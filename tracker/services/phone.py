"""Phone numbers from the public: any valid number is accepted for a call back; texts go only
to mobiles in the countries the trust allows (docs/architecture.md#concerns-and-their-clocks, #messages)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from tracker.problems import Problem

_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")
_TEXTABLE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class PhoneProblem(Problem):
    """Not a phone number we can use."""


@dataclass(frozen=True)
class Phone:
    e164: str
    region: str | None
    is_mobile: bool

    def textable(self, allowed_regions: set[str]) -> bool:
        return self.is_mobile and self.region in allowed_regions


@lru_cache(maxsize=4096)  # a pure function of its text: each submission parses the same on-call numbers again
def parse_phone(raw: str, default_region: str = "GB") -> Phone:
    """Parse what someone typed. Full-width digits and invisible characters are tidied first;
    letters are refused rather than read as a keypad word."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    if not text or not _ALLOWED.match(text) or sum(ch.isdigit() for ch in text) < 5:
        raise PhoneProblem(raw)
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException:
        raise PhoneProblem(raw) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneProblem(raw)
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number),
        is_mobile=phonenumbers.number_type(number) in _TEXTABLE_TYPES,
    )


def display_phone(e164: str | None, home_region: str = "GB") -> str:
    """A number as people write it: national format at home, international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == home_region:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def mask_phone(e164: str | None) -> str:
    """For logs: the last three digits only."""
    return f"…{e164[-3:]}" if e164 else ""


def masked_for_caller(e164: str | None, home_region: str = "GB") -> str:
    """A number shown back to the family without showing it: "07••• ••• 456" at home,
    "+33 ••• ••• 789" otherwise. Enough for them to recognise their own, nothing for the next
    person at a shared tablet."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return f"••• ••• {e164[-3:]}"
    if phonenumbers.region_code_for_number(number) == home_region:
        start = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)[:2]
    else:
        start = f"+{number.country_code} "
    return f"{start}••• ••• {e164[-3:]}"
