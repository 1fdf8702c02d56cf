"""The Trust settings page (docs/architecture.md#set-up): everything `flask tracker setup-trust` sets, a group at a
time. Administrators edit; managers read. A change to what families are told in an emergency, or to how long calls
are kept, goes to its check first (tracker/admin/settings_check.py); the rest are saved at once. Each change is one
version of the settings history, named by its audit row."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tracker.admin import bp
from tracker.admin.sections import Section, add
from tracker.admin.settings_forms import FORMS
from tracker.admin.settings_groups import BY_KEY, GROUPS, LINKED_CALLS, RUN_LENGTHS, error_links, summary
from tracker.extensions import db
from tracker.models import Team
from tracker.problems import FieldProblem, FieldProblems, Problem
from tracker.services import scope
from tracker.services.languages import CODES, DEFAULT, by_code, parse_enabled
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.records.retention import MINIMUMS
from tracker.services.reports import report_signing
from tracker.services.reports.working_hours import REGION_NAMES
from tracker.services.scope import Permission
from tracker.services.setup import settings_changes, settings_history
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

add(
    Section(
        "admin.settings_page",
        "Trust settings",
        "What families are told in an emergency, texting, sign-in, reports, how long calls are kept, the families' "
        "languages, and the history of every change.",
        Permission.SEE_SETUP,
    )
)


def teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def team_names() -> dict[int, str]:
    return {team.id: team.name for team in teams()}


def editable() -> bool:
    return scope.can(current_user.user, Permission.EDIT_TRUST)


def shown_values(values: dict[str, Any]) -> dict[str, str]:
    """The settings as the form's boxes show them: numbers as people write them, yes or no."""
    codes = {team.id: team.code for team in teams()}
    boxes: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            boxes[name] = "yes" if value else "no"
        elif name.endswith("_phone"):
            boxes[name] = display_phone(value) or value or ""
        elif name != "words":
            boxes[name] = "" if value is None else str(value)
    boxes["text_in_team"] = codes.get(values.get("text_in_team_id") or 0, "")
    return boxes


def report_key() -> dict[str, str]:
    """The public half of the key that signs exact monthly reports, for their recipients; or why there is none."""
    try:
        key = report_signing.load_private_key(current_app.config.get("REPORT_SIGNING_KEY_FILE")).public_key()
    except report_signing.SigningProblem as problem:
        return {"problem": str(problem)}
    return {"pem": report_signing.public_pem(key), "fingerprint": report_signing.fingerprint(key)}


@bp.get("/settings")
@requires(Permission.SEE_SETUP)
def settings_page(group: str | None = None, problems: dict[str, str] | None = None, status: int = 200):
    """Each group of settings: a form for an administrator (what was typed again, beside its problems), the values
    in words for a manager."""
    values = settings_history.snapshot()
    boxes = shown_values(values)
    if group is not None:
        boxes |= request.form.to_dict()
    names = team_names()
    return render_template(
        "admin/settings.html",
        groups=GROUPS,
        summaries={g.key: summary(g, values, names) for g in GROUPS},
        boxes=boxes,
        teams=teams(),
        group=group,
        problems=problems or {},
        editable=editable(),
        set_up=bool(values.get("trust_name")),
        languages=[by_code(code) for code in parse_enabled(values.get("languages_enabled")) if code != DEFAULT],
        language_count=len(CODES) - 1,
        error_links=error_links,
        regions=list(REGION_NAMES.items()),
        linked_calls=list(LINKED_CALLS.items()),
        run_lengths=list(RUN_LENGTHS.items()),
        minimums=MINIMUMS,
        team_options=[(team.code, team.name) for team in teams() if team.active],
        report_key=report_key(),
    ), status


def problems_of(problem: FieldProblem) -> dict[str, str]:
    return problem.problems if isinstance(problem, FieldProblems) else {problem.field: str(problem)}


@bp.post("/settings/<group>")
@requires(Permission.EDIT_TRUST)
def save_settings(group: str):
    """Save one group, or (for what families are told and retention, when they change) keep it to be checked."""
    if group not in FORMS:
        abort(404)
    try:
        values = FORMS[group].read(teams=[team.code for team in teams() if team.active]).values()
        if settings_changes.needs_preview(group, values):
            return settings_check.to_check(group, values)
        settings_changes.save(audit.Actor.user(current_user.user.id), group, values)
    except Problem as refused:
        return shown(
            refused,
            lambda problem: settings_page(group, problems_of(problem), 400),
            at_field=BY_KEY[group].first_field,
        )
    db.session.commit()
    flash(f"{BY_KEY[group].title}: saved.", "success")
    return redirect(url_for(".settings_page") + f"#{group}")


from tracker.admin import settings_check, settings_history_page, settings_languages  # noqa: E402,F401  (their views)
