"""The queue's rows are built in Python (web/queue_rows.py) for speed; what they say is pinned here against the
Jinja row they replaced, kept below as the reference: for any row (every tag, a missing bed or initials, words
full of HTML's own characters, a worry long enough to be cut), the two give the same HTML, character for
character. Any change to a row is made in both places (docs/architecture.md#the-queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracker.models import CallerRoute, Channel, ConcernStatus
from tracker.services.concerns.queue import QueueRow
from tracker.services.words import PRIORITY_WORDS, WORRY_WORDS
from tracker.web.queue_rows import queue_rows

REFERENCE_ROW = """{% for c in rows %}
    <tr role="row" class="nhsuk-table__row{% if c.arrival %} tracker-arrival{% endif %}" data-concern="{{ c.reference }}" data-status="{{ c.status.value }}"{% if c.follow_up %} data-follow-up="{{ c.reference }}"{% endif %}{% if c.arrival %} data-arrival{% endif %}>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Waiting </span>{{ age_tag(c.raised_at, c.target_minutes, now) }}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Status </span>{% if c.arrival %}<strong class="nhsuk-tag nhsuk-tag--yellow tracker-arrival-tag">New arrival</strong>{% else %}{{ status_tag(c) }}{% endif %}{% if c.priority %} <strong class="nhsuk-tag nhsuk-tag--yellow">{{ priority_words[c.priority] }}</strong>{% endif %}{% if c.flagged %} <strong class="nhsuk-tag nhsuk-tag--grey">Flagged</strong>{% endif %}{% if c.alert_failed %} <strong class="nhsuk-tag nhsuk-tag--red">Alert failed: next step paged</strong>{% endif %}{% if c.escalation_paused_until and c.escalation_paused_until > now and c.status.value == "new" %} <strong class="nhsuk-tag nhsuk-tag--blue">Alert acknowledged, not claimed</strong>{% endif %}{% if c.linked_to %} <strong class="nhsuk-tag nhsuk-tag--white" data-linked-to="{{ c.linked_to }}">Linked to {{ c.linked_to }}: not paged</strong>{% endif %}{% if c.interpreter_added %} <strong class="nhsuk-tag nhsuk-tag--orange" data-interpreter-added>Interpreter needed: added after sending</strong>{% endif %}{% if c.follow_up %} <strong class="nhsuk-tag nhsuk-tag--red">Follow-up text: call ended</strong>{% elif c.unread_reply %} <strong class="nhsuk-tag nhsuk-tag--orange">New text from caller</strong>{% endif %}</td>
      <td role="cell" class="nhsuk-table__cell tracker-cell--ward"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Ward </span>
        <span><a href="{{ concern_url(c.reference) }}">{{ c.ward_name }}{% if c.bed %}, {{ c.bed }}{% endif %}</a>{% if c.initials %} <span class="tracker-initials" title="The patient's initials">{{ c.initials }}</span>{% endif %}
        <span class="nhsuk-body-s tracker-muted tracker-ref">{{ c.reference }}</span></span></td>
      <td role="cell" class="nhsuk-table__cell tracker-cell--from"><span class="nhsuk-table-responsive__heading" aria-hidden="true">From </span>{{ queue_route_words(c) }}</td>
      <td role="cell" class="nhsuk-table__cell tracker-cell--worry"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Worry </span>{% set cats = c.worry_categories | worry_words %}<span class="tracker-user-text" dir="auto">{{ cats | capitalize }}{% if cats and c.worry_details %}: {% endif %}{{ c.worry_details | truncate(90) if c.worry_details }}</span></td>
      <td role="cell" class="nhsuk-table__cell tracker-cell--claimed"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Claimed by </span>{{ "Nobody yet" if c.claimed_by_name is none else c.claimed_by_name }}</td>
      <td role="cell" class="nhsuk-table__cell tracker-cell--text"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Texts </span>{{ c.text_words }}</td>
    </tr>
  {% endfor %}"""

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
# Words with HTML's own characters, quotes and non-Latin letters, as people type them.
TEXT = st.text(alphabet=st.sampled_from("aZ 7,.-'\"<>&;/é€\u202e"), max_size=130)
MAYBE_TEXT = st.none() | TEXT


@st.composite
def rows(draw) -> QueueRow:
    reference = draw(st.from_regex(r"MR-[0-9A-Z]{4}-[A-Z]{2}", fullmatch=True) | TEXT.filter(bool))
    return QueueRow(
        reference=reference,
        status=draw(st.sampled_from(ConcernStatus)),
        priority=draw(st.none() | st.sampled_from([*PRIORITY_WORDS, 0, 9])),
        raised_at=NOW - timedelta(seconds=draw(st.integers(0, 3 * 86400))),
        ward_name=draw(TEXT),
        bed=draw(MAYBE_TEXT),
        initials=draw(TEXT),
        caller_route=draw(st.sampled_from(CallerRoute)),
        channel=draw(st.sampled_from(Channel)),
        worry_categories=draw(st.lists(st.sampled_from([*WORRY_WORDS, "not-a-category"]), max_size=3)),
        worry_details=draw(MAYBE_TEXT | st.text(alphabet="ab <&", min_size=80, max_size=200)),
        flagged=draw(st.booleans()),
        unread_reply=draw(st.booleans()),
        escalation_paused_until=draw(st.none() | st.sampled_from([NOW - timedelta(minutes=1), NOW + timedelta(1)])),
        claimed_by_name=draw(MAYBE_TEXT),
        target_minutes=draw(st.none() | st.integers(1, 600)),
        text_words=draw(TEXT),
        arrival=draw(st.booleans()),
        alert_failed=draw(st.booleans()),
        linked_to=draw(MAYBE_TEXT),
        interpreter_added=draw(st.booleans()),
    )


def concern_url(reference: str) -> str:
    return "/triage/c/" + reference


@given(st.lists(rows(), max_size=4))
def test_the_rows_built_in_python_are_the_rows_the_template_drew(app, given_rows):
    with app.test_request_context("/triage/"):
        template = app.jinja_env.from_string(REFERENCE_ROW)
        drawn = template.render(rows=given_rows, now=NOW, concern_url=concern_url)
        assert str(queue_rows(given_rows, NOW, concern_url)) == drawn
