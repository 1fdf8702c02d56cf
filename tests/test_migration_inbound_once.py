"""Migration 0033 (one received text kept once): the unique index on inbound events' tokens is built over texts that
overlapping deliveries had already kept twice, by clearing the later rows' tokens (nothing received is deleted);
status reports, which share a message's id, are untouched; downgrading drops the index (SQLite here, PostgreSQL too
with TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import make_config
from tracker.extensions import db

TWICE = "SM" + "a" * 32
ONCE = "SM" + "b" * 32
EVENTS = [  # id, kind, token
    (1, "inbound", TWICE),
    (2, "inbound", TWICE),  # the same text, delivered twice at once before the index
    (3, "inbound", ONCE),
    (4, "status", ONCE),
    (5, "status", ONCE),  # a report repeated: kept as received, with its token
    (6, "inbound", None),
    (7, "inbound", TWICE),
]


def insert_event(event_id: int, kind: str, token: str | None) -> None:
    db.session.execute(
        text(
            "INSERT INTO message_event (id, kind, payload, idempotency_token, received_at) "
            "VALUES (:id, :kind, '{}', :token, '2026-12-01 10:00:00')"
        ),
        {"id": event_id, "kind": kind, "token": token},
    )


def tokens() -> list[tuple]:
    return [
        tuple(row) for row in db.session.execute(text("SELECT id, idempotency_token FROM message_event ORDER BY id"))
    ]


def test_upgrading_keeps_the_first_of_each_texts_tokens_and_the_index_then_refuses_a_repeat(
    empty_database_url, build_app
):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0032")
        for event in EVENTS:
            insert_event(*event)
        db.session.commit()
        db.session.remove()

        upgrade(revision="0033")
        assert tokens() == [(1, TWICE), (2, None), (3, ONCE), (4, ONCE), (5, ONCE), (6, None), (7, None)]
        with pytest.raises(IntegrityError):
            insert_event(8, "inbound", ONCE)
        db.session.rollback()
        insert_event(8, "status", TWICE)  # only received texts are held to one
        db.session.commit()
        db.session.remove()

        downgrade(revision="0032")
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("message_event")}
        assert "uq_message_event_inbound_token" not in indexes
        insert_event(9, "inbound", ONCE)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
