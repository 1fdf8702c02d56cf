"""Which languages families may choose, and the trust's own words in them (docs/architecture.md#languages).

The pages' and texts' words live in the catalogues; the trust's own words (its emergency instruction,
its teams' names, its privacy contact) are the trust's to translate, so they live here, one row per
language and key. Read on every family page: kept in memory for a few seconds, like the settings.
"""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Settings, Team, TrustWords
from tracker.services.languages import DEFAULT, by_code, has_catalogue, parse_enabled, unknown_codes
from tracker.services.records import audit
from tracker.services.setup import settings_history
from tracker.services.setup.hospital import SetupProblem
from tracker.services.setup.settings import current_settings, forget_settings
from tracker.services.text import TextProblem, clean_line

CACHE_SECONDS = 10.0
EMERGENCY_INSTRUCTION = "emergency_instruction"
PRIVACY_CONTACT = "privacy_contact"
TEAM_NAME = "team_name:"
LIMITS = {EMERGENCY_INSTRUCTION: 400, PRIVACY_CONTACT: 200, TEAM_NAME: 120}
_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}


def enabled_languages() -> tuple[str, ...]:
    """The languages a family may choose: enabled by the trust and with a compiled catalogue."""
    return tuple(code for code in parse_enabled(current_settings().languages_enabled) if has_catalogue(code))


def save_languages(actor: audit.Actor, value: str) -> tuple[str, ...]:
    """Enable these languages (comma-separated codes; English is always on)."""
    unknown = unknown_codes(value)
    if unknown:
        raise SetupProblem(f"Unknown language code(s): {', '.join(unknown)}. Use: {', '.join(_all_codes())}")
    row = db.session.get(Settings, 1)
    if row is None:
        raise SetupProblem("Set up the trust first (setup-trust with its name and emergency instruction)")
    codes = parse_enabled(value)
    changed = ["languages_enabled"] if row.languages_enabled != ",".join(codes) else []
    row.languages_enabled = ",".join(codes)
    settings_history.kept("languages_enabled_set", actor, changed, {"languages": list(codes)})
    forget_settings()
    return codes


def _all_codes() -> list[str]:
    from tracker.services.languages import CODES

    return list(CODES)


def words_for(locale: str) -> dict[str, str]:
    """The trust's own words in one language, by key; empty for English (the settings hold those)."""
    if locale == DEFAULT:
        return {}
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], locale)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    rows = db.session.execute(select(TrustWords.key, TrustWords.text).where(TrustWords.locale == locale)).all()
    words = {row.key: row.text for row in rows}
    _cache[key] = (time.monotonic(), words)
    return words


def forget_words() -> None:
    _cache.clear()


def team_key(team_id: int) -> str:
    return f"{TEAM_NAME}{team_id}"


def save_words(actor: audit.Actor, locale: str, key: str, text: str) -> str | None:
    """Keep the trust's translation of one of its own words; an empty text removes it, so families in
    that language see the English again. Returns the text kept."""
    language = by_code(locale)
    if language is None or locale == DEFAULT:
        raise SetupProblem(f"Choose a language other than English: {', '.join(_all_codes()[1:])}")
    limit = _limit(key)
    try:
        tidy = clean_line(text, limit)
    except TextProblem as problem:
        raise SetupProblem(f"The words must be one line of at most {limit} characters ({problem})") from problem
    row = db.session.scalar(select(TrustWords).where(TrustWords.locale == locale, TrustWords.key == key))
    changed = [f"words:{locale}"] if (row.text if row is not None else "") != tidy else []
    if not tidy:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(TrustWords(locale=locale, key=key, text=tidy))
    else:
        row.text = tidy
    db.session.flush()
    # The words are the trust's public wording, not personal data, so the audit keeps them.
    settings_history.kept("trust_words_set", actor, changed, {"language": locale, key: tidy or None})
    forget_words()
    return tidy or None


def _limit(key: str) -> int:
    if key in (EMERGENCY_INSTRUCTION, PRIVACY_CONTACT):
        return LIMITS[key]
    if key.startswith(TEAM_NAME) and key[len(TEAM_NAME) :].isdigit():
        if db.session.get(Team, int(key[len(TEAM_NAME) :])) is None:
            raise SetupProblem("No team has that id")
        return LIMITS[TEAM_NAME]
    raise SetupProblem(f"Unknown words {key!r}: use {EMERGENCY_INSTRUCTION}, {PRIVACY_CONTACT} or {TEAM_NAME}<team id>")
