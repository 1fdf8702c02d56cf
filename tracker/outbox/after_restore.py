"""A database restored from a backup is older than what the provider has (deploy/README.md#restoring).

A text or call that was waiting or being sent when the backup was taken may have gone since; the restored row
still says `pending` or `sending`, and the worker would send it again (a family's receipt twice, a clinician
paged twice for the same step). So every such row becomes `unknown`: the worker looks it up at the provider
first, exactly as after an unclear answer, and sends it only if the provider never had it
(docs/architecture.md#messages)."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Message, SendState
from tracker.services.records import audit

UNFINISHED = (SendState.PENDING, SendState.SENDING)


def recheck_unfinished(actor: audit.Actor) -> int:
    """Mark every pending or leased message `unknown`, each with its audit row, in the current (write)
    transaction. Returns how many. Safe to run twice: the second run finds none."""
    rows = db.session.scalars(
        select(Message).where(Message.send_state.in_(UNFINISHED)).order_by(Message.id).with_for_update()
    ).all()
    for message in rows:
        was = message.send_state.value
        message.send_state = SendState.UNKNOWN
        message.lease_owner = message.lease_until = None
        audit.record(
            "message_recheck_after_restore",
            actor,
            object_type="message",
            object_id=message.id,
            concern_id=message.concern_id,
            changes={"was": was},
        )
    return len(rows)
