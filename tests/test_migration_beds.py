"""Migration 0024 (beds as rows): each line of a ward's old newline list becomes a bed row, in order, and
downgrading rebuilds the list from the beds still in use (SQLite here, PostgreSQL too with TEST_DATABASE_URL)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import make_config
from tracker.extensions import db

LISTS = {
    1: "Bay 1\nBay 2\nSide room 1",
    2: None,
    # As typed by hand: blank lines, spaces, Windows line ends and a repeat (the form offered it once).
    3: "\n  Bay A \r\nBay B\n\nBay A\nBay C\n",
}


def insert_wards() -> None:
    for statement in (
        "INSERT INTO site (id, code, name, active) VALUES (1, 's', 'Site', true)",
        "INSERT INTO team (id, code, site_id, name, population, public_phone, ack_target_minutes, "
        "review_target_minutes, active) VALUES (1, 't', 1, 'Team', 'adult', '+442079460101', 5, 30, true)",
    ):
        db.session.execute(text(statement))
    for ward_id, labels in LISTS.items():
        db.session.execute(
            text(
                "INSERT INTO ward (id, code, name, site_id, team_id, population, kiosk_default, bed_labels) "
                "VALUES (:id, :code, 'Ward', 1, 1, 'adult', false, :labels)"
            ),
            {"id": ward_id, "code": f"w{ward_id}", "labels": labels},
        )
    db.session.commit()


def beds() -> list[tuple]:
    return [
        tuple(row)
        for row in db.session.execute(
            text("SELECT ward_id, label, position, retired_at FROM bed ORDER BY ward_id, position, id")
        )
    ]


def test_upgrading_makes_each_line_a_bed_in_order_and_downgrading_rebuilds_the_list(empty_database_url, build_app):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0023")
        insert_wards()
        db.session.remove()

        upgrade(revision="0024")
        assert beds() == [
            (1, "Bay 1", 0, None),
            (1, "Bay 2", 1, None),
            (1, "Side room 1", 2, None),
            (3, "Bay A", 0, None),
            (3, "Bay B", 1, None),
            (3, "Bay C", 2, None),
        ]
        assert "bed_labels" not in {column["name"] for column in inspect(db.engine).get_columns("ward")}
        # Ward 1's second bed is relabelled and its third retired; a retired bed has no place in the old list.
        db.session.execute(text("UPDATE bed SET label = 'Bay 2A' WHERE ward_id = 1 AND position = 1"))
        db.session.execute(text("UPDATE bed SET retired_at = '2026-12-04 09:00:00' WHERE label = 'Side room 1'"))
        db.session.execute(text("UPDATE bed SET position = 5 WHERE label = 'Bay A'"))
        db.session.commit()
        db.session.remove()

        downgrade(revision="0023")
        lists = dict(db.session.execute(text("SELECT id, bed_labels FROM ward ORDER BY id")).all())
        assert lists == {1: "Bay 1\nBay 2A", 2: None, 3: "Bay B\nBay C\nBay A"}
        assert "bed" not in inspect(db.engine).get_table_names()
        db.session.remove()

        upgrade()
        assert [(ward_id, label) for ward_id, label, _, _ in beds()][:2] == [(1, "Bay 1"), (1, "Bay 2A")]
        db.session.remove()
        db.engine.dispose()
