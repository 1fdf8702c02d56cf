"""The queue's open rows as HTML, built in Python (docs/architecture.md#the-queue). Every clinician's screen
asks for up to a few hundred of these every few seconds, and a row drawn by Jinja, with its dozen tests,
lookups and helper calls, cost more than everything else on the page together. The page and its refresh
(static/app/staff.mjs swaps the rows) both come from templates/triage/_queue_rows.html, which calls this
once for all the rows, so the two stay identical.

Every value that comes from a call is escaped here by _escape, which gives exactly what markupsafe's escape
(the templates' autoescape) gives, as a plain string; the rest are this module's constants."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from flask import current_app
from jinja2.filters import do_truncate
from markupsafe import Markup

from tracker.services.concerns.queue import QueueRow
from tracker.services.words import PRIORITY_WORDS
from tracker.web.template_helpers import STATUS_TAG_HTML, age_html, queue_route_words, worry_words

WORRY_SHOWN = 90  # characters of the worry's own words in the row (Jinja's truncate, with its leeway)


def _escape(value: str) -> str:
    """markupsafe.escape's entities, without making a Markup of each value (a third of a row's cost)."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def _cell(classes: str, heading: str) -> str:
    return (
        f'      <td role="cell" class="nhsuk-table__cell{classes}">'
        f'<span class="nhsuk-table-responsive__heading" aria-hidden="true">{heading} </span>'
    )


_WAITING, _STATUS = _cell("", "Waiting"), _cell("", "Status")
_WARD, _FROM = _cell(" tracker-cell--ward", "Ward"), _cell(" tracker-cell--from", "From")
_WORRY, _CLAIMED = _cell(" tracker-cell--worry", "Worry"), _cell(" tracker-cell--claimed", "Claimed by")
_TEXTS = _cell(" tracker-cell--text", "Texts")
_ARRIVAL = '<strong class="nhsuk-tag nhsuk-tag--yellow tracker-arrival-tag">New arrival</strong>'
_FLAGGED = ' <strong class="nhsuk-tag nhsuk-tag--grey">Flagged</strong>'
_ALERT_FAILED = ' <strong class="nhsuk-tag nhsuk-tag--red">Alert failed: next step paged</strong>'
_PAUSED = ' <strong class="nhsuk-tag nhsuk-tag--blue">Alert acknowledged, not claimed</strong>'
_INTERPRETER = ' <strong class="nhsuk-tag nhsuk-tag--orange" data-interpreter-added>Interpreter needed: added after sending</strong>'
_FOLLOW_UP = ' <strong class="nhsuk-tag nhsuk-tag--red">Follow-up text: call ended</strong>'
_UNREAD = ' <strong class="nhsuk-tag nhsuk-tag--orange">New text from caller</strong>'
_PRIORITY = {
    value: f' <strong class="nhsuk-tag nhsuk-tag--yellow">{_escape(words)}</strong>'
    for value, words in PRIORITY_WORDS.items()
}


def _tags(row: QueueRow, now: datetime) -> str:
    """The status cell's tags: what the call is waiting for, and everything a clinician must notice."""
    tags = [_ARRIVAL if row.arrival else STATUS_TAG_HTML[row.status.value]]
    if row.priority:
        tags.append(_PRIORITY.get(row.priority, ' <strong class="nhsuk-tag nhsuk-tag--yellow"></strong>'))
    if row.flagged:
        tags.append(_FLAGGED)
    if row.alert_failed:
        tags.append(_ALERT_FAILED)
    if row.escalation_paused_until and row.escalation_paused_until > now and row.status.value == "new":
        tags.append(_PAUSED)
    if row.linked_to:
        linked = _escape(row.linked_to)
        tags.append(
            f' <strong class="nhsuk-tag nhsuk-tag--white" data-linked-to="{linked}">Linked to {linked}: not paged</strong>'
        )
    if row.interpreter_added:
        tags.append(_INTERPRETER)
    if row.follow_up:
        tags.append(_FOLLOW_UP)
    elif row.unread_reply:
        tags.append(_UNREAD)
    return "".join(tags)


def _worry(row: QueueRow, env) -> str:
    categories = worry_words(row.worry_categories)
    details = row.worry_details
    shown = _escape(do_truncate(env, details, WORRY_SHOWN)) if details else ""
    joiner = ": " if categories and details else ""
    return f'<span class="tracker-user-text" dir="auto">{_escape(categories.capitalize())}{joiner}{shown}</span>'


def _row(row: QueueRow, now: datetime, concern_url: Callable[[str], str], env) -> str:
    reference = _escape(row.reference)
    opening = '\n    <tr role="row" class="nhsuk-table__row' + (" tracker-arrival" if row.arrival else "")
    opening += f'" data-concern="{reference}" data-status="{_escape(row.status.value)}"'
    if row.follow_up:
        opening += f' data-follow-up="{reference}"'
    if row.arrival:
        opening += " data-arrival"
    bed = f", {_escape(row.bed)}" if row.bed else ""
    initials = (
        f' <span class="tracker-initials" title="The patient\'s initials">{_escape(row.initials)}</span>'
        if row.initials
        else ""
    )
    claimed = "Nobody yet" if row.claimed_by_name is None else _escape(row.claimed_by_name)
    return (
        f"{opening}>\n{_WAITING}{age_html(row.raised_at, row.target_minutes, now)}</td>\n"
        f"{_STATUS}{_tags(row, now)}</td>\n"
        f'{_WARD}\n        <span><a href="{_escape(concern_url(row.reference))}">{_escape(row.ward_name)}{bed}</a>'
        f'{initials}\n        <span class="nhsuk-body-s tracker-muted tracker-ref">{reference}</span></span></td>\n'
        f"{_FROM}{_escape(queue_route_words(row))}</td>\n"
        f"{_WORRY}{_worry(row, env)}</td>\n"
        f"{_CLAIMED}{claimed}</td>\n"
        f"{_TEXTS}{_escape(row.text_words)}</td>\n"
        "    </tr>\n  "
    )


def queue_rows(rows: Iterable[QueueRow], now: datetime, concern_url: Callable[[str], str]) -> Markup:
    """The open calls' table rows, each as the template drew it (templates/triage/_queue_rows.html)."""
    env = current_app.jinja_env
    # Safe: every value from a call went through _escape above; the rest are constants.
    return Markup("".join(_row(row, now, concern_url, env) for row in rows))  # noqa: S704
