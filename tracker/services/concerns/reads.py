"""What a clinician sees of the calls (docs/architecture.md#concerns-and-their-clocks): the calls a person may see,
the queue and its version, a call's timeline, the family's replies and who was paged. Reads only: every
change to a call is in `triage.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Row, Select, TextClause, case, exists, func, select, text
from sqlalchemy.orm import aliased, joinedload, selectinload

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUS_SQL,
    OPEN_STATUSES,
    Audience,
    AuditEvent,
    CallerRoute,
    Channel,
    Concern,
    ConcernNote,
    ConcernStatus,
    Message,
    SendState,
    Team,
    User,
    Ward,
)
from tracker.models.outbox import ALERT_FAILURE_STATUSES
from tracker.services import scope
from tracker.services.scope import Permission, Reach
from tracker.services.words import NO_WARD_YET


def visible_concerns(user: User) -> Select[Concern]:
    """The concerns this user may open: outreach their teams' calls, managers their site's."""
    return select(Concern).where(scope.calls(user))


def find_in_reach(user: User, reference: str) -> Concern | None:
    """The concern with this reference if it is among the calls the person's reach covers."""
    return db.session.scalar(visible_concerns(user).where(Concern.reference == reference))


def find_visible(user: User, reference: str) -> Concern | None:
    """The concern with this reference if the user may see it; None (so a 404) otherwise.
    Whoever was alerted for a call may open it too, while their account is active and they are
    still in the call's team (docs/architecture.md#paging): leaving the team ends it."""
    eager = (
        joinedload(Concern.ward),
        joinedload(Concern.site),
        joinedload(Concern.team),
        joinedload(Concern.claimed_by),
    )
    concern = db.session.scalar(visible_concerns(user).where(Concern.reference == reference).options(*eager))
    if concern is None and scope.can(user, Permission.SEE_CALLS) and user.active:
        concern = db.session.scalar(
            select(Concern)
            .where(
                Concern.reference == reference,
                Concern.team_id.in_(user.team_ids or {-1}),
                exists().where(
                    Message.concern_id == Concern.id,
                    Message.recipient_user_id == user.id,
                    Message.audience == Audience.CLINICIAN,
                ),
            )
            .options(*eager)
        )
    return concern


class QueueRow(NamedTuple):
    """One call as the queue shows it. Only the columns the queue needs, read with a plain select
    (not a Concern with its seventy columns): every clinician's screen reads the queue every few
    seconds."""

    reference: str
    status: ConcernStatus
    priority: int | None
    raised_at: datetime
    ward_name: str  # "Ward not yet known" for a text-in call nobody has placed yet
    bed: str | None
    caller_route: CallerRoute
    channel: Channel
    worry_categories: list[str]
    worry_details: str | None
    flagged: bool  # flagged_burst or flagged_automated
    unread_reply: bool
    escalation_paused_until: datetime | None
    claimed_by_name: str | None
    target_minutes: int | None  # what "waiting" is measured against (waiting_target)
    family_text: str | None  # the caller's latest text: state or delivery status, for the queue
    alert_failed: bool = False  # an alert to a clinician for this call failed or went unanswered
    linked_to: str | None = None  # the reference of the call this one is linked to and follows

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
            Ward.name,
            Concern.bed,
            Concern.caller_route,
            Concern.channel,
            Concern.worry_categories,
            Concern.worry_details,
            Concern.flagged_burst,
            Concern.flagged_automated,
            Concern.unread_reply,
            Concern.escalation_paused_until,
            User.display_name,
            Team.ack_target_minutes,
            Team.review_target_minutes,
            _PRIMARY.reference,
        )
        .select_from(Concern)
        .outerjoin(Ward, Ward.id == Concern.ward_id)  # a text-in call has no ward until a clinician sets it
        .join(Team, Team.id == Concern.team_id)
        .outerjoin(User, User.id == Concern.claimed_by_id)
        .outerjoin(_PRIMARY, _PRIMARY.id == Concern.linked_to_id)
    )


_PRIMARY = aliased(Concern, name="linked_to")


def queue(user: User, view: str = "all", site_id: int | None = None, recent_hours: int = 24) -> Queue:
    """Open calls, new first, then the clinician's priority, then the oldest; and the calls closed
    recently. A fixed number of queries however many rows (no N+1)."""
    scope = _scope(user, view, site_id)
    open_rows = db.session.execute(
        _queue_select()
        .where(*_scope(user, view, site_id, open_only=True))
        .order_by(
            case((Concern.status == ConcernStatus.NEW, 0), else_=1),
            Concern.priority.is_(None),
            Concern.priority,
            Concern.raised_at,
        )
    ).all()
    finished = Concern.status.in_([ConcernStatus.CLOSED, ConcernStatus.CANCELLED])
    # A text from the caller after the call ended: the call stands with the open ones until a
    # clinician reopens it or marks the text read.
    follow_ups = db.session.execute(
        _queue_select().where(finished, Concern.unread_reply.is_(True), *scope).order_by(Concern.updated_at)
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
                *scope,
            )
            .order_by(Concern.updated_at.desc())
            .limit(20)
        ).all()
    )
    texts = _family_text_states([r[0] for r in [*follow_ups, *open_rows, *closed_rows]])
    failed = _failed_alerts([r[0] for r in open_rows if r[2] is ConcernStatus.NEW and r[-1] is None])
    return Queue(
        [_queue_row(r, texts) for r in follow_ups] + [_queue_row(r, texts, failed) for r in open_rows],
        [_queue_row(r, texts) for r in closed_rows],
    )


def _queue_row(row: Row, texts: dict[int, str], failed: set[int] | frozenset[int] = frozenset()) -> QueueRow:
    (
        concern_id,
        reference,
        status,
        priority,
        raised_at,
        ward_name,
        bed,
        caller_route,
        channel,
        worry_categories,
        worry_details,
        flagged_burst,
        flagged_automated,
        unread_reply,
        paused_until,
        claimed_by_name,
        ack_target,
        review_target,
        linked_to,
    ) = row
    return QueueRow(
        reference,
        status,
        priority,
        raised_at,
        ward_name or NO_WARD_YET,
        bed,
        caller_route,
        channel,
        worry_categories or [],
        worry_details,
        bool(flagged_burst or flagged_automated),
        bool(unread_reply),
        paused_until,
        claimed_by_name,
        waiting_target(status, ack_target, review_target),
        texts.get(concern_id),
        concern_id in failed,
        linked_to,
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
                Message.concern_id.in_(concern_ids),
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
        .where(Message.concern_id.in_(concern_ids), Message.audience == Audience.FAMILY)
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


def timeline(concern: Concern) -> list[dict]:
    """The concern's story: its audit events and notes, oldest first, with people's names."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.concern_id == concern.id).order_by(AuditEvent.id)
    ).all()
    notes: dict[int | None, ConcernNote] = {  # int | None: looked up with nullable ids and JSON
        note.id: note
        for note in db.session.scalars(
            select(ConcernNote).where(ConcernNote.concern_id == concern.id).options(selectinload(ConcernNote.author))
        )
    }
    people: dict[int | None, str] = {
        user.id: user.display_name
        for user in db.session.scalars(
            select(User).where(User.id.in_({e.actor_id for e in events if e.actor_type == "user"} or {-1}))
        )
    }
    items = []
    last_by_person: dict[int | None, datetime] = {}
    for event in events:
        # Every action is followed by a view of the page it returns to: not worth a line.
        if (
            event.action == "viewed"
            and event.actor_id in last_by_person
            and event.occurred_at - last_by_person[event.actor_id] < timedelta(minutes=5)
        ):
            continue
        if event.actor_type == "user":
            last_by_person[event.actor_id] = event.occurred_at
        note = notes.pop(event.changes.get("note_id"), None) if event.changes else None
        items.append(
            {
                "at": event.occurred_at,
                "action": event.action,
                "changes": event.changes or {},
                "who": people.get(event.actor_id) if event.actor_type == "user" else event.actor_type,
                "note": note,
            }
        )
    return items


def messages_for(concern: Concern) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.concern_id == concern.id).order_by(Message.id)))


def team_clinicians(concern: Concern) -> list[User]:
    """Active outreach clinicians of the concern's team (for hand over)."""
    return list(
        db.session.scalars(
            select(User)
            .where(scope.holders(Permission.WORK_CALLS), User.active.is_(True), User.teams.any(id=concern.team_id))
            .order_by(User.display_name)
        )
    )


WARD_PAGE_DAYS = 7  # closed calls stay on the ward's page this long


def ward_calls(user: User) -> list[Concern]:
    """The ward's own calls for its page: every open one, and those raised in the last week."""
    since = utcnow() - timedelta(days=WARD_PAGE_DAYS)
    return list(
        db.session.scalars(
            select(Concern)
            .where(Concern.ward_id == (user.ward_id or -1))
            .where((Concern.raised_at >= since) | Concern.status.in_(OPEN_STATUSES))
            .options(joinedload(Concern.claimed_by))
            .order_by(Concern.raised_at.desc())
        )
    )
