"""Reading the audit trail (docs/architecture.md#audit): the managers' search, page by page, and whether the hash
chain verifies.

Search pages are keyset-paginated, newest first, on (occurred_at, id): each page is one index
range read of PAGE_SIZE + 1 rows, however long the log. (Events are appended with the chain head
locked, so their times follow their ids.)

Checking the chain. `verify_chain` walks every event: on a million events that takes seconds,
too long for a page. So each check is recorded as a checkpoint: `flask tracker verify-audit`
(run daily, README) walks the whole chain and records a full checkpoint; the audit viewer
continues from the last good checkpoint, first making sure the event it ended on still has the
hash it had then (so a rewritten chain cannot pass), and checks at most
INCREMENTAL_LIMIT newer events per page view. The page says when the whole chain was last
checked, and how many events the newest check covered; an edit to an old event in the middle
of the chain is found by the next full check, and the page warns when that is overdue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, literal_column, select, tuple_
from sqlalchemy.orm import Session, aliased

from tracker.clock import utcnow
from tracker.db import read_snapshot
from tracker.extensions import db
from tracker.models import GENESIS_HASH, AuditCheckpoint, AuditEvent, Concern, User
from tracker.services.records.audit import ChainReport, Walk, event_hash, head_of_chain, walk
from tracker.services.records.audit_scope import ACCOUNT_OBJECT, at_site

PAGE_SIZE = 50
INCREMENTAL_LIMIT = 100_000
FULL_CHECK_DUE = timedelta(hours=26)  # a daily check, with an hour or two of slack


# --- searching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditSearch:
    """What a manager searches for. Times are UTC instants (start included, end excluded)."""

    site_id: int
    concern_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    before_id: int | None = None  # the last row of the previous page
    accounts_only: bool = False  # only staff accounts' joiners, movers and leavers (ACCOUNT_OBJECT)


@dataclass
class AuditRow:
    event: AuditEvent
    actor: str
    concern_reference: str | None
    changes: list[tuple[str, str]] = field(default_factory=list)
    subject: str | None = None  # the staff account an event is about, by name and email


# About an account, but not a change to it: left out of the "Staff accounts" filter (the action filter finds them).
NOT_ACCOUNT_CHANGES = ("sign_in_failed",)


@dataclass
class AuditPage:
    rows: list[AuditRow]
    next_before_id: int | None


def _scope(search: AuditSearch, concern: type[Concern]) -> list[ColumnElement[bool]]:
    conditions = [at_site(search.site_id, concern)]
    if search.accounts_only:
        conditions += [AuditEvent.object_type == ACCOUNT_OBJECT, AuditEvent.action.not_in(NOT_ACCOUNT_CHANGES)]
    if search.concern_id is not None:
        conditions.append(AuditEvent.concern_id == search.concern_id)
    if search.user_id is not None:
        conditions += [AuditEvent.actor_id == search.user_id, AuditEvent.actor_type == "user"]
    if search.action is not None:
        conditions.append(AuditEvent.action == search.action)
    if search.start is not None:
        conditions.append(AuditEvent.occurred_at >= search.start)
    if search.end is not None:
        conditions.append(AuditEvent.occurred_at < search.end)
    return conditions


def search(query: AuditSearch) -> AuditPage:
    """One page of events in the manager's scope (events about their site's concerns, and events
    about no concern), newest first."""
    concern = aliased(Concern, name="c")
    conditions = _scope(query, concern)
    # One call's events are few: read them through the concern_id index in id order (the same
    # order, since times follow ids). Otherwise newest first by time, through a time index.
    by_call = query.concern_id is not None
    order = [AuditEvent.id.desc()] if by_call else [AuditEvent.occurred_at.desc(), AuditEvent.id.desc()]
    if query.before_id is not None:
        last = db.session.get(AuditEvent, query.before_id)
        if last is None:
            return AuditPage([], None)
        if by_call:
            conditions.append(AuditEvent.id < last.id)
        else:
            # The plain bound lets both databases read the occurred_at index as a range.
            conditions += [
                AuditEvent.occurred_at <= last.occurred_at,
                tuple_(AuditEvent.occurred_at, AuditEvent.id) < tuple_(last.occurred_at, last.id),
            ]
    rows = db.session.execute(
        select(AuditEvent, concern.reference)
        .outerjoin(concern, concern.id == AuditEvent.concern_id)
        .where(*conditions)
        .order_by(*order)
        .limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    people = _names(
        {event.actor_id for event, _ in rows if event.actor_type == "user"}
        | {event.object_id for event, _ in rows if event.object_type == ACCOUNT_OBJECT}
    )
    page = [
        AuditRow(
            event,
            _actor(event, people),
            reference,
            describe(event.changes),
            people.get(event.object_id) if event.object_type == ACCOUNT_OBJECT else None,
        )
        for event, reference in rows
    ]
    return AuditPage(page, rows[-1][0].id if more else None)


def _actor(event: AuditEvent, people: dict[int | None, str]) -> str:
    if event.actor_type == "user":
        return people.get(event.actor_id, f"user {event.actor_id}")
    words = ACTOR_WORDS.get(event.actor_type, event.actor_type)
    return f"{words} ({event.actor_id})" if event.actor_type == "device" else words


ACTOR_WORDS = {
    "public": "A member of the public",
    "worker": "The message worker",
    "system": "The system",
    "cli": "A command on the server",
    "twilio": "Twilio (the text message service)",
    "device": "An enrolled queue display",
}


# Keyed by int | None, as audit events' actor_id is: the caller looks names up with it.
def _names(user_ids: set[int | None]) -> dict[int | None, str]:
    if not user_ids:
        return {}
    return {
        uid: f"{name} ({email})"
        for uid, name, email in db.session.execute(
            select(User.id, User.display_name, User.email).where(User.id.in_(user_ids))
        )
    }


def describe(changes: dict | None) -> list[tuple[str, str]]:
    """The fields an event changed, as (field, value) in words a person can read."""
    described = []
    for key, value in sorted((changes or {}).items()):
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif value is None:
            text = "not set"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value) or "not set"
        else:
            text = str(value)
        described.append((key.replace("_", " "), text))
    return described


def actions() -> list[str]:
    """The distinct actions in the log, each found with one index seek (a recursive query: a
    plain DISTINCT would read the whole index on a million rows)."""
    step = select(func.min(AuditEvent.action)).where(AuditEvent.action > literal_column("a.action")).scalar_subquery()
    first = select(func.min(AuditEvent.action).label("action")).cte("a", recursive=True)
    found = first.union_all(select(step).where(first.c.action.is_not(None)))
    return [action for action in db.session.scalars(select(found.c.action).where(found.c.action.is_not(None)))]


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()[:254]))


# --- is the chain intact? ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    verified_to_id: int
    head_id: int
    checked_now: int
    last_full: AuditCheckpoint | None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def unchecked(self) -> int:
        return max(0, self.head_id - self.verified_to_id)

    @property
    def full_check_overdue(self) -> bool:
        return self.last_full is None or utcnow() - self.last_full.checked_at > FULL_CHECK_DUE


def _latest(session: Session, *where: ColumnElement[bool]) -> AuditCheckpoint | None:
    return session.scalar(select(AuditCheckpoint).where(*where).order_by(AuditCheckpoint.id.desc()).limit(1))


def check_chain(limit: int | None = None) -> tuple[ChainStatus, AuditCheckpoint | None]:
    """Continue the check from the last good checkpoint (reads only), at most `limit` events
    (default INCREMENTAL_LIMIT). Returns the status and the checkpoint to save (None when nothing
    new was checked), so the caller can save it in a short write transaction of its own.

    Everything is read in one snapshot (`db.read_snapshot`), as `flask tracker verify-audit` reads: events
    the app commits meanwhile are not half seen."""
    with read_snapshot() as session:
        return _check_from_checkpoint(session, limit or INCREMENTAL_LIMIT)


def _check_from_checkpoint(session: Session, limit: int) -> tuple[ChainStatus, AuditCheckpoint | None]:
    last_full = _latest(session, AuditCheckpoint.full.is_(True))
    latest = _latest(session)
    head_id, head_hash = head_of_chain(session)
    if latest is not None and not latest.ok:
        # A break stays reported until a full check finds the chain whole again.
        return ChainStatus(
            False, latest.to_event_id, head_id, 0, last_full, latest.first_broken_id, latest.problem
        ), None
    base = _latest(session, AuditCheckpoint.ok.is_(True))
    after_id, after_hash = (base.to_event_id, base.to_hash) if base else (0, GENESIS_HASH)
    if after_id:
        anchor = session.get(AuditEvent, after_id)
        problem = None
        if anchor is None:
            problem = "the event the last check ended on is missing"
        elif anchor.hash != after_hash or event_hash(anchor) != anchor.hash:
            problem = "the event the last check ended on has changed since"
        if problem:
            status = ChainStatus(False, 0, head_id, 0, last_full, after_id, problem)
            return status, _checkpoint(False, after_id, 0, GENESIS_HASH, 0, after_id, problem)
    result = walk(session, after_id, after_hash, limit)
    if result.ok and result.last_id == head_id and result.last_hash != head_hash:
        result = Walk(
            False,
            result.last_id,
            result.last_hash,
            result.checked,
            head_id,
            "the chain head does not match the last event",
        )
    status = ChainStatus(
        result.ok,
        result.last_id,
        max(head_id, result.last_id),
        result.checked,
        last_full,
        result.broken_id,
        result.problem,
    )
    if result.checked == 0 and result.ok:
        return status, None
    return status, _checkpoint(
        result.ok, after_id + 1, result.last_id, result.last_hash, result.checked, result.broken_id, result.problem
    )


def _checkpoint(
    ok: bool,
    from_id: int,
    to_id: int,
    to_hash: str,
    checked: int,
    broken_id: int | None,
    problem: str | None,
    *,
    full: bool = False,
) -> AuditCheckpoint:
    return AuditCheckpoint(
        checked_at=utcnow(),
        full=full,
        from_event_id=from_id,
        to_event_id=to_id,
        to_hash=to_hash,
        events_checked=checked,
        ok=ok,
        first_broken_id=broken_id,
        problem=problem[:200] if problem else None,
    )


def full_checkpoint(report: ChainReport) -> AuditCheckpoint:
    """The checkpoint for a whole-chain check (`flask tracker verify-audit`): up to the last event it found good,
    never further (events appended since it read were not checked)."""
    return _checkpoint(
        report.ok,
        1,
        report.last_id,
        report.last_hash,
        report.events_checked,
        report.first_broken_id,
        report.problem,
        full=True,
    )
