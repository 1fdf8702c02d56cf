"""The outreach queue (docs/architecture.md#the-queue): the open calls a person may see, in the order that never
hides a new one, the calls closed recently, and the version its refresh compares. Read with one plain select of the
columns the queue shows (not a Concern with its seventy columns): every clinician's screen reads it every few
seconds.

The order: new calls nobody has opened yet ("New arrival"), newest first, so a call raised now is at the top however
many are open; then the other unclaimed calls, longest waiting first; then the claimed calls by the clinician's
priority and age. A follow-up text (a caller's text after their call ended) stands above them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, ColumnElement, Row, Select, TextClause, any_, bindparam, func, select, text
from sqlalchemy.orm import aliased

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUS_SQL,
    UNREAD_REPLY_SQL,
    Audience,
    CallerRoute,
    Channel,
    Concern,
    ConcernStatus,
    Message,
    SendState,
    SmsOptOut,
    Team,
    User,
    Ward,
)
from tracker.models.outbox import ALERT_FAILURE_STATUSES
from tracker.services import scope
from tracker.services.scope import Reach
from tracker.services.setup.settings import current_settings
from tracker.services.words import NO_WARD_YET, TEXT_STATE_WORDS, caller_text_words


class QueueRow(NamedTuple):
    """One call as the queue shows it."""

    reference: str
    status: ConcernStatus
    priority: int | None
    raised_at: datetime
    ward_name: str  # "Ward not yet known" for a text-in call nobody has placed yet
    bed: str | None
    initials: str  # the patient's initials, so similar rows can be told apart (signed-in staff only)
    caller_route: CallerRoute
    channel: Channel
    worry_categories: list[str]
    worry_details: str | None
    flagged: bool  # flagged_burst or flagged_automated
    unread_reply: bool
    escalation_paused_until: datetime | None
    claimed_by_name: str | None
    target_minutes: int | None  # what "waiting" is measured against (waiting_target)
    text_words: str  # texts to the caller, in words: the latest text's state, or why none can go
    arrival: bool = False  # new, and nobody has opened it yet
    alert_failed: bool = False  # an alert to a clinician for this call failed or went unanswered
    linked_to: str | None = None  # the reference of the call this one is linked to and follows
    interpreter_added: bool = False  # the family said after sending that they need an interpreter (more_details)

    @property
    def follow_up(self) -> bool:
        """The caller texted after the call ended, and no clinician has reopened it or marked it read."""
        return self.unread_reply and self.status in (ConcernStatus.CLOSED, ConcernStatus.CANCELLED)


@dataclass
class Queue:
    open: list[QueueRow]
    recently_closed: list[QueueRow]

    @property
    def new_count(self) -> int:
        """Calls waiting to be claimed (a linked call is claimed with the call it follows)."""
        return sum(1 for row in self.open if row.status is ConcernStatus.NEW and row.linked_to is None)


def waiting_target(status: ConcernStatus, ack_target_minutes: int, review_target_minutes: int) -> int | None:
    """The minutes a call may wait in its state before it is late: to be claimed while new, to be
    reviewed once claimed; None once reviewed or finished (nothing is then waited for)."""
    if status is ConcernStatus.NEW:
        return ack_target_minutes
    if status is ConcernStatus.ACKNOWLEDGED:
        return review_target_minutes
    return None


def _scope(
    user: User, view: str, site_id: int | None, *, open_only: bool = False
) -> list[ColumnElement[bool] | TextClause]:
    conditions: list[ColumnElement[bool] | TextClause] = [text(f"concern.{OPEN_STATUS_SQL}")] if open_only else []
    conditions.append(scope.calls(user))
    if site_id:
        conditions.append(Concern.site_id == site_id)
    if view == "mine":
        conditions.append(Concern.claimed_by_id == user.id)
    elif view == "unclaimed":  # calls to claim: a linked call is claimed with the call it follows
        conditions += [Concern.status == ConcernStatus.NEW, Concern.linked_to_id.is_(None)]
    return conditions


_PRIMARY = aliased(Concern, name="linked_to")


@cache
def _queue_select() -> Select:
    """The queue's columns, with the ward's name, the team's targets and the claimant's name (built
    once: a statement is immutable, each query adds its own conditions to a copy)."""
    return (
        select(
            Concern.id,
            Concern.reference,
            Concern.status,
            Concern.priority,
            Concern.raised_at,
            Ward.name.label("ward_name"),
            Concern.bed,
            Concern.patient_name,
            Concern.caller_route,
            Concern.channel,
            Concern.worry_categories,
            Concern.worry_details,
            Concern.flagged_burst,
            Concern.flagged_automated,
            Concern.unread_reply,
            Concern.interpreter_added_at,
            Concern.escalation_paused_until,
            Concern.first_opened_at,
            Concern.callback_number,
            Concern.callback_textable,
            Concern.sms_consent,
            Concern.safeguarding,
            Concern.local_reason,
            User.display_name.label("claimed_by_name"),
            Team.ack_target_minutes,
            Team.review_target_minutes,
            _PRIMARY.reference.label("linked_to"),
        )
        .select_from(Concern)
        .outerjoin(Ward, Ward.id == Concern.ward_id)  # a text-in call has no ward until a clinician sets it
        .join(Team, Team.id == Concern.team_id)
        .outerjoin(User, User.id == Concern.claimed_by_id)
        .outerjoin(_PRIMARY, _PRIMARY.id == Concern.linked_to_id)
    )


def queue(user: User, view: str = "all", site_id: int | None = None, recent_hours: int = 24) -> Queue:
    """Open calls in the queue's order (the module's docstring), and the calls closed recently. A fixed number of
    queries however many rows (no N+1)."""
    conditions = _scope(user, view, site_id)
    open_rows = db.session.execute(_queue_select().where(*_scope(user, view, site_id, open_only=True))).all()
    finished = Concern.status.in_([ConcernStatus.CLOSED, ConcernStatus.CANCELLED])
    # A text from the caller after the call ended: the call stands with the open ones until a
    # clinician reopens it or marks the text read.
    follow_ups = db.session.execute(
        _queue_select()
        .where(finished, text(f"concern.{UNREAD_REPLY_SQL}"), *conditions)  # says it as the indexes do
        .order_by(Concern.updated_at)
    ).all()
    closed_rows = (
        []
        if view == "unclaimed"
        else db.session.execute(
            _queue_select()
            .where(
                finished,
                Concern.unread_reply.is_(False),
                Concern.updated_at >= utcnow() - timedelta(hours=recent_hours),
                *conditions,
            )
            .order_by(Concern.updated_at.desc())
            .limit(20)
        ).all()
    )
    every = [*follow_ups, *open_rows, *closed_rows]
    texts = _Texts([r.id for r in every], {r.callback_number for r in every if r.callback_number})
    failed = _failed_alerts([r.id for r in open_rows if r.status is ConcernStatus.NEW and r.linked_to is None])
    rows = sorted((_queue_row(r, texts, failed) for r in open_rows), key=_order)
    return Queue([_queue_row(r, texts) for r in follow_ups] + rows, [_queue_row(r, texts) for r in closed_rows])


def team_queue(team_id: int) -> Queue:
    """One team's open calls in the queue's order, for its office display (which shows no name or free text:
    the template leaves them out). No recently closed calls: the display is for what needs doing."""
    open_rows = db.session.execute(
        _queue_select().where(text(f"concern.{OPEN_STATUS_SQL}"), Concern.team_id == team_id)
    ).all()
    texts = _Texts([r.id for r in open_rows], {r.callback_number for r in open_rows if r.callback_number})
    failed = _failed_alerts([r.id for r in open_rows if r.status is ConcernStatus.NEW and r.linked_to is None])
    return Queue(sorted((_queue_row(r, texts, failed) for r in open_rows), key=_order), [])


def team_version(team_id: int) -> str:
    """Changes whenever the team's display would show something different (as queue_version)."""
    stamp = db.session.scalar(select(func.max(Concern.updated_at)).where(Concern.team_id == team_id))
    return f"t{team_id}-{utcnow():%Y%m%d%H}-{stamp.isoformat() if stamp else '-'}"


def _order(row: QueueRow) -> tuple:
    if row.arrival:
        return (0, -row.raised_at.timestamp())
    if row.status is ConcernStatus.NEW:
        return (1, row.linked_to is not None, row.raised_at.timestamp())
    return (2, row.priority is None, row.priority or 0, row.raised_at.timestamp())


def _queue_row(row: Row, texts: _Texts, failed: set[int] | frozenset[int] = frozenset()) -> QueueRow:
    values: dict[str, Any] = row._mapping  # type: ignore[assignment]
    status = values["status"]
    return QueueRow(
        reference=values["reference"],
        status=status,
        priority=values["priority"],
        raised_at=values["raised_at"],
        ward_name=values["ward_name"] or NO_WARD_YET,
        bed=values["bed"],
        initials=initials(values["patient_name"]),
        caller_route=values["caller_route"],
        channel=values["channel"],
        worry_categories=values["worry_categories"] or [],
        worry_details=values["worry_details"],
        flagged=bool(values["flagged_burst"] or values["flagged_automated"]),
        unread_reply=bool(values["unread_reply"]),
        escalation_paused_until=values["escalation_paused_until"],
        claimed_by_name=values["claimed_by_name"],
        target_minutes=waiting_target(status, values["ack_target_minutes"], values["review_target_minutes"]),
        text_words=texts.words(values),
        arrival=status is ConcernStatus.NEW and values["first_opened_at"] is None and values["linked_to"] is None,
        alert_failed=values["id"] in failed,
        linked_to=values["linked_to"],
        interpreter_added=values["interpreter_added_at"] is not None,
    )


def initials(name: str | None) -> str:
    """A patient's initials ("Pat O'Neill-Jones" gives "P O"): enough to tell two rows apart, nothing more."""
    return " ".join(part[0].upper() for part in (name or "").split() if part[0].isalpha())[:8]


def _among(column: Any, values: list) -> ColumnElement[bool]:
    """`column IN (values)`, for the lists of calls and numbers on the queue. On PostgreSQL it is `= ANY(array)`,
    one parameter: the statement's text is then the same whatever the number of calls, so it stays prepared on the
    connection, and SQLAlchemy need not expand and bind some hundreds of parameters on every refresh (that took
    longer than the query)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


class _Texts:
    """What the queue says about texting each caller: the state of the latest text to them, or why none can go
    (two queries for the whole queue)."""

    def __init__(self, concern_ids: list[int], numbers: set[str]):
        self.states = _family_text_states(concern_ids)
        self.opted_out = (
            set(
                db.session.scalars(
                    select(SmsOptOut.number).where(
                        _among(SmsOptOut.number, sorted(numbers)), SmsOptOut.opted_out.is_(True)
                    )
                )
            )
            if numbers
            else set()
        )
        self.relatives_texted = current_settings().text_relatives_allowed

    def words(self, values: Any) -> str:
        state = self.states.get(values["id"])
        return caller_text_words(
            number=values["callback_number"],
            consent=bool(values["sms_consent"]),
            textable=bool(values["callback_textable"]),
            relative=values["caller_route"] in (CallerRoute.FAMILY, CallerRoute.UNKNOWN),
            relatives_texted=self.relatives_texted,
            stopped_by_caller=values["callback_number"] in self.opted_out,
            safeguarding=bool(values["safeguarding"]),
            patient_left=values["local_reason"] is not None,
            latest=TEXT_STATE_WORDS.get(state, state) if state else None,
        )


def _failed_alerts(concern_ids: list[int]) -> set[int]:
    """Unclaimed calls with an alert that failed, was not delivered, or rang out (paging has moved
    on; the queue says so)."""
    if not concern_ids:
        return set()
    return set(
        db.session.scalars(
            select(Message.concern_id)
            .where(
                _among(Message.concern_id, concern_ids),
                Message.audience == Audience.CLINICIAN,
                (Message.send_state == SendState.DEAD) | Message.delivery_status.in_(sorted(ALERT_FAILURE_STATUSES)),
            )
            .distinct()
        )
    )


def _family_text_states(concern_ids: list[int]) -> dict[int, str]:
    if not concern_ids:
        return {}
    rows = db.session.execute(
        select(Message.concern_id, Message.send_state, Message.delivery_status)
        .where(_among(Message.concern_id, concern_ids), Message.audience == Audience.FAMILY)
        .order_by(Message.id)
    ).all()
    states: dict[int, str] = {}
    for concern_id, send_state, delivery in rows:
        assert concern_id is not None  # only messages about these calls were read
        states[concern_id] = delivery if send_state is SendState.ACCEPTED and delivery else send_state.value
    return states


def queue_version(user: User, view: str, site_id: int | None) -> str:
    """Changes whenever anything the queue shows changes: its refresh sends this as an ETag and
    gets 304 Not Modified when nothing has. Every change stamps concern.updated_at, so the latest
    stamp in the person's teams (or site) is enough: one index seek per team, however many calls.
    The hour is included because closed calls leave the list after a day without a change."""
    column = Concern.updated_at
    if scope.reach(user) is Reach.TEAMS:
        stamps = [
            db.session.scalar(select(func.max(column)).where(Concern.team_id == team_id))
            for team_id in sorted(user.team_ids)
        ]
    else:
        stamps = [db.session.scalar(select(func.max(column)).where(Concern.site_id == (user.site_id or -1)))]
    latest = max((stamp for stamp in stamps if stamp is not None), default=None)
    stamp = latest.isoformat() if latest else "-"
    return f"q{user.id}-{view}-{site_id or 0}-{utcnow():%Y%m%d%H}-{stamp}"
