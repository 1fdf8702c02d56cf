"""The settings history (docs/architecture.md#set-up): every version of the trust's settings, who made it and when,
and the settings in force at a moment someone chooses: what families were shown on a given night. For anyone who
may see the set-up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template, request
from wtforms import StringField

from tracker.admin import bp
from tracker.admin.settings import team_names
from tracker.admin.settings_check import drawn
from tracker.admin.settings_groups import GROUPS, error_links, label_of, summary, words_label
from tracker.clock import local, utcnow
from tracker.extensions import db
from tracker.models import SettingsVersion, User
from tracker.services.languages import DEFAULT, by_code, parse_enabled
from tracker.services.scope import Permission
from tracker.services.setup import settings_history
from tracker.services.setup.settings import current_settings
from tracker.web import contact as contact_words
from tracker.web.authorisation import requires
from tracker.web.posted import PostedForm, clock_time, iso_date, whole_number


class MomentForm(PostedForm):
    """Read from the page's address: a day and a time in the trust's zone, or a version's number."""

    day = StringField(validators=[iso_date("day")])
    at = StringField(validators=[clock_time("time")])


class VersionForm(PostedForm):
    version = StringField(validators=[whole_number("The version", 1, 2**31 - 1)])


def local_moment(day: date, at: time, tz_name: str) -> datetime | None:
    """A wall-clock time in the trust's zone as UTC; None for one that did not happen (the clocks went forward)."""
    zone = ZoneInfo(tz_name)
    wall = datetime.combine(day, at)
    moment = wall.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return moment.astimezone(UTC)


@bp.get("/settings/history")
@requires(Permission.SEE_SETUP)
def settings_history_page():
    """Choose a day and time (or follow a version's link): the settings in force then, as families saw them."""
    tz_name = current_settings().timezone
    problems: dict[str, str] = {}
    chosen: SettingsVersion | None = None
    moment: datetime | None = None
    asked = bool(request.args.get("day") or request.args.get("at"))
    if request.args.get("version"):
        form = VersionForm.read(request.args)
        problems = form.problems()
        if not problems:
            chosen = db.session.get(SettingsVersion, form.version.data)
            if chosen is None:
                problems = {"version": "There is no such version of the settings"}
    elif asked:
        moment_form = MomentForm.read(request.args)
        problems = moment_form.problems()
        if not problems:
            moment = local_moment(moment_form.day.data, moment_form.at.data, tz_name)
            if moment is None:
                problems = {"at": "That time did not happen that day: the clocks went forward. Choose another"}
            else:
                chosen = settings_history.in_force_at(moment)
    status = 400 if problems else 200
    versions = settings_history.versions()
    return render_template(
        "admin/settings_history.html",
        tz_name=tz_name,
        today=local(utcnow(), tz_name).date(),
        args=request.args,
        problems=problems,
        errors=error_links("history", problems),
        asked=asked,
        moment=moment,
        chosen=chosen,
        shown=_shown(chosen) if chosen is not None else None,
        versions=versions,
        changed_words={row.version.id: "; ".join(label_of(name) for name in row.version.changed) for row in versions},
        first=settings_history.first_recorded(),
    ), status


def _shown(version: SettingsVersion) -> dict[str, Any]:
    """What the page shows of one version: its groups in words, its languages, its own words, and the emergency
    banner families saw."""
    values = version.snapshot
    names = team_names()
    words = values.get(settings_history.WORDS, {})
    settings = replace(
        current_settings(),
        emergency_instruction=values.get("emergency_instruction") or "",
        outreach_phone=values.get("outreach_phone") or "",
        pals_phone=values.get("pals_phone"),
    )
    return {
        "groups": [(group, summary(group, values, names)) for group in GROUPS],
        "languages": [
            by_code(code)
            for code in parse_enabled(values.get("languages_enabled"))
            if code != DEFAULT and by_code(code)
        ],
        "words": [
            (by_code(code), [(words_label(key, names), text) for key, text in kept.items()])
            for code, kept in sorted(words.items())
            if by_code(code) and kept
        ],
        "banner": drawn(contact_words.preview(settings), DEFAULT) if values.get("emergency_instruction") else None,
        "who": settings_history.who_words(version.actor_type, _name(version.actor_id)),
    }


def _name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else None
