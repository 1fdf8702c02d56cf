"""One rule for text typed into our forms: what a clinician writes on a call (a note, a review's findings)
is held to the same rule as the family's form. Control characters, including DEL and the C1 controls
a terminal reads as commands, are refused with a plain message; a lone surrogate, which no database
can store, is refused too. Ordinary line breaks and tabs are kept."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from tests.triage.test_concern_page import act, open_page
from tracker.models import ConcernNote
from tracker.problems import FieldProblem
from tracker.triage import forms


@pytest.mark.parametrize(
    "character",
    ["\x7f", "\x85", "\x9b", "\x1b"],
    ids=["DEL", "C1 next line", "C1 control sequence introducer", "escape"],
)
def test_a_note_with_a_control_character_is_refused_and_nothing_is_stored(client, nurse, call, read, character):
    response = act(client, call, "note", note=f"Seen by the registrar{character}[2J")
    assert response.status_code in (302, 400)
    page = response.get_data(as_text=True) if response.status_code == 400 else open_page(client, call)
    assert "has a character we cannot save. Remove it and try again" in page
    assert read.count(ConcernNote) == 0


def test_a_note_keeps_its_line_breaks_and_tabs(client, nurse, call, read):
    act(client, call, "note", note="Obs stable.\r\nRecheck at 14:00\tby the ward team")
    assert read.one(ConcernNote).text == "Obs stable.\nRecheck at 14:00\tby the ward team"


def test_a_lone_surrogate_is_refused_by_the_same_rule(app):
    # No browser can send one (they become U+FFFD on the way), so the reader is asked directly.
    with app.test_request_context(), pytest.raises(FieldProblem, match="character we cannot save"):
        forms.NoteForm.read(MultiDict({"note": "Seen \ud800 today"})).checked()
