"""The Sites and teams pages (docs/architecture.md#set-up): administrators add and rename sites, add teams and change
them; managers read their own site and its teams. A site or team beyond a person's reach answers 404. Changing a
team (the number families are shown, where alerts go) needs a sign-in within the last few minutes."""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.admin import bp
from tracker.admin.hospital_forms import POPULATIONS, SiteForm, SiteNameForm, TeamForm
from tracker.admin.sections import Section, add
from tracker.extensions import db
from tracker.models import Population, Site, Team, User
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.services.setup import hospital, hospital_reads, phone_checks, sites_and_teams
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

add(
    Section(
        "admin.sites_page",
        "Sites and teams",
        "The hospital's sites and their outreach teams: the number families are shown, the duty phone and the "
        "response targets.",
        Permission.SEE_SETUP,
    )
)


def user() -> User:
    return current_user.user


def actor() -> audit.Actor:
    return audit.Actor.user(user().id)


def confirm_first(back_to: str):
    """A redirect to sign in again when the last sign-in was more than a few minutes ago (as for exports), else None."""
    if current_user.live.fresh:
        return None
    flash("This change needs you to sign in again first. Then make it again.", "information")
    return redirect(url_for("auth.confirm", next=back_to))


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        flash(warning, "warning")


def _site(code: str) -> Site:
    return found_or_404(hospital_reads.site_in_reach(user(), code), "site")


def _team(code: str) -> Team:
    return found_or_404(hospital_reads.team_in_reach(user(), code), "team")


@bp.get("/sites")
@requires(Permission.SEE_SETUP)
def sites_page(problem: FieldProblem | None = None, status: int = 200):
    """Every site in reach; an administrator also adds one here."""
    return render_template(
        "admin/sites.html",
        sites=hospital_reads.sites_in_reach(user()),
        can_edit=scope.can(user(), Permission.EDIT_SITES),
        problem=problem,
        typed=request.form if problem else {},
    ), status


@bp.post("/sites")
@requires(Permission.EDIT_SITES)
def add_site():
    try:
        form = SiteForm.read().checked()
        site = hospital.add_site(actor(), code=form.code.data, name=form.name.data)
    except Problem as refused:
        return shown(refused, lambda problem: sites_page(problem=problem, status=400), at_field="code")
    db.session.commit()
    flash(f"{site.name} was added, with the code {site.code}. Now add its outreach team.", "success")
    return redirect(url_for(".site_page", code=site.code))


@bp.get("/sites/<code>")
@requires(Permission.SEE_SETUP)
def site_page(code: str, problem: FieldProblem | None = None, status: int = 200):
    """A site's name and its teams; an administrator renames it here."""
    site = _site(code)
    return render_template(
        "admin/site.html",
        site=site,
        teams=hospital_reads.site_teams(site.id),
        populations=POPULATIONS,
        can_edit=scope.can(user(), Permission.EDIT_SITES),
        can_edit_wards=scope.can(user(), Permission.EDIT_WARDS),
        display_phone=display_phone,
        problem=problem,
        typed=request.form if problem else {"name": site.name},
    ), status


@bp.post("/sites/<code>")
@requires(Permission.EDIT_SITES)
def rename_site(code: str):
    site = _site(code)
    try:
        form = SiteNameForm.read().checked()
        renamed = sites_and_teams.rename_site(actor(), site, form.name.data)
    except Problem as refused:
        return shown(refused, lambda problem: site_page(code, problem=problem, status=400), at_field="name")
    db.session.commit()
    flash(f"The site is now called {site.name}." if renamed else "The name was not changed.", "success")
    return redirect(url_for(".site_page", code=site.code))


def _team_form(site: Site, team: Team | None, problem: FieldProblem | None, status: int):
    typed: Mapping[str, object]
    if problem:
        typed = request.form
    elif team is None:
        typed = {"population": Population.ADULT.value, "ack_target_minutes": 5, "review_target_minutes": 30}
    else:
        typed = {
            "name": team.name,
            "population": team.population.value,
            "ack_target_minutes": team.ack_target_minutes,
            "review_target_minutes": team.review_target_minutes,
            "public_phone": display_phone(team.public_phone),
            "duty_phone": display_phone(team.duty_phone),
        }
    return render_template(
        "admin/team.html",
        site=site,
        team=team,
        populations=POPULATIONS,
        can_edit=scope.can(user(), Permission.EDIT_SITES),
        display_phone=display_phone,
        problem=problem,
        typed=typed,
    ), status


@bp.get("/sites/<code>/teams/new")
@requires(Permission.EDIT_SITES)
def new_team_page(code: str, problem: FieldProblem | None = None, status: int = 200):
    return _team_form(_site(code), None, problem, status)


@bp.post("/sites/<code>/teams")
@requires(Permission.EDIT_SITES)
def add_team(code: str):
    site = _site(code)
    try:
        form = TeamForm.read(new=True).checked()
        team = hospital.add_team(
            actor(),
            code=form.code.data,
            site=site,
            name=form.name.data,
            population=Population(form.population.data),
            public_phone=form.public_phone.data,
            duty_phone=form.duty_phone.data,
            ack_target_minutes=form.ack_target_minutes.data,
            review_target_minutes=form.review_target_minutes.data,
        )
    except Problem as refused:
        return shown(refused, lambda problem: new_team_page(code, problem=problem, status=400), at_field="code")
    warnings = phone_checks.duty_phone_warnings(team)
    db.session.commit()
    flash(f"{team.name} was added to {site.name}, with the code {team.code}.", "success")
    warn(warnings)
    return redirect(url_for(".site_page", code=site.code))


@bp.get("/teams/<code>")
@requires(Permission.SEE_SETUP)
def team_page(code: str, problem: FieldProblem | None = None, status: int = 200):
    """A team's details: read by a manager of its site; changed by an administrator, after a recent sign-in."""
    team = _team(code)
    if scope.can(user(), Permission.EDIT_SITES) and (confirm := confirm_first(request.path)):
        return confirm
    return _team_form(team.site, team, problem, status)


@bp.post("/teams/<code>")
@requires(Permission.EDIT_SITES)
def save_team(code: str):
    team = _team(code)
    if confirm := confirm_first(url_for(".team_page", code=team.code)):
        return confirm
    try:
        form = TeamForm.read(new=False).checked()
        changed = sites_and_teams.update_team(
            actor(),
            team,
            name=form.name.data,
            population=Population(form.population.data),
            public_phone=form.public_phone.data,
            duty_phone=form.duty_phone.data,
            clear_duty_phone=form.duty_phone.data is None,
            ack_target_minutes=form.ack_target_minutes.data,
            review_target_minutes=form.review_target_minutes.data,
        )
    except Problem as refused:
        return shown(refused, lambda problem: team_page(code, problem=problem, status=400), at_field="name")
    warnings = phone_checks.duty_phone_warnings(team)
    db.session.commit()
    words = ", ".join(sites_and_teams.TEAM_FIELD_WORDS[field] for field in changed)
    flash(f"{team.name} was saved: {words} changed." if changed else f"Nothing about {team.name} changed.", "success")
    warn(warnings)
    return redirect(url_for(".site_page", code=team.site.code))
