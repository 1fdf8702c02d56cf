"""The one rule for spreadsheet cells (docs/architecture.md#security) and its PostgreSQL twin, held to the same answers."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tracker.services.records.spreadsheet import DANGEROUS_FIRST, neutralise, neutralise_sql

CELLS = [
    "=1+1",
    "+SUM(1)",
    "-2+3",
    "@SUM(1)",
    "|calc",
    "%0A",
    "\t=1",
    "\r=1",
    "\n=1",
    "'already",
    "plain",
    "",
    " =leading space",
    "MR-7QK4-92",
    "Zoë",
    "=cmd|' /C calc'!A0",
    "-",
    "a=b",
    "😀=1",
]


@pytest.mark.parametrize("cell", CELLS)
def test_text_starting_with_a_formula_character_gets_an_apostrophe(cell):
    expected = "'" + cell if cell[:1] in DANGEROUS_FIRST else cell
    assert neutralise(cell) == expected


@pytest.mark.parametrize("value", [None, 0, -5, 3.5, True])
def test_numbers_and_nothing_pass_through(value):
    assert neutralise(value) == value


def test_nul_first_is_neutralised_in_python():
    assert neutralise("\0=1") == "'\0=1"


@pytest.mark.postgres
def test_the_sql_twin_gives_the_same_answers(app, ctx):
    from tracker.extensions import db

    for cell in CELLS:
        sql = neutralise_sql("CAST(:cell AS text)")
        assert db.session.execute(text(f"SELECT {sql}"), {"cell": cell}).scalar() == neutralise(cell), repr(cell)
