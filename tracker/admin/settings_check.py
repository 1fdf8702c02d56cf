"""Checking a change before it is saved (docs/architecture.md#set-up; HAZ-083, HAZ-084). A change to what families
are told in an emergency (the instruction, in English or a family language, the outreach or PALS number) or to a
retention period waits in the person's session; its page asks for a fresh sign-in, then shows it as families will
see it (the emergency banner drawn with the new values) or, for retention, how many calls it would make due for
destruction now (the purge's dry run). Only "Save" on that page saves it, and only if nobody changed the settings
meanwhile."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, get_template_attribute, redirect, render_template, session, url_for
from flask_babel import force_locale
from flask_login import current_user
from markupsafe import Markup

from tracker.admin import bp
from tracker.admin.settings import team_names
from tracker.admin.settings_groups import BY_KEY, in_words, label_of, words_label
from tracker.extensions import db
from tracker.problems import Problem
from tracker.services.languages import DEFAULT, by_code
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.services.setup import settings_changes, settings_history, trust_words
from tracker.services.setup.settings import current_settings
from tracker.web import contact as contact_words
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

PENDING = "settings_to_check"
NONE = "None: families see the English"
PERIODS = {
    "retention_adult_years": "the adult period",
    "retention_child_until_age": "the children's period",
    "retention_complaint_years": "the complaints period",
    "retention_serious_incident_years": "the serious incidents period",
}
WORDS = settings_changes.WORDS_GROUP


def to_check(group: str, values: dict[str, Any]):
    """Keep the change in the session, with the settings version it was made against, and go to its check."""
    session[PENDING] = {"group": group, "values": values, "base": settings_history.latest_id()}
    return redirect(url_for(".check_page", group=group), code=303)


def _pending(group: str) -> dict | None:
    pending = session.get(PENDING)
    return pending if isinstance(pending, dict) and pending.get("group") == group else None


def _back(group: str) -> str:
    if group.startswith(WORDS):
        return url_for(".language_page", code=group.removeprefix(WORDS))
    return url_for(".settings_page") + f"#{group}"


def _fresh_sign_in(group: str):
    """None when the person signed in within the last few minutes; else off to sign in again, and back."""
    if current_user.live.fresh:
        return None
    flash("Sign in again to change what families are told or how long calls are kept.", "information")
    return redirect(url_for("auth.confirm", next=url_for(".check_page", group=group)))


def _nothing_waiting(group: str):
    flash("There is no change waiting to be checked: make it again.", "information")
    return redirect(_back(group))


def _known(group: str) -> None:
    if group not in ("contact", "retention") and not (
        group.startswith(WORDS) and by_code(group.removeprefix(WORDS)) and group != WORDS + DEFAULT
    ):
        abort(404)


@bp.get("/settings/check/<group>")
@requires(Permission.EDIT_TRUST)
def check_page(group: str):
    _known(group)
    pending = _pending(group)
    if pending is None:
        return _nothing_waiting(group)
    fresh = _fresh_sign_in(group)
    if fresh:
        return fresh
    values = pending["values"]
    return render_template(
        "admin/settings_check.html",
        group=group,
        title=_title(group),
        changes=_changes(group, values),
        back=_back(group),
        **_what_it_does(group, values),
    )


@bp.post("/settings/check/<group>")
@requires(Permission.EDIT_TRUST)
def confirm_change(group: str):
    _known(group)
    pending = _pending(group)
    if pending is None:
        return _nothing_waiting(group)
    fresh = _fresh_sign_in(group)
    if fresh:
        return fresh
    if pending["base"] != settings_history.latest_id():
        session.pop(PENDING, None)
        flash(
            "The settings were changed by someone else while you were checking yours, so nothing was saved. Look at "
            "them again, and make your change again if it is still needed.",
            "warning",
        )
        return redirect(_back(group))
    try:
        settings_changes.save(audit.Actor.user(current_user.user.id), group, dict(pending["values"]))
    except Problem as refused:
        session.pop(PENDING, None)
        return shown(refused, lambda problem: _refused(problem, group), page=_back(group))
    db.session.commit()
    session.pop(PENDING, None)
    flash(f"{_title(group)}: saved. Families see the change now.", "success")
    return redirect(_back(group))


def _refused(problem: Problem, group: str):
    flash(str(problem), "warning")
    return redirect(_back(group))


def _title(group: str) -> str:
    if group.startswith(WORDS):
        language = by_code(group.removeprefix(WORDS))
        return f"The trust's own words in {language.english if language else group}"
    return BY_KEY[group].title


def _changes(group: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """What changes: each setting's label, its words now and after saving (and whether those are in the family's
    language, or English)."""
    if group.startswith(WORDS):
        now = trust_words.words_for(group.removeprefix(WORDS))
        names = team_names()
        return [
            {
                "label": words_label(key, names),
                "now": now.get(key) or NONE,
                "then": text or NONE,
                "now_translated": bool(now.get(key)),
                "then_translated": bool(text),
            }
            for key, text in values.items()
            if (now.get(key) or "") != text
        ]
    settings = current_settings()
    return [
        {"label": label_of(name), "now": in_words(name, getattr(settings, name), {}), "then": in_words(name, value, {})}
        for name, value in values.items()
        if getattr(settings, name) != value
    ]


def _what_it_does(group: str, values: dict[str, Any]) -> dict[str, Any]:
    if group == "retention":
        preview = settings_changes.retention_preview(values)
        return {"retention": preview, "shortened": [PERIODS[name] for name in preview.shortened]}
    if group.startswith(WORDS):
        language = by_code(group.removeprefix(WORDS))
        assert language is not None  # _known
        contact = contact_words.preview(current_settings(), values.get(trust_words.EMERGENCY_INSTRUCTION, ""))
        return {"banner": drawn(contact, language.code), "language": language}
    contact = contact_words.preview(settings_changes.would_be(values))
    translated = [
        language
        for code in trust_words.enabled_languages()
        if code != DEFAULT
        and (language := by_code(code)) is not None
        and trust_words.words_for(code).get(trust_words.EMERGENCY_INSTRUCTION)
    ]
    return {
        "banner": drawn(contact, DEFAULT),
        "pals_note": drawn(contact, DEFAULT, "not_for_note"),
        "translated": translated,
    }


def drawn(contact: contact_words.Contact, locale: str, macro: str = "emergency_banner") -> Markup:
    """The family pages' own macro, drawn in the family's language, with the values not yet saved."""
    template = "macros/notes.html" if macro == "not_for_note" else "macros/emergency.html"
    with force_locale(locale):
        drawn_markup: Markup = get_template_attribute(template, macro)(contact)  # a macro's output is Markup already
    return drawn_markup
