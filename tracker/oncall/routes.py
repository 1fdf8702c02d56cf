"""On-call views. Thin: find the team in the person's scope (404 otherwise), read the form, call
one service function, commit, flash, redirect."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.clock import local, utcnow
from tracker.db import begin_write
from tracker.extensions import db
from tracker.models import (
    AlertChannel,
    EscalationPolicy,
    Team,
    User,
)
from tracker.oncall import bp, forms
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.messaging import failed_messages
from tracker.services.paging import rota, rota_check, rota_reads
from tracker.services.paging import warnings as staff_warnings
from tracker.services.paging.policy import DEFAULT_STEPS, policy_of, save_policy
from tracker.services.paging.policy import summary as policy_summary
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.services.setup.settings import current_settings
from tracker.services.words import CHANNEL_WORDS, TIER_WORDS
from tracker.web.authorisation import requires
from tracker.web.refusals import shown
from tracker.web.staff_pages import warnings

ROTA_DAYS = 7


def _user() -> User:
    return current_user.user


def _team_or_404(code: str) -> Team:
    team = rota_reads.team_in_reach(_user(), code)
    if team is None:
        abort(404)
    return team


def _may_edit() -> bool:
    return scope.can(_user(), Permission.EDIT_ROTAS)


def _members(team: Team) -> list[User]:
    return rota_reads.members(team.id)


@bp.get("/")
@requires(Permission.SEE_ROTAS)
def teams():
    """Every team in the person's scope with who is on call now."""
    now = utcnow()
    rows = [
        (team, rota.on_call(team.id, now), policy_of(team) is not None) for team in rota_reads.teams_in_reach(_user())
    ]
    return render_template("oncall/teams.html", rows=rows, warnings=warnings(), tiers=TIER_WORDS)


@bp.get("/<code>/rota")
@requires(Permission.SEE_ROTAS)
def rota_page(code: str, problem: FieldProblem | None = None, status: int = 200):
    team = _team_or_404(code)
    settings = current_settings()
    now = utcnow()
    start = local(now, settings.timezone).replace(hour=0, minute=0, second=0, microsecond=0)
    days = []
    for offset in range(ROTA_DAYS):
        day_start = start + timedelta(days=offset)
        days.append((day_start, [s for s in rota.slots(team.id, day_start, day_start + timedelta(days=1))]))
    names = {u.id: u for u in _members(team)}
    names.update({u.id: u for u in rota_reads.people(s.user_id for _d, slots in days for s in slots)})
    patterns = rota_reads.active_patterns(team.id)
    shifts = rota_reads.shifts_to_come(team.id, now)
    return render_template(
        "oncall/rota.html",
        team=team,
        on_call=rota.on_call(team.id, now),
        days=days,
        names=names,
        patterns=patterns,
        shifts=shifts,
        members_options=[(u.id, u.display_name) for u in _members(team)],
        can_edit=_may_edit(),
        tiers=TIER_WORDS,
        gaps=rota.gaps(team.id, now, now + staff_warnings.LOOK_AHEAD),
        problem=problem,
        form=request.form if problem else {},
        today=local(now, settings.timezone).date(),
        has_policy=policy_of(team) is not None,
        display_phone=display_phone,
        warnings=warnings(),
        can_test=scope.can(_user(), Permission.SEE_ROTAS),
    ), status


def _after_rota_change(team: Team, message: str):
    db.session.commit()
    staff_warnings.forget()
    flash(message, "success")
    return redirect(url_for("oncall.rota_page", code=team.code))


@bp.post("/<code>/rota/patterns")
@requires(Permission.EDIT_ROTAS)
def add_pattern(code: str):
    return _add_to_rota(
        code,
        lambda team, members: forms.PatternForm.read(members=members).values(),
        rota.add_pattern,
        "people",
        "Pattern added to the rota.",
    )


@bp.post("/<code>/rota/patterns/<int:pattern_id>/end")
@requires(Permission.EDIT_ROTAS)
def end_pattern(code: str, pattern_id: int):
    team = _team_or_404(code)
    pattern = rota_reads.active_pattern(team.id, pattern_id)
    if pattern is None:
        abort(404)
    rota.end_pattern(audit.Actor.user(_user().id), pattern)
    return _after_rota_change(team, f"{pattern.name} ended. Check the rota has no gaps.")


@bp.post("/<code>/rota/shifts")
@requires(Permission.EDIT_ROTAS)
def add_shift(code: str):
    return _add_to_rota(
        code,
        lambda team, members: forms.ShiftForm.read(members=members, tz=current_settings().timezone).values(),
        rota.add_shift,
        "end_time",
        "Shift added to the rota.",
    )


def _add_to_rota(code: str, read_form, add, problem_field: str, done: str):
    """Read a rota form, add what it describes, and come back to the rota (with the problem and
    what was typed when it cannot be saved)."""
    team = _team_or_404(code)
    try:
        values = read_form(team, {u.id for u in _members(team)})
        add(audit.Actor.user(_user().id), team, **values)
    except Problem as refused:
        return shown(refused, lambda problem: rota_page(code, problem=problem, status=400), at_field=problem_field)
    return _after_rota_change(team, done)


@bp.post("/<code>/rota/shifts/<int:shift_id>/cancel")
@requires(Permission.EDIT_ROTAS)
def cancel_shift(code: str, shift_id: int):
    team = _team_or_404(code)
    shift = rota_reads.open_shift(team.id, shift_id)
    if shift is None:
        abort(404)
    rota.cancel_shift(audit.Actor.user(_user().id), shift)
    return _after_rota_change(team, "Shift cancelled. Check the rota has no gaps.")


# --- the escalation policy -------------------------------------------------------------------


@bp.route("/<code>/policy", methods=["GET", "POST"])
@requires(Permission.SEE_ROTAS)
def policy(code: str):
    team = _team_or_404(code)
    if request.method == "GET":
        return _policy_page(team)
    if not _may_edit():
        abort(403)
    try:
        save_policy(audit.Actor.user(_user().id), team, **forms.PolicyForm.read().values())
    except Problem as refused:
        return shown(refused, lambda problem: _policy_page(team, problem), at_field="fallback_number")
    db.session.commit()
    staff_warnings.forget()
    flash("Escalation policy saved. Calls already raised keep the policy they started with.", "success")
    return redirect(url_for("oncall.policy", code=team.code))


def _policy_page(team: Team, problem: FieldProblem | None = None):
    current = policy_of(team)
    return render_template(
        "oncall/policy.html",
        team=team,
        policy=current,
        summary=policy_summary(current, display_phone(current.fallback_number)) if current else [],
        form=_policy_form(current, problem),
        problem=problem,
        can_edit=_may_edit(),
        tiers=TIER_WORDS,
        channels=CHANNEL_WORDS,
        max_steps=forms.MAX_STEPS,
        warnings=warnings(),
        display_phone=display_phone,
    ), 400 if problem else 200


def _policy_form(current: EscalationPolicy | None, problem) -> dict:
    """What the form shows: what was typed (after a problem), else the saved policy, else the
    suggested default."""
    if problem is not None:
        values: dict[str, str | list[str]] = dict(request.form.to_dict())
        for index in range(forms.MAX_STEPS):
            values[f"step{index}_tiers"] = request.form.getlist(f"step{index}_tiers")
        return values
    steps = (
        [(list(s.tiers), s.channel.value, s.wait_minutes) for s in current.steps]
        if current
        else [([t.value for t in s.tiers], s.channel.value, s.wait_minutes) for s in DEFAULT_STEPS]
    )
    values = {
        "repeat_times": str(current.repeat_times if current else 1),
        "fallback_name": current.fallback_name if current else "",
        "fallback_number": display_phone(current.fallback_number) if current else "",
        "fallback_channel": current.fallback_channel.value if current else AlertChannel.VOICE.value,
        "fallback_wait_minutes": str(current.fallback_wait_minutes if current else 10),
        "ack_pause_minutes": str(current.ack_pause_minutes if current else 5),
        "ack_ceiling_minutes": str(current.ack_ceiling_minutes if current else 10),
        "alert_accept_seconds": str(current.alert_accept_seconds if current else 120),
        "review_reminder_minutes": str(current.review_reminder_minutes if current else 10),
    }
    for index in range(forms.MAX_STEPS):
        # A step not in use is shown empty, never as if it were filled in.
        tiers, channel, wait = steps[index] if index < len(steps) else ([], "", "")
        values[f"step{index}_tiers"] = tiers
        values[f"step{index}_channel"] = channel
        values[f"step{index}_wait"] = str(wait)
    return values


# --- test the rota ---------------------------------------------------------------------------


@bp.post("/<code>/test")
@requires(Permission.SEE_ROTAS)
def test_rota(code: str):
    """Send a test text to everyone on call for the team now."""
    team = _team_or_404(code)
    run = rota_check.start(team, _user())
    db.session.commit()
    if not rota_check.run_exists(team, run):
        flash("Nobody on call now has a mobile that can get texts, so no test was sent. Fix the rota.", "warning")
        return redirect(url_for("oncall.rota_page", code=team.code))
    return redirect(url_for("oncall.test_results", code=team.code, run=run))


def _run_or_404(code: str, run: str) -> Team:
    team = _team_or_404(code)
    if not rota_check.run_exists(team, run):
        abort(404)
    return team


def _results_context(team: Team, run: str, found: list[rota_check.Result]) -> dict:
    return {
        "team": team,
        "run": run,
        "results": found,
        "settled": rota_check.settled(found),
        "version": rota_check.version(found),
        "tiers": TIER_WORDS,
        "display_phone": display_phone,
    }


@bp.get("/<code>/test/<run>")
@requires(Permission.SEE_ROTAS)
def test_results(code: str, run: str):
    """The run's results; the page refreshes its rows by itself until every text has its final result."""
    team = _run_or_404(code, run)
    context = _results_context(team, run, rota_check.results(team, run))
    return render_template("oncall/test_results.html", **context, warnings=warnings())


@bp.get("/<code>/test/<run>/rows")
@requires(Permission.SEE_ROTAS)
def test_result_rows(code: str, run: str):
    """The results page's refresh: 304 while nothing it shows has changed. Not the person's activity
    (web/authorisation.py: PASSIVE_ENDPOINTS); an unknown run is 404."""
    team = _run_or_404(code, run)
    context = _results_context(team, run, rota_check.results(team, run))
    if request.if_none_match.contains(context["version"]):
        response = make_response("", 304)
    else:
        response = make_response(render_template("oncall/_test_rows.html", **context))
    # Cache-Control stays no-store: the page's script sends If-None-Match itself.
    response.set_etag(context["version"])
    return response


# --- failed messages ---------------------------------------------------------------------------


@bp.get("/failed-messages")
@requires(Permission.SEE_CALLS)
def failed_messages_page(
    problem: FieldProblem | None = None, problem_id: int | None = None, status: int = 200, typed: str = ""
):
    outstanding, dealt_with = failed_messages.listed(_user())
    return render_template(
        "oncall/failed_messages.html",
        outstanding=outstanding,
        dealt_with=dealt_with,
        problem=problem,
        problem_id=problem_id,
        typed=typed,
        display_phone=display_phone,
        warnings=warnings(),
        days=failed_messages.LISTED_DAYS,
    ), status


def _failed_or_404(message_id: int):
    message = failed_messages.find(_user(), message_id)
    if message is None:
        abort(404)
    return message


@bp.post("/failed-messages/<int:message_id>/resend")
@requires(Permission.SEE_CALLS)
def resend(message_id: int):
    message = _failed_or_404(message_id)
    number = (forms.ResendForm.read().number.data or "")[:40]
    try:
        failed_messages.resend(_user(), message, number)
    except Problem as refused:
        return shown(refused, lambda problem: _failed_again(problem, message_id, number), at_field="number")
    db.session.commit()
    staff_warnings.forget()
    flash("Sent again. Its progress shows on the call's page; if it fails again it comes back here.", "success")
    return redirect(url_for("oncall.failed_messages_page"))


def _failed_again(problem: FieldProblem, message_id: int, typed: str):
    begin_write()  # the page is drawn in a new transaction, after the refusal's rollback
    return failed_messages_page(problem=problem, problem_id=message_id, status=400, typed=typed)


@bp.post("/failed-messages/<int:message_id>/dealt-with")
@requires(Permission.SEE_CALLS)
def dealt_with(message_id: int):
    message = _failed_or_404(message_id)
    failed_messages.mark_dealt_with(_user(), message)
    db.session.commit()
    staff_warnings.forget()
    flash("Marked as dealt with.", "success")
    return redirect(url_for("oncall.failed_messages_page"))
