"""Jinja filters and globals shared by the pages: times in the trust's own zone, and the audit
trail in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user
from markupsafe import Markup, escape

from tracker.clock import utcnow
from tracker.services import scope
from tracker.services.scope import Permission
from tracker.services.words import (
    ACTION_WORDS,
    CALLER_ROUTE_WORDS,
    PRIORITY_WORDS,
    QUEUE_ROUTE_WORDS,
    TEMPLATE_WORDS,
    TEXT_STATE_WORDS,
    WORRY_WORDS,
)

# The tags of the staff pages' call lists: functions rather than macros, because the queue shows
# them on every row of every refresh. Markup.format escapes what it is given.
STATUS_TAGS = {
    "new": ("nhsuk-tag--pink", "New"),  # red is kept for "past target": urgency is said in words too
    "acknowledged": ("nhsuk-tag--blue", "Claimed"),
    "reviewed": ("nhsuk-tag--purple", "Reviewed"),
    "closed": ("nhsuk-tag--grey", "Closed"),
    "cancelled": ("nhsuk-tag--white", "Cancelled"),
}
_STATUS_TAG = Markup('<strong class="nhsuk-tag {}">{}</strong>')
# Built once per status: the queue asks for one on every row. (Markup.format escapes each field
# through string.Formatter, which costs more than the rest of a row.)
STATUS_TAG_HTML = {status: _STATUS_TAG.format(colour, words) for status, (colour, words) in STATUS_TAGS.items()}

# Urgency in words, not colour alone: "12 min — past target" (within target, the words are for screen readers).
AGE_STATES = {
    "red": ("nhsuk-tag--red", "— past target", ""),
    "amber": ("nhsuk-tag--orange", "— past half the target", ""),
    "green": ("nhsuk-tag--green", "within target", "nhsuk-u-visually-hidden"),
}
_NO_AGE = Markup('<span class="tracker-muted">–</span>')


def status_tag(concern) -> Markup:
    """The call's status as a coloured tag, for anything with a `status` (a Concern, a queue row)."""
    return STATUS_TAG_HTML[concern.status.value]


def age_tag(raised_at: datetime, target: int | None, now: datetime) -> Markup:
    """How long a call has waited against its target (services/concerns/triage.py: waiting_target): red
    past it, amber past half of it, green within it; a dash when nothing is waited for.
    static/app/staff.mjs moves the tag on in the browser, with the same thresholds."""
    # Safe: see age_html.
    return Markup(age_html(raised_at, target, now))  # noqa: S704


def age_html(raised_at: datetime, target: int | None, now: datetime) -> str:
    """age_tag's HTML as a plain string, for the queue's rows (web/queue_rows.py), which join many."""
    if target is None:
        return _NO_AGE
    minutes = int((now - raised_at).total_seconds() // 60)
    colour, words, hidden = AGE_STATES["red" if minutes >= target else ("amber" if minutes * 2 >= target else "green")]
    text = (f"{minutes // 60} h " if minutes >= 60 else "") + f"{minutes % 60} min"
    # An f-string, not Markup.format (ten times slower, through string.Formatter): one of these is on every row of
    # every refresh. Safe: the classes and words are the constants above, the minutes and target are numbers, and
    # the one other value is escaped.
    return (
        f'<strong class="nhsuk-tag {colour} tracker-age"\n    data-raised-at="{escape(raised_at.isoformat())}" '
        f'data-target-minutes="{int(target)}">\n    <span data-age-text>{text}</span>\n'
        f'    <span class="{hidden}" data-age-state>{words}</span>\n  </strong>'
    )


def route_words(concern) -> str:
    """Who raised the call, and "(by phone)" when staff took it on the phone: for anything with
    `caller_route` and `channel` (a Concern, a queue row)."""
    words = CALLER_ROUTE_WORDS[concern.caller_route.value]
    return words + " (by phone)" if concern.channel.value == "phone_call" else words


def queue_route_words(row) -> str:
    """`route_words` in fewer words, for the queue's narrow column."""
    words = QUEUE_ROUTE_WORDS[row.caller_route.value]
    return words + " (by phone)" if row.channel.value == "phone_call" else words


def worry_words(categories) -> str:
    return ", ".join(WORRY_WORDS.get(key, key) for key in categories)


def text_state(state: str | None) -> str:
    """A text message's send state or delivery status, in words."""
    return TEXT_STATE_WORDS.get(state, state) if state else "No text"


def local_time(moment: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
    if moment is None:
        return ""
    from tracker.services.setup.settings import current_settings

    return moment.astimezone(ZoneInfo(current_settings().timezone)).strftime(fmt)


def timeline_words(action: str, changes: dict) -> str:
    words = ACTION_WORDS.get(action, action.replace("_", " ").capitalize())
    template = changes.get("template_id")
    if template:
        words += f": {TEMPLATE_WORDS.get(template, template)}"
    if action == "priority_set":
        words += f" to {({1: 'urgent', 2: 'soon', 3: 'routine'}).get(changes.get('priority', 0), 'none')}"
    if action == "review_recorded":
        words += " (" + ("seen on the ward" if changes.get("review_kind") == "seen_on_ward" else "advice by phone")
        if changes.get("news2_total") is not None:
            words += f", NEWS2 {changes['news2_total']}"
        words += ")"
    if action in {"closed", "closed_without_review"} and changes.get("concern_type"):
        words += f": {changes['concern_type'].replace('_', ' ')}"
    if action == "cancelled" and changes.get("cancel_kind"):
        words += f" ({changes['cancel_kind']})"
    if action in {"escalation_step_fired", "escalation_step_skipped"} and changes.get("label"):
        words += f" ({changes['label']}" + (", voice call" if changes.get("channel") == "voice" else "") + ")"
    if action == "escalation_paused" and changes.get("minutes"):
        words += f" for {changes['minutes']} minutes" + (
            " by keypress" if changes.get("source") == "voice_keypress" else " by text"
        )
    if action == "message_held" and changes.get("hold_reason"):
        words += f" ({changes['hold_reason'].replace('_', ' ')})"
    return words


def _display_phone(e164: str | None) -> str:
    from tracker.services.phone import display_phone

    return display_phone(e164) if e164 else ""


def can(permission: str) -> bool:
    """For templates: whether the signed-in person has the permission named (services/scope.py)."""
    return bool(current_user.is_authenticated) and scope.can(current_user.user, Permission[permission])


def register(app: Flask) -> None:
    from tracker.web.queue_rows import queue_rows  # it builds on the tags above

    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["timeline_words"] = timeline_words
    app.jinja_env.filters["tracker_lookup"] = lambda key, mapping: mapping.get(key, key)
    app.jinja_env.filters["worry_words"] = worry_words
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["priority_words"] = PRIORITY_WORDS
    app.jinja_env.globals["priority_choices"] = [(str(value), words) for value, words in PRIORITY_WORDS.items()] + [
        ("", "None")
    ]
    app.jinja_env.globals["role_name"] = scope.role_name
    app.jinja_env.globals["route_words"] = route_words
    app.jinja_env.globals["queue_route_words"] = queue_route_words
    app.jinja_env.globals["text_state"] = text_state
    app.jinja_env.globals["status_tag"] = status_tag
    app.jinja_env.globals["age_tag"] = age_tag
    app.jinja_env.globals["queue_rows"] = queue_rows
    app.jinja_env.globals["utcnow"] = utcnow
    app.jinja_env.globals["display_phone"] = _display_phone
    app.jinja_env.filters["team_option"] = lambda team, chosen: {
        "value": team.code,
        "text": team.name,
        "selected": team.code == (chosen or ""),
    }
    app.jinja_env.filters["ward_option"] = lambda ward, chosen: {
        "value": str(ward.id),
        "text": f"{ward.name}, {ward.site.name}",
        "selected": str(ward.id) == str(chosen or ""),
    }
