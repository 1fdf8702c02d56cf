"""Small helpers the fault tests share: raising calls, claiming them, and reading what happened."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tests.conftest import mobile
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, CallerRoute, Channel, Concern, Message, SendState, SpokeToWard, User
from tracker.services.concerns import triage
from tracker.services.concerns.intake import Intake, Source, raise_concern
from tracker.services.records import audit


@dataclass(frozen=True)
class Raised:
    id: int
    reference: str
    family_number: str


def raise_calls(app, ward_id: int, count: int, first: int = 0) -> list[Raised]:
    """`count` concerns from different families on different tablets, each with their own mobile
    (so each gets its own receipt), committed one by one as the public form does."""
    raised = []
    for n in range(first, first + count):
        number = f"+4474001234{n:02d}"
        intake = Intake(
            ward_id=ward_id,
            submission_id=f"fault-{n:04d}".ljust(24, "x"),
            caller_route=CallerRoute.FAMILY,
            channel=Channel.OWN_DEVICE,
            worry_categories=("breathing",),
            worry_details=f"Breathing fast ({n})",
            patient_name=f"Patient {n}",
            caller_name=f"Caller {n}",
            callback=mobile(number),
            sms_consent=True,
            spoke_to_ward=SpokeToWard.YES,
        )
        with app.app_context(), write_intent():
            outcome = raise_concern(
                intake, Source(device_id=f"tablet-{n}", address=f"10.0.1.{n}"), audit.Actor.public()
            )
            db.session.commit()
            raised.append(Raised(outcome.concern_id, outcome.reference, number))
    return raised


def claim(app, concern_id: int, user_id: int) -> None:
    with app.app_context(), write_intent():
        triage.claim(concern_id, db.session.get(User, user_id))
        db.session.commit()


def messages(app, concern_id: int | None = None) -> list[Message]:
    with app.app_context():
        query = select(Message).order_by(Message.id)
        if concern_id is not None:
            query = query.where(Message.concern_id == concern_id)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        db.session.rollback()
    return rows


def concern(app, concern_id: int) -> Concern:
    with app.app_context():
        row = db.session.get(Concern, concern_id)
        db.session.expunge(row)
        db.session.rollback()
    return row


def audit_changes(app, action: str, concern_id: int | None = None) -> list[dict]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        if concern_id is not None:
            query = query.where(AuditEvent.concern_id == concern_id)
        rows = [dict(e.changes or {}, _object_id=e.object_id) for e in db.session.scalars(query)]
        db.session.rollback()
    return rows


def steps_fired(app, concern_id: int) -> list[int]:
    """The escalation positions fired for a concern, in order (the audit trail)."""
    return [c["position"] for c in audit_changes(app, "escalation_step_fired", concern_id)]


def assert_each_accepted_message_reached_twilio_once(rows: list[Message], twilio) -> None:
    """Every message we record as accepted is at the provider exactly once under its SID, and
    the provider has nothing we do not know about: no text or call went twice."""
    at_twilio = twilio.snapshot()
    accepted = [m for m in rows if m.send_state is SendState.ACCEPTED]
    assert sorted(m.provider_sid for m in accepted) == sorted(r.sid for r in at_twilio)
