""" "Test the rota": a test text to everyone on call for a team now, and who got it.

Each test is a run with its own id; its texts are ordinary outbox messages (so they go through
the same worker, provider and delivery reports as a real alert), found again by their keys."""

from __future__ import annotations

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
class Result:
    name: str
    tier: Tier
    number: str | None  # None: on call but no usable mobile, so nothing was sent
    message: Message | None

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


def _key(team: Team, run: str) -> str:
    return f"rota-test:{team.id}:{run}:"


def start(team: Team, user: User) -> str:
    """Queue a test text to each person on call for the team now. Returns the run's id."""
    run = secrets.token_hex(4)
    actor = audit.Actor.user(user.id)
    rows: list[MessageRow] = []
    people = [person for tier_people in rota.on_call(team.id).values() for person in tier_people]
    for person in people:
        if not person.can_be_alerted:
            continue
        assert person.mobile is not None  # what can_be_alerted means
        row = prepare_message(
            concern_id=None,
            audience=Audience.CLINICIAN,
            recipient_kind=RecipientKind.USER,
            recipient_user_id=person.user_id,
            to_number=person.mobile,
            template_id=TEMPLATE,
            variables={"team": team.name[:60], "tier": person.tier.value},
            locale=current_app.config["BABEL_DEFAULT_LOCALE"],
            idempotency_key=f"{_key(team, run)}{person.user_id}:{person.tier.value}",
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
        changes={"run": run, "people": len(people), "texts": len(rows)},
    )
    return run


def results(team: Team, run: str) -> list[Result]:
    """What happened to each text of a run, with the people on call now who could not be sent one."""
    messages = db.session.scalars(
        select(Message).where(Message.idempotency_key.startswith(_key(team, run))).order_by(Message.id)
    ).all()
    if not messages:
        return []
    # Keyed by int | None so a message to no user (None) is looked up as "Unknown".
    names: dict[int | None, str] = {
        u.id: u.display_name
        for u in db.session.scalars(select(User).where(User.id.in_({m.recipient_user_id for m in messages} or {-1})))
    }
    found = [
        Result(names.get(m.recipient_user_id, "Unknown"), Tier(m.variables.get("tier", "primary")), m.to_number, m)
        for m in messages
    ]
    sent_to = {(m.recipient_user_id, m.variables.get("tier")) for m in messages}
    for people in rota.on_call(team.id).values():
        for person in people:
            if not person.can_be_alerted and (person.user_id, person.tier.value) not in sent_to:
                found.append(Result(person.name, person.tier, None, None))
    return found


def run_exists(team: Team, run: str) -> bool:
    return (
        len(run) == 8
        and all(c in "0123456789abcdef" for c in run)
        and db.session.scalar(select(Message.id).where(Message.idempotency_key.startswith(_key(team, run))).limit(1))
        is not None
    )
