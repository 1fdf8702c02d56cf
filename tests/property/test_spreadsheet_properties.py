"""The spreadsheet rule as properties (docs/architecture.md#testing): no text cell of an export starts with a
character a spreadsheet would run, nothing else about a cell changes, and the PostgreSQL twin gives the same
answers as the Python rule."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from tracker.outbox.inbound import clean_incoming
from tracker.services.records.exports import UTF8_BOM, Column, _csv_stream, _row_transform
from tracker.services.records.spreadsheet import DANGEROUS_FIRST, neutralise, neutralise_sql

# Text that starts with a dangerous character more often than chance would make it.
cells = st.one_of(
    st.text(),
    st.tuples(st.sampled_from(DANGEROUS_FIRST + ("'", " ", "＝", "﹢")), st.text()).map("".join),
)
not_text = st.one_of(
    st.none(), st.integers(), st.floats(allow_nan=False), st.decimals(allow_nan=False), st.dates(), st.booleans()
)


@given(cells)
def test_a_text_cell_never_starts_with_a_character_a_spreadsheet_would_run(cell):
    safe = neutralise(cell)
    assert not safe.startswith(DANGEROUS_FIRST)
    assert safe == cell or (safe == "'" + cell and cell.startswith(DANGEROUS_FIRST))


@given(cells)
def test_the_rule_is_idempotent(cell):
    assert neutralise(neutralise(cell)) == neutralise(cell)


@given(not_text)
def test_numbers_dates_and_nothing_pass_through_unchanged(value):
    assert neutralise(value) is value


COLUMNS = [
    Column("Words", None, "text", {"closed": "Closed", "odd": "=HYPERLINK(1)"}),
    Column("Free text", None, "text"),
    Column("Changes", None, "list", {"oxygen": "Oxygen"}),
    Column("Count", None, "number"),
]


def _stored(cell: str) -> str:
    """Text as the app stores it: every way in cleans it (services/text.py, outbox/inbound.py: clean_incoming),
    so a stored text has no control character but a line feed or a tab. (A bare carriage return would reach a
    csv.writer that ends lines with a line feed unquoted: see docs/architecture.md#testing.)"""
    return clean_incoming(cell)


stored = cells.map(_stored)
rows = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["closed", "odd"]), stored),
        stored,
        st.lists(st.one_of(st.just("oxygen"), stored), max_size=3),
        st.one_of(st.none(), st.integers(-5, 5), st.just(Decimal("1.5")), st.just(date(2026, 1, 2))),
    ),
    max_size=5,
)


@given(rows)
def test_an_export_read_back_has_no_cell_a_spreadsheet_would_run(batch):
    written = b"".join(
        _csv_stream([c.header for c in COLUMNS], iter([batch]), _row_transform(COLUMNS, "UTC", excel=False))
    )
    assert written.startswith(UTF8_BOM)
    read = list(csv.reader(io.StringIO(written[len(UTF8_BOM) :].decode(), newline="")))
    assert read[0] == [c.header for c in COLUMNS] and len(read) == len(batch) + 1
    for line in read[1:]:
        for cell in line[:3]:  # the text columns (a negative number is a number, not a formula)
            assert not cell.startswith(DANGEROUS_FIRST), line


@pytest.mark.postgres
@given(cells.map(lambda cell: cell.replace("\0", "")))
def test_the_postgresql_twin_gives_the_same_answer(app, cell):
    from tracker.extensions import db

    with app.app_context():
        sql = neutralise_sql("CAST(:cell AS text)")
        assert db.session.execute(text(f"SELECT {sql}"), {"cell": cell}).scalar() == neutralise(cell)
        db.session.rollback()
