"""A family's reference, texted again when they ask from their confirmation page (docs/architecture.md#messages):
only where they could be texted in the first place (a number, their consent, a mobile, the trust's decision on
texting relatives), and once per call, so the button cannot be used to send texts to a number again and again."""

from __future__ import annotations

from sqlalchemy import exists, select

from tracker.extensions import db
from tracker.models import Audience, Concern, Message, RecipientKind
from tracker.problems import Problem
from tracker.services.messaging.notifications import FamilyText, family_text_decision, queue_message
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings


class ReferenceTextProblem(Problem):
    """Why the reference cannot be texted again, in words for the family."""


def _key(concern_id: int) -> str:
    return f"concern:{concern_id}:reference_again"


def already_texted_again(concern_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(Message.idempotency_key == _key(concern_id)))))


def may_text_again(concern_id: int) -> bool:
    concern = db.session.get(Concern, concern_id)
    if concern is None or already_texted_again(concern_id):
        return False
    return family_text_decision(concern, current_settings()) is FamilyText.QUEUED


def text_again(concern_id: int) -> None:
    """Queue the reference to the caller's number once more (in the caller's transaction)."""
    concern = db.session.get(Concern, concern_id)
    if concern is None or family_text_decision(concern, current_settings()) is not FamilyText.QUEUED:
        raise ReferenceTextProblem("We cannot text your reference. Please write it down or take a photo of it.")
    assert concern.callback_number is not None  # the decision above needs one
    queued = queue_message(
        concern=concern,
        audience=Audience.FAMILY,
        recipient_kind=RecipientKind.CALLER,
        to_number=concern.callback_number,
        template_id="family_reference",
        variables={"reference": concern.reference, "team_phone": display_phone(concern.team.public_phone)},
        locale=concern.locale,
        idempotency_key=_key(concern.id),
        actor=audit.Actor.public(),
    )
    if queued is None:
        raise ReferenceTextProblem("We have already texted your reference again. Please write it down as well.")
