""" "Test the rota": a test text to each number on call for a team now, and who got it.

Each test is a run with its own id; its texts are ordinary outbox messages (so they go through
the same worker, provider and delivery reports as a real alert), found again by their keys."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Audience, Message, RecipientKind, Team, Tier, User
from tracker.services.messaging.notifications import MessageRow, insert_messages, prepare_message
from tracker.services.paging import rota
from tracker.services.records import audit

TEMPLATE = "rota_test"


@dataclass(frozen=True)
class Holder:
    """One place on call: who holds it, at which tier."""

    user_id: int | None
    name: str
    tier: Tier


@dataclass(frozen=True)
class Result:
    holders: tuple[Holder, ...]  # every place on call at this number (texted once), or the one person with none
    number: str | None  # None: on call but no usable mobile, so nothing was sent
    message: Message | None

    @property
    def shared(self) -> bool:
        return len(self.holders) > 1

    def people(self) -> list[tuple[str, list[Tier]]]:
        """Each person behind this number with the tiers they hold, in rota order."""
        found: dict[int | None, tuple[str, list[Tier]]] = {}
        for holder in self.holders:
            found.setdefault(holder.user_id, (holder.name, []))[1].append(holder.tier)
        return list(found.values())

    @property
    def outcome(self) -> str:
        """received, sent, waiting, failed or not_sent (for the results page)."""
        if self.message is None:
            return "not_sent"
        message = self.message
        if message.send_state.value in ("dead", "cancelled") or message.delivery_status in {"undelivered", "failed"}:
            return "failed"
        if message.delivery_status == "delivered":
            return "received"
        if message.send_state.value == "accepted":
            return "sent"
        return "waiting"

    @property
    def settled(self) -> bool:
        """Whether this row has its final result: a text still on its way, or sent with no delivery report
        yet, has not."""
        return self.outcome in ("received", "failed", "not_sent")


def _key(team: Team, run: str) -> str:
    return f"rota-test:{team.id}:{run}:"


def start(team: Team, user: User) -> str:
    """Queue one test text to each number on call for the team now: a number several places on the rota share
    (a duty phone handed between people, one person in two tiers) gets one text, which names them all in its
    variables for the results page. Returns the run's id."""
    run = secrets.token_hex(4)
    actor = audit.Actor.user(user.id)
    places = [person for tier_people in rota.on_call(team.id).values() for person in tier_people]
    by_number: dict[str, list[rota.OnCall]] = {}
    for person in places:
        if person.mobile is not None:  # can_be_alerted
            by_number.setdefault(person.mobile, []).append(person)
    rows: list[MessageRow] = []
    for number, holders in by_number.items():
        first = holders[0]
        row = prepare_message(
            concern_id=None,
            audience=Audience.CLINICIAN,
            recipient_kind=RecipientKind.USER,
            recipient_user_id=first.user_id,
            to_number=number,
            template_id=TEMPLATE,
            variables={
                "team": team.name[:60],
                "tier": first.tier.value,
                "holders": [[holder.user_id, holder.tier.value] for holder in holders],
            },
            locale=current_app.config["BABEL_DEFAULT_LOCALE"],
            idempotency_key=f"{_key(team, run)}{first.user_id}:{first.tier.value}",
            new_key=True,
        )
        if row is not None:  # always so: the run's keys are new
            rows.append(row)
    insert_messages(rows, actor)
    audit.record(
        "rota_tested",
        actor,
        object_type="team",
        object_id=team.id,
        changes={
            "run": run,
            "places": len(places),
            "texts": len(rows),
            "shared_numbers": sum(1 for holders in by_number.values() if len(holders) > 1),
        },
    )
    return run


def results(team: Team, run: str) -> list[Result]:
    """What happened to each text of a run, with the people on call now who could not be sent one."""
    messages = db.session.scalars(
        select(Message).where(Message.idempotency_key.startswith(_key(team, run))).order_by(Message.id)
    ).all()
    if not messages:
        return []
    # A run from before texts were shared names only its recipient.
    held = {
        m.id: m.variables.get("holders") or [[m.recipient_user_id, m.variables.get("tier", "primary")]]
        for m in messages
    }
    user_ids = {user_id for pairs in held.values() for user_id, _tier in pairs}
    # Keyed by int | None so a message to no user (None) is looked up as "Unknown".
    names: dict[int | None, str] = {
        u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(user_ids or {-1})))
    }
    found = [
        Result(
            tuple(Holder(user_id, names.get(user_id, "Unknown"), Tier(tier)) for user_id, tier in held[m.id]),
            m.to_number,
            m,
        )
        for m in messages
    ]
    sent_to = {(user_id, tier) for pairs in held.values() for user_id, tier in pairs}
    for people in rota.on_call(team.id).values():
        for person in people:
            if not person.can_be_alerted and (person.user_id, person.tier.value) not in sent_to:
                found.append(Result((Holder(person.user_id, person.name, person.tier),), None, None))
    return found


def settled(found: list[Result]) -> bool:
    """Whether every row has its final result, so the page stops refreshing itself."""
    return all(result.settled for result in found)


def version(found: list[Result]) -> str:
    """A short digest of everything the results page shows: its refresh answers 304 while it is the same."""
    shown = [
        [
            result.number,
            [[holder.user_id, holder.name, holder.tier.value] for holder in result.holders],
            result.outcome,
            result.message.error_reason if result.message is not None else None,
        ]
        for result in found
    ]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:20]


def run_exists(team: Team, run: str) -> bool:
    return (
        len(run) == 8
        and all(c in "0123456789abcdef" for c in run)
        and db.session.scalar(select(Message.id).where(Message.idempotency_key.startswith(_key(team, run))).limit(1))
        is not None
    )
