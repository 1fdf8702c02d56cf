"""The life of a concern after it is raised (docs/architecture.md#concerns-and-their-clocks): one service function per transition,
each with its audit row in the same transaction; a forbidden move raises ForbiddenTransition.

Claiming is a conditional UPDATE, so when twenty clinicians press Claim at once exactly one wins
and the others are told who has it. Every later edit carries the version the clinician saw, so a
decision made on a stale page is refused rather than silently overwriting a colleague's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, Select, TextClause, case, exists, false, func, select, text, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from tracker.clock import utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUS_SQL,
    PRIORITIES,
    Audience,
    AuditEvent,
    CallerRoute,
    CallerUpdateMethod,
    CancelKind,
    ChangeInCare,
    Channel,
    Concern,
    ConcernNote,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    ForbiddenTransition,
    Message,
    NoteKind,
    RecipientKind,
    ReviewKind,
    Role,
    SendState,
    Team,
    User,
    Ward,
    next_status,
)
from tracker.models.outbox import ALERT_FAILURE_STATUSES
from tracker.services.concerns.news2 import Score
from tracker.services.messaging.notifications import FamilyText, family_text_decision, queue_message
from tracker.services.paging import escalation
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.reports import report_facts
from tracker.services.setup.settings import current_settings

NOTE_LIMIT = 4000

# The canned texts staff may send a caller: files in templates/sms/, no free text (docs/architecture.md#messages).
CALLER_UPDATES = {
    "update_team_coming": "The team is coming to see the patient",
    "update_team_will_call": "The team will phone you soon",
    "update_review_done": "The team has seen the patient",
    "update_please_call": "Please phone the team",
}


class AlreadyClaimed(Exception):
    def __init__(self, concern: Concern):
        name = concern.claimed_by.display_name if concern.claimed_by else "another clinician"
        super().__init__(f"{name} has already claimed this call.")
        self.concern = concern


class StaleVersion(Exception):
    """The concern changed after the page was opened; nothing was saved."""

    def __init__(self, concern: Concern):
        super().__init__("This call has changed since you opened it. Check what changed, then try again.")
        self.concern = concern


class TriageProblem(ValueError):
    """The request cannot be carried out as given; the message says why in plain English."""


# --- reading -------------------------------------------------------------------------------------


def visible_concerns(user: User) -> Select[Concern]:
    """The concerns this user may open: outreach their teams' calls, managers their site's."""
    query = select(Concern)
    if user.role is Role.OUTREACH:
        return query.where(Concern.team_id.in_(user.team_ids or {-1}))
    if user.role is Role.MANAGER:
        return query.where(Concern.site_id == (user.site_id or -1))
    return query.where(false())


def find_visible(user: User, reference: str) -> Concern | None:
    """The concern with this reference if the user may see it; None (so a 404) otherwise.
    Whoever was paged for a call (a secondary from another team, a site manager) may open it
    too (docs/architecture.md#paging)."""
    eager = (
        joinedload(Concern.ward),
        joinedload(Concern.site),
        joinedload(Concern.team),
        joinedload(Concern.claimed_by),
    )
    concern = db.session.scalar(visible_concerns(user).where(Concern.reference == reference).options(*eager))
    if concern is None and user.role in (Role.OUTREACH, Role.MANAGER):
        concern = db.session.scalar(
            select(Concern)
            .where(
                Concern.reference == reference,
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
    ward_name: str
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


@dataclass
class Queue:
    open: list[QueueRow]
    recently_closed: list[QueueRow]

    @property
    def new_count(self) -> int:
        return sum(1 for row in self.open if row.status is ConcernStatus.NEW)


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
    if user.role is Role.OUTREACH:
        conditions.append(Concern.team_id.in_(user.team_ids or {-1}))
    else:
        conditions.append(Concern.site_id == (user.site_id or -1))
    if site_id:
        conditions.append(Concern.site_id == site_id)
    if view == "mine":
        conditions.append(Concern.claimed_by_id == user.id)
    elif view == "unclaimed":
        conditions.append(Concern.status == ConcernStatus.NEW)
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
        )
        .select_from(Concern)
        .join(Ward, Ward.id == Concern.ward_id)
        .join(Team, Team.id == Concern.team_id)
        .outerjoin(User, User.id == Concern.claimed_by_id)
    )


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
    closed_rows = (
        []
        if view == "unclaimed"
        else db.session.execute(
            _queue_select()
            .where(
                Concern.status.in_([ConcernStatus.CLOSED, ConcernStatus.CANCELLED]),
                Concern.updated_at >= utcnow() - timedelta(hours=recent_hours),
                *scope,
            )
            .order_by(Concern.updated_at.desc())
            .limit(20)
        ).all()
    )
    texts = _family_text_states([r[0] for r in [*open_rows, *closed_rows]])
    failed = _failed_alerts([r[0] for r in open_rows if r[2] is ConcernStatus.NEW])
    return Queue([_queue_row(r, texts, failed) for r in open_rows], [_queue_row(r, texts) for r in closed_rows])


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
    ) = row
    return QueueRow(
        reference,
        status,
        priority,
        raised_at,
        ward_name,
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
    if user.role is Role.OUTREACH:
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


def caller_replies(concern: Concern) -> list[ConcernNote]:
    """Texts the caller sent back, newest first."""
    return list(
        db.session.scalars(
            select(ConcernNote)
            .where(ConcernNote.concern_id == concern.id, ConcernNote.kind == NoteKind.CALLER_REPLY)
            .order_by(ConcernNote.id.desc())
        )
    )


def mark_replies_read(concern_id: int) -> None:
    """A clinician opened the call: its new-reply flag goes (a plain UPDATE, so nobody's open
    page becomes stale)."""
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern_id)
        .values(unread_reply=False, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Paging:
    """Where an unclaimed call's alerts stand, for the concern page."""

    step_label: str | None  # the step last paged
    next_at: datetime | None
    paused_until: datetime | None


def paging_state(concern: Concern) -> Paging | None:
    if concern.status is not ConcernStatus.NEW or not concern.escalation_plan:
        return None
    position = concern.escalation_position - 1
    step = escalation.step_at(concern.escalation_plan, position) if position >= 0 else None
    now = utcnow()
    paused = (
        concern.escalation_paused_until
        if concern.escalation_paused_until and concern.escalation_paused_until > now
        else None
    )
    return Paging(step["label"] if step else None, concern.next_escalation_at, paused)


def messages_for(concern: Concern) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.concern_id == concern.id).order_by(Message.id)))


def team_clinicians(concern: Concern) -> list[User]:
    """Active outreach clinicians of the concern's team (for hand over)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.OUTREACH, User.active.is_(True), User.teams.any(id=concern.team_id))
            .order_by(User.display_name)
        )
    )


# --- changing ------------------------------------------------------------------------------------


def _locked(concern_id: int, expected_version: int | None) -> Concern:
    concern = db.session.get(Concern, concern_id, with_for_update=True, populate_existing=True)
    if concern is None:
        raise LookupError(concern_id)
    if expected_version is not None and concern.version != expected_version:
        raise StaleVersion(concern)
    return concern


def _require_claimant(concern: Concern, user: User, action: str) -> None:
    if concern.claimed_by_id != user.id:
        who = concern.claimed_by.display_name if concern.claimed_by else "nobody"
        raise TriageProblem(
            f"Only the clinician who has this call can {action}. It is with {who}: claim it or "
            "ask them to hand it over."
        )


def _note(concern: Concern, user: User, kind: NoteKind, text: str) -> ConcernNote:
    text = (text or "").strip()
    if not text:
        raise TriageProblem("Give a reason")
    if len(text) > NOTE_LIMIT:
        raise TriageProblem(f"Keep it to {NOTE_LIMIT} characters or fewer")
    note = ConcernNote(concern_id=concern.id, author_id=user.id, kind=kind, text=text, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    return note


def _record(action: str, user: User, concern: Concern, **changes: Any) -> None:
    audit.record(
        action,
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes=changes,
    )


def _cancel_pending_alerts(concern: Concern, user: User, reason: str) -> None:
    """Once someone has the call, alerts still waiting to go are not wanted (docs/architecture.md#paging)."""
    waiting = db.session.scalars(
        select(Message).where(
            Message.concern_id == concern.id,
            Message.audience == Audience.CLINICIAN,
            Message.send_state.in_([SendState.PENDING, SendState.UNKNOWN]),
        )
    ).all()
    for message in waiting:
        message.send_state = SendState.CANCELLED
        audit.record(
            "message_cancelled",
            audit.Actor.user(user.id),
            object_type="message",
            object_id=message.id,
            concern_id=concern.id,
            changes={"reason": reason},
        )


def claim(concern_id: int, user: User) -> Concern:
    """First claim wins (a conditional UPDATE); a later one raises AlreadyClaimed naming who has it."""
    now = utcnow()
    won = execute_dml(
        update(Concern)
        .where(Concern.id == concern_id, Concern.status == ConcernStatus.NEW)
        .values(
            status=ConcernStatus.ACKNOWLEDGED,
            claimed_by_id=user.id,
            version=Concern.version + 1,
            acknowledged_at=func.coalesce(Concern.acknowledged_at, now),
            updated_at=now,
            **escalation.stop_values(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    concern = db.session.get_one(Concern, concern_id, populate_existing=True)
    if won:
        _start_review_clock(concern, now)
    if not won:
        if concern.status in (ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED):
            raise AlreadyClaimed(concern)
        raise ForbiddenTransition("claim", concern.status)
    _record("claimed", user, concern, status=concern.status.value)
    _cancel_pending_alerts(concern, user, "claimed")
    return concern


def _start_review_clock(concern: Concern, now: datetime) -> None:
    """Once claimed, the review is due by the team's target: the worker reminds the claimant,
    then tells the next tier (never taking the call away)."""
    values = escalation.acknowledged_values(concern.raised_at, concern.team.review_target_minutes, now)
    # The first claim's duration (a claim after a release keeps the first acknowledged_at).
    values.update(report_facts.clock_values("acknowledged_at", concern.acknowledged_at, concern.raised_at))
    db.session.execute(
        update(Concern).where(Concern.id == concern.id).values(**values).execution_options(synchronize_session=False)
    )
    for field, value in values.items():
        set_committed_value(concern, field, value)


def release(concern_id: int, user: User, reason: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "release")
    _require_claimant(concern, user, "release it")
    note = _note(concern, user, NoteKind.RELEASE_REASON, reason)
    concern.status = target
    concern.claimed_by_id = None
    # Back in the queue: paging carries on from where it stopped.
    for field, value in {**escalation.resume_values(utcnow()), "next_review_nudge_at": None}.items():
        setattr(concern, field, value)
    _record("released", user, concern, note_id=note.id, status=concern.status.value)
    return concern


def hand_over(concern_id: int, user: User, to_user_id: int, reason: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    next_status(concern.status, "hand_over")
    _require_claimant(concern, user, "hand it over")
    colleague = next((c for c in team_clinicians(concern) if c.id == to_user_id), None)
    if colleague is None or colleague.id == user.id:
        raise TriageProblem("Choose another clinician in this call's team")
    note = _note(concern, user, NoteKind.HAND_OVER_REASON, reason)
    concern.claimed_by_id = colleague.id
    _record("handed_over", user, concern, to_user_id=colleague.id, note_id=note.id)
    return concern


def set_priority(concern_id: int, user: User, priority: int | None, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    if not concern.is_open:
        raise TriageProblem(f"This call is {concern.status.value}: only an open call has a priority.")
    if priority is not None and priority not in PRIORITIES:
        raise TriageProblem("Choose a priority from the list")
    concern.priority = priority
    _record("priority_set", user, concern, priority=priority)
    return concern


def record_review(
    concern_id: int, user: User, *, kind: ReviewKind, findings: str, news2: Score | None, version: int | None
) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "record_review")
    _require_claimant(concern, user, "record the review")
    note = _note(concern, user, NoteKind.FINDINGS, findings) if findings.strip() else None
    if note is None:
        raise TriageProblem("Write what you found")
    now = utcnow()
    concern.status = target
    concern.next_review_nudge_at = None
    concern.review_kind = kind
    concern.reviewed_at = concern.reviewed_at or now
    if news2 is not None:
        concern.news2_total, concern.news2_scale = news2.total, news2.scale
        concern.news2_response, concern.news2_parameters = news2.response.value, dict(news2.parameters)
    _record(
        "review_recorded",
        user,
        concern,
        review_kind=kind.value,
        note_id=note.id,
        news2_total=news2.total if news2 else None,
        news2_scale=news2.scale if news2 else None,
    )
    return concern


@dataclass(frozen=True)
class Coding:
    """The outcome coding of docs/architecture.md#concerns-and-their-clocks, checked by `check()`."""

    concern_type: ConcernType
    clinical_review_needed: bool
    deterioration_outcome: DeteriorationOutcome | None = None
    change_in_care: tuple[ChangeInCare, ...] = ()
    caller_update_method: CallerUpdateMethod | None = None
    caller_updated_at: datetime | None = None

    def check(self, concern: Concern) -> None:
        if self.concern_type is ConcernType.ACUTE_DETERIORATION:
            if not self.clinical_review_needed:
                raise TriageProblem("An acute deterioration always needs a clinical review")
            if self.deterioration_outcome is None:
                raise TriageProblem("Choose what happened for this acute deterioration")
        elif self.deterioration_outcome is not None:
            raise TriageProblem("Only an acute deterioration has an escalation outcome")
        if (self.deterioration_outcome is DeteriorationOutcome.CHANGE_IN_CARE) != bool(self.change_in_care):
            raise TriageProblem("Choose what changed in the patient's care (and only for a change in care)")
        if self.caller_update_method is None:
            raise TriageProblem("Say how the caller was updated, or that they could not be contacted")
        if self.caller_update_method is not CallerUpdateMethod.COULD_NOT_CONTACT:
            when = self.caller_updated_at
            if when is None or when > utcnow() + timedelta(minutes=1) or when < concern.raised_at:
                raise TriageProblem(
                    "The time the caller was updated must be after the call was raised, and not in the future"
                )


def _apply_coding(concern: Concern, coding: Coding) -> None:
    concern.next_review_nudge_at = None
    concern.concern_type = coding.concern_type
    concern.clinical_review_needed = coding.clinical_review_needed
    concern.deterioration_outcome = coding.deterioration_outcome
    concern.change_in_care = [c.value for c in coding.change_in_care]
    concern.caller_update_method = coding.caller_update_method
    if coding.caller_update_method is not CallerUpdateMethod.COULD_NOT_CONTACT:
        concern.caller_updated_at = coding.caller_updated_at
    concern.closed_at = utcnow()


def _coding_changes(coding: Coding) -> dict:
    return {
        "concern_type": coding.concern_type.value,
        "clinical_review_needed": coding.clinical_review_needed,
        "deterioration_outcome": coding.deterioration_outcome.value if coding.deterioration_outcome else None,
        "change_in_care": [c.value for c in coding.change_in_care],
        "caller_update_method": coding.caller_update_method.value if coding.caller_update_method else None,
    }


def close(concern_id: int, user: User, coding: Coding, summary: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "close")
    _require_claimant(concern, user, "close it")
    coding.check(concern)
    note = _note(concern, user, NoteKind.CLOSE_SUMMARY, summary) if summary.strip() else None
    concern.status = target
    _apply_coding(concern, coding)
    _record("closed", user, concern, note_id=note.id if note else None, **_coding_changes(coding))
    return concern


def close_without_review(concern_id: int, user: User, coding: Coding, reason: str, version: int | None) -> Concern:
    """Only for calls coded "no clinical review needed" (e.g. a parking question signposted to
    PALS), so the national "needed a clinical review" count stays true."""
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "close_without_review")
    _require_claimant(concern, user, "close it")
    if coding.clinical_review_needed:
        raise TriageProblem("A call that needed a clinical review must have its review recorded before it is closed")
    coding.check(concern)
    note = _note(concern, user, NoteKind.CLOSE_SUMMARY, reason)
    concern.status = target
    _apply_coding(concern, coding)
    _record("closed_without_review", user, concern, note_id=note.id, **_coding_changes(coding))
    return concern


def cancel(
    concern_id: int,
    user: User,
    kind: CancelKind,
    reason: str,
    version: int | None,
    duplicate_of_reference: str | None = None,
) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "cancel")
    original = None
    if kind is CancelKind.DUPLICATE:
        original = find_visible(user, (duplicate_of_reference or "").strip().upper())
        if original is None or original.id == concern.id:
            raise TriageProblem("Give the reference of the call this one repeats")
    note = _note(concern, user, NoteKind.CANCEL_REASON, reason)
    concern.status = target
    concern.next_review_nudge_at = None
    for field, value in escalation.stop_values().items():
        setattr(concern, field, value)
    concern.cancel_kind = kind
    concern.duplicate_of_id = original.id if original else None
    _record(
        "cancelled", user, concern, cancel_kind=kind.value, duplicate_of_id=concern.duplicate_of_id, note_id=note.id
    )
    _cancel_pending_alerts(concern, user, "cancelled")
    return concern


def reopen(concern_id: int, user: User, reason: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "reopen")
    note = _note(concern, user, NoteKind.REOPEN_REASON, reason)
    concern.status = target
    concern.claimed_by_id = user.id
    concern.closed_at = None
    _start_review_clock(concern, utcnow())
    _record("reopened", user, concern, note_id=note.id, status=concern.status.value)
    return concern


def add_note(concern_id: int, user: User, text: str) -> ConcernNote:
    concern = db.session.get_one(Concern, concern_id)
    if not (text or "").strip():
        raise TriageProblem("Write the note")
    note = _note(concern, user, NoteKind.NOTE, text)
    _record("note_added", user, concern, note_id=note.id)
    return note


def update_caller(concern_id: int, user: User, template_id: str) -> Message | None:
    """Send the caller one of the canned texts, through the outbox (None if it is there already)."""
    if template_id not in CALLER_UPDATES:
        raise TriageProblem("Choose one of the messages")
    concern = db.session.get_one(Concern, concern_id)
    decision = family_text_decision(concern, current_settings())
    if decision is not FamilyText.QUEUED:
        raise TriageProblem(CANNOT_TEXT[decision])
    assert concern.callback_number is not None  # family_text_decision queues nothing without one
    count = db.session.execute(
        select(func.count(Message.id)).where(Message.concern_id == concern.id, Message.template_id.in_(CALLER_UPDATES))
    ).scalar_one()
    message = queue_message(
        concern=concern,
        audience=Audience.FAMILY,
        recipient_kind=RecipientKind.CALLER,
        to_number=concern.callback_number,
        template_id=template_id,
        variables={"reference": concern.reference, "team_phone": display_phone(concern.team.public_phone)},
        locale=concern.locale,
        idempotency_key=f"concern:{concern.id}:caller_update:{count + 1}",
        actor=audit.Actor.user(user.id),
    )
    touch(concern.id)
    return message


def touch(concern_id: int) -> None:
    """Mark the concern as changed for the queue, without counting as an edit (no version bump,
    so nobody's open form goes stale because a text was sent)."""
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


CANNOT_TEXT = {
    FamilyText.NO_NUMBER: "The caller gave no phone number.",
    FamilyText.NO_CONSENT: "The caller did not agree to text messages.",
    FamilyText.NOT_TEXTABLE: "The caller's number cannot receive texts (not a mobile in an allowed country).",
    FamilyText.RELATIVES_NOT_TEXTED: "This trust does not text relatives.",
}
