"""The texts a daily rollup keeps (docs/architecture.md#daily-rollups): per day, kind of call and audience, how many
texts about the day's calls were sent, accepted, delivered, failed, or refused by the provider as opted out. Whether
a number is opted out now is matched when the dashboard is read (rollup_sums.py: `opted_out_now`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from tracker.extensions import db
from tracker.models import Concern, Message, MessageChannel, SendState

# What a day keeps of its texts, per audience, in this order (dashboard.py: `_sms`, but "opted out" only for the
# provider's opt-out refusal).
TEXT_FIGURES = ("queued", "sent", "delivered", "failed", "refused_opted_out")
OPT_OUT_ERROR = "21610"


def text_figures(send_state: object, delivery_status: str | None, error_code: str | None) -> list[int]:
    """Which of TEXT_FIGURES a text counts towards (1 or 0 each), as the direct count's filters do."""
    state = getattr(send_state, "value", send_state)
    final_failure = state in (SendState.CANCELLED.value, SendState.DEAD.value)
    return [
        1,
        int(state == SendState.ACCEPTED.value),
        int(delivery_status == "delivered"),
        int(state == SendState.DEAD.value or delivery_status in ("undelivered", "failed")),
        int(final_failure and error_code == OPT_OUT_ERROR),
    ]


def count(calls: list[ColumnElement]) -> Iterator[tuple[date, bool, str, list[int]]]:
    """(local day, linked, audience, TEXT_FIGURES) for the texts about the `calls`, from one grouped query."""
    linked = Concern.linked_to_id.is_not(None)
    kinds = (Concern.raised_local_date, linked, Message.audience, Message.send_state)
    rows = db.session.execute(
        select(*kinds, Message.delivery_status, Message.error_code, func.count())
        .join_from(Message, Concern, Concern.id == Message.concern_id)
        .where(*calls, Message.channel == MessageChannel.SMS)
        .group_by(*kinds, Message.delivery_status, Message.error_code)
    )
    row: Any
    for row in rows:
        day, is_linked, audience, state, status, error, texts = row
        figures = [counted * texts for counted in text_figures(state, status, error)]
        yield day, bool(is_linked), str(getattr(audience, "value", audience)), figures
