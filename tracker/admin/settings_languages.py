"""The families' languages (docs/architecture.md#languages): which languages families may choose, and the trust's
own words in each (its emergency instruction, privacy contact and teams' names), each box beside the English it
translates. Administrators edit; managers read. A new or changed emergency instruction in a language is checked
first, as the English one is (tracker/admin/settings_check.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.admin import bp
from tracker.admin.settings import editable, problems_of, teams
from tracker.admin.settings_check import to_check
from tracker.admin.settings_forms import LanguagesForm, words_form
from tracker.admin.settings_groups import error_links
from tracker.extensions import db
from tracker.problems import Problem
from tracker.services.languages import (
    DEFAULT,
    LANGUAGES,
    Language,
    by_code,
    catalogue_status,
    has_catalogue,
    parse_enabled,
)
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.services.setup import settings_changes, trust_words
from tracker.services.setup.settings import current_settings
from tracker.web.authorisation import requires
from tracker.web.refusals import shown


@dataclass(frozen=True)
class Words:
    """One of the trust's own words: its box's name, what it is, the English, and the language's version."""

    name: str
    label: str
    english: str
    translated: str
    limit: int


def _words(language: Language) -> list[Words]:
    settings = current_settings()
    kept = trust_words.words_for(language.code)
    limits = trust_words.LIMITS
    rows = [
        Words(
            "emergency_instruction",
            "Emergency instruction",
            settings.emergency_instruction,
            kept.get(trust_words.EMERGENCY_INSTRUCTION, ""),
            limits[trust_words.EMERGENCY_INSTRUCTION],
        ),
        Words(
            "privacy_contact",
            "Privacy contact",
            settings.privacy_contact or "",
            kept.get(trust_words.PRIVACY_CONTACT, ""),
            limits[trust_words.PRIVACY_CONTACT],
        ),
    ]
    for team in teams():
        if team.active:
            key = trust_words.team_key(team.id)
            rows.append(
                Words(
                    f"team-{team.id}",
                    f"Team name: {team.name}",
                    team.name,
                    kept.get(key, ""),
                    limits[trust_words.TEAM_NAME],
                )
            )
    return rows


def _others() -> list[Language]:
    return [language for language in LANGUAGES if language.code != DEFAULT]


@bp.get("/settings/languages")
@requires(Permission.SEE_SETUP)
def languages_page(problems: dict[str, str] | None = None, status: int = 200):
    enabled = set(parse_enabled(current_settings().languages_enabled))
    return render_template(
        "admin/settings_languages.html",
        languages=_others(),
        enabled=set(request.form.getlist("languages")) if problems else enabled,
        written={language.code: trust_words.words_for(language.code) for language in _others()},
        status_of={
            language.code: (catalogue_status(language.code), has_catalogue(language.code)) for language in _others()
        },
        instruction_key=trust_words.EMERGENCY_INSTRUCTION,
        editable=editable(),
        problems=problems or {},
        errors=error_links("languages", problems or {}),
    ), status


@bp.post("/settings/languages")
@requires(Permission.EDIT_TRUST)
def save_languages():
    try:
        codes = LanguagesForm.read().values()["languages"]
        trust_words.save_languages(audit.Actor.user(current_user.user.id), ",".join([DEFAULT, *codes]))
    except Problem as refused:
        return shown(refused, lambda problem: languages_page(problems_of(problem), 400), at_field="languages")
    db.session.commit()
    flash("Families' languages: saved.", "success")
    return redirect(url_for(".languages_page"))


def _language(code: str) -> Language:
    language = by_code(code)
    if language is None or language.code == DEFAULT:
        abort(404)
    return language


@bp.get("/settings/languages/<code>")
@requires(Permission.SEE_SETUP)
def language_page(code: str, problems: dict[str, str] | None = None, status: int = 200):
    """One language's own words, each beside the English it translates; an empty box means families in this
    language see the English."""
    language = _language(code)
    return render_template(
        "admin/settings_language.html",
        language=language,
        words=_words(language),
        typed=request.form if problems else None,
        enabled=language.code in trust_words.enabled_languages(),
        editable=editable(),
        problems=problems or {},
        errors=error_links("words", problems or {}),
    ), status


@bp.post("/settings/languages/<code>")
@requires(Permission.EDIT_TRUST)
def save_language_words(code: str):
    language = _language(code)
    group = settings_changes.WORDS_GROUP + language.code
    try:
        values = words_form([team.id for team in teams() if team.active]).read().values()
        if settings_changes.needs_preview(group, values):
            return to_check(group, values)
        settings_changes.save(audit.Actor.user(current_user.user.id), group, values)
    except Problem as refused:
        return shown(
            refused, lambda problem: language_page(code, problems_of(problem), 400), at_field="emergency_instruction"
        )
    db.session.commit()
    flash(f"The trust's own words in {language.english}: saved.", "success")
    return redirect(url_for(".language_page", code=language.code))
