"""The one place a refusal reaches the screen (docs/architecture.md#one-web-idiom). Whatever raised it,
a service, a model or a form, a `Problem` means nothing the request began is kept: the session is rolled
back. A `FieldProblem` re-shows the form with the message beside its field (400); any other refusal is
a message at the top of the page it came from, unless the view names a field to show it at."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect
from flask.typing import ResponseReturnValue

from tracker.extensions import db
from tracker.problems import FieldProblem, Problem


def shown(
    problem: Problem,
    form_page: Callable[[FieldProblem], ResponseReturnValue],
    *,
    page: str | None = None,
    at_field: str | None = None,
) -> ResponseReturnValue:
    """`form_page(problem)` draws the form again with the problem; `page` is where any other
    refusal is flashed (or, with `at_field`, it is shown beside that field instead)."""
    db.session.rollback()
    if isinstance(problem, FieldProblem):
        return form_page(problem)
    if at_field is not None or page is None:
        return form_page(FieldProblem(at_field or "", str(problem)))
    flash(str(problem), "warning")
    return redirect(page)
