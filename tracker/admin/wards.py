"""The Wards pages (docs/architecture.md#set-up): managers (their own site's wards) and administrators (every ward)
add a ward, change its name, team, beds and nurse in charge's number, close it with its link kept working, and print
its link. A ward's code is fixed once it is added. A ward beyond a person's reach answers 404."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from tracker.admin import bp
from tracker.admin.hospital_forms import NO_SUCCESSOR, RetireForm, WardEditForm, WardForm
from tracker.admin.sections import Section, add
from tracker.admin.sites import actor, confirm_first, user, warn
from tracker.extensions import db
from tracker.models import Site, Ward
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.phone import display_phone
from tracker.services.scope import Permission
from tracker.services.setup import beds as beds_service
from tracker.services.setup import hospital, hospital_reads, phone_checks
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

add(
    Section(
        "admin.wards_page",
        "Wards",
        "Each ward's permanent link, printed for its posters; its team, beds and nurse in charge's number; closing "
        "a ward.",
        Permission.EDIT_WARDS,
    )
)


def public_link(code: str) -> str:
    """The ward's link as families reach it: the public address (PUBLIC_BASE_URL, as `flask tracker add-ward` prints
    it), never the address this page happened to be opened at, which may be an internal one."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("public.concern_form", code=code)


def _ward(code: str) -> Ward:
    return found_or_404(hospital_reads.ward_in_reach(user(), code), "ward")


def _site(code: str) -> Site:
    return found_or_404(hospital_reads.site_in_reach(user(), code), "site")


def _teams(site_id: int, ward: Ward | None = None) -> dict:
    """The site's active teams a ward may be given, by code (for an existing ward, those of its population)."""
    teams = hospital_reads.site_teams(site_id, active_only=True)
    return {team.code: team for team in teams if ward is None or team.population == ward.population}


@bp.get("/wards")
@requires(Permission.EDIT_WARDS)
def wards_page():
    """Each site's wards in reach, open ones first, with their state."""
    return render_template(
        "admin/wards.html",
        sites=hospital_reads.wards_by_site(user()),
        can_manage_devices=scope.can(user(), Permission.MANAGE_DEVICES),
    )


@bp.get("/sites/<code>/wards/new")
@requires(Permission.EDIT_WARDS)
def new_ward_page(code: str, problem: FieldProblem | None = None, status: int = 200):
    site = _site(code)
    return render_template(
        "admin/ward.html",
        site=site,
        ward=None,
        teams=_teams(site.id),
        problem=problem,
        typed=request.form if problem else {},
    ), status


@bp.post("/sites/<code>/wards")
@requires(Permission.EDIT_WARDS)
def add_ward(code: str):
    site = _site(code)
    teams = _teams(site.id)
    try:
        form = WardForm.read(teams=teams).checked()
        team = teams[form.team.data]
        ward = hospital.add_ward(
            actor(),
            code=form.code.data,
            name=form.name.data,
            site=site,
            team=team,
            population=team.population,
            beds=form.beds.data,
            nurse_in_charge_phone=form.nurse_in_charge_phone.data,
        )
    except Problem as refused:
        return shown(refused, lambda problem: new_ward_page(code, problem=problem, status=400), at_field="code")
    warnings = phone_checks.nurse_in_charge_warnings(ward)
    db.session.commit()
    flash(
        f"{ward.name} was added. Its link, {public_link(ward.code)}, never changes: print it for its posters.",
        "success",
    )
    warn(warnings)
    return redirect(url_for(".ward_page", code=ward.code))


@bp.get("/wards/<code>")
@requires(Permission.EDIT_WARDS)
def ward_page(code: str, problem: FieldProblem | None = None, status: int = 200):
    """A ward's link and its details; an open ward's are changed here."""
    ward = _ward(code)
    typed = (
        request.form
        if problem
        else {
            "name": ward.name,
            "team": ward.team.code,
            "beds": "\n".join(beds_service.labels_in_use(ward.id)),
            "nurse_in_charge_phone": display_phone(ward.nurse_in_charge_phone),
        }
    )
    return render_template(
        "admin/ward.html",
        site=ward.site,
        ward=ward,
        link=public_link(ward.code),
        teams=_teams(ward.site_id, ward),
        can_manage_devices=scope.can(user(), Permission.MANAGE_DEVICES),
        problem=problem,
        typed=typed,
    ), status


@bp.post("/wards/<code>")
@requires(Permission.EDIT_WARDS)
def save_ward(code: str):
    ward = _ward(code)
    if ward.is_retired:
        flash(f"{ward.name} has closed: its details are kept as they were when it closed.", "warning")
        return redirect(url_for(".ward_page", code=ward.code))
    teams = _teams(ward.site_id, ward)
    try:
        form = WardEditForm.read(teams=teams, code=ward.code).checked()
        changed = hospital.update_ward(
            actor(),
            ward,
            name=form.name.data,
            nurse_in_charge_phone=form.nurse_in_charge_phone.data,
            clear_nurse_in_charge_phone=form.nurse_in_charge_phone.data is None,
            beds=form.beds.data,
            team=teams[form.team.data],
        )
    except Problem as refused:
        at_field = "beds" if isinstance(refused, beds_service.BedProblem) else "name"
        return shown(refused, lambda problem: ward_page(code, problem=problem, status=400), at_field=at_field)
    warnings = phone_checks.nurse_in_charge_warnings(ward) if "nurse in charge's number" in changed else []
    db.session.commit()
    flash(f"{ward.name} was saved: {', '.join(changed)} changed." if changed else "Nothing was changed.", "success")
    warn(warnings)
    return redirect(url_for(".ward_page", code=ward.code))


@bp.get("/wards/<code>/retire")
@requires(Permission.EDIT_WARDS)
def retire_page(code: str, problem: FieldProblem | None = None, status: int = 200):
    """Before a ward closes: what happens to its link, the references of its calls still open, and where its
    patients went. Needs a recent sign-in."""
    ward = _ward(code)
    if ward.is_retired:
        flash(f"{ward.name} has already closed.", "information")
        return redirect(url_for(".ward_page", code=ward.code))
    if confirm := confirm_first(request.path):
        return confirm
    return render_template(
        "admin/ward_retire.html",
        ward=ward,
        link=public_link(ward.code),
        open_calls=hospital_reads.open_call_references(ward.id),
        successors=hospital_reads.successor_choices(user(), ward),
        no_successor=NO_SUCCESSOR,
        problem=problem,
        typed=request.form if problem else {},
    ), status


@bp.post("/wards/<code>/retire")
@requires(Permission.EDIT_WARDS)
def retire_ward(code: str):
    ward = _ward(code)
    if confirm := confirm_first(url_for(".retire_page", code=ward.code)):
        return confirm
    successors = {choice.code: choice for choice in hospital_reads.successor_choices(user(), ward)}
    try:
        form = RetireForm.read(wards=successors).checked()
        successor = successors.get(form.successor.data)
        hospital.retire_ward(actor(), ward, successor)
    except Problem as refused:
        return shown(refused, lambda problem: retire_page(code, problem=problem, status=400), at_field="successor")
    open_calls = len(hospital_reads.open_call_references(ward.id))
    db.session.commit()
    offered = f", and offers {successor.name}" if successor else ""
    still_open = f" Its open calls ({open_calls}) stay on the team's queue." if open_calls else ""
    flash(f"{ward.name} has closed. Its link still works: it says the ward has closed{offered}.{still_open}", "success")
    return redirect(url_for(".wards_page"))


@bp.get("/wards/<code>/link")
@requires(Permission.EDIT_WARDS)
def ward_link(code: str):
    """The ward's link, large, to print for the ward."""
    ward = _ward(code)
    return render_template("admin/ward_link.html", ward=ward, link=public_link(ward.code))
