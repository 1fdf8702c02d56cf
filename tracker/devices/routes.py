"""The Displays page, a display's one-time set-up link, and the display itself (docs/architecture.md#enrolled-
devices)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tracker.clock import utcnow
from tracker.db import begin_write
from tracker.devices import bp
from tracker.devices.forms import NewDisplayForm
from tracker.extensions import db
from tracker.models import DeviceKind, Team
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.concerns import queue
from tracker.services.paging import warnings as staff_warnings
from tracker.services.scope import Permission
from tracker.services.setup import devices, wards
from tracker.services.setup.settings import current_settings
from tracker.web import enrolment
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

DISPLAY_REFRESH_SECONDS = 5


def _user():
    return current_user.user


def _teams() -> list[Team]:
    return list(db.session.scalars(select(Team).where(scope.teams(_user()), Team.active.is_(True)).order_by(Team.name)))


@bp.get("/devices/displays")
@requires(Permission.MANAGE_DEVICES)
def displays_page(problem: FieldProblem | None = None, new_link: devices.NewLink | None = None, status: int = 200):
    """The displays in the manager's reach, with the form that makes a one-time set-up link."""
    settings = current_settings()
    return render_template(
        "devices/displays.html",
        displays=devices.listing(_user()),
        teams=_teams(),
        problem=problem,
        typed=request.form if problem else {},
        new_link=new_link,
        link_url=url_for(".enrol_page", token=new_link.token, _external=True) if new_link else None,
        ranges=settings.device_address_ranges,
        ranges_required=devices.ranges_required(),
        now=utcnow(),
    ), status


@bp.post("/devices/displays")
@requires(Permission.MANAGE_DEVICES)
def create_display():
    teams = {team.code: team.id for team in _teams()}
    try:
        form = NewDisplayForm.read(teams=teams).checked()
        new_link = devices.create_display(_user(), teams[form.team.data], form.label.data)
    except Problem as refused:
        return shown(refused, lambda problem: displays_page(problem=problem, status=400), at_field="team")
    db.session.commit()
    # Shown once, on this response only: the link is stored as a hash and cannot be shown again.
    return displays_page(new_link=new_link)


TURNED_OFF = {
    DeviceKind.DISPLAY: "The display was turned off. Its screen now says it is not set up.",
    DeviceKind.TABLET: "The tablet was turned off. Its ward's form no longer clears itself on it.",
}


@bp.post("/devices/<int:device_id>/revoke")
@requires(Permission.MANAGE_DEVICES)
def revoke(device_id: int):
    try:
        kind = devices.revoke(_user(), device_id)
    except Problem as refused:
        return shown(
            refused, lambda problem: displays_page(problem=problem, status=400), page=url_for(".displays_page")
        )
    db.session.commit()
    flash(TURNED_OFF[kind], "success")
    return redirect(url_for(".tablets_page" if kind is DeviceKind.TABLET else ".displays_page"))


@bp.get("/devices/enrol/<token>")
def enrol_page(token: str):
    """What the set-up link shows on the device it is opened on: a button, so that a link preview or a
    prefetch never uses it up."""
    device = devices.pending_link(token)
    if device is None:
        return render_template("devices/enrol.html", device=None), 404
    team = db.session.get(Team, device.team_id) if device.team_id else None
    ward = wards.ward_by_id(device.ward_id) if device.ward_id else None
    return render_template("devices/enrol.html", device=device, team=team, ward=ward, token=token)


@bp.post("/devices/enrol/<token>")
def enrol(token: str):
    try:
        device, secret = devices.enrol(token, request.remote_addr)
    except Problem as refused:
        db.session.rollback()
        return render_template("devices/enrol.html", device=None, refused=str(refused)), 400
    db.session.commit()
    ward = wards.ward_by_id(device.ward_id) if device.ward_id else None
    # A ward's tablet goes straight to its ward's form, in kiosk mode; a display to its calls.
    response = redirect(url_for("public.concern_form", code=ward.code) if ward else url_for(".display_page"))
    enrolment.keep(response, secret, device.expires_at)
    return response


def _display_or_refusal():
    device = enrolment.enrolled_display()
    if device is None:
        refusal = enrolment.this_device()
        reason = refusal.reason if isinstance(refusal, devices.NotHonoured) else "This device is not a queue display."
        return None, (render_template("devices/not_a_display.html", reason=reason), 403)
    if devices.first_use_today(device):
        begin_write()
        devices.note_use(device)
        db.session.commit()
    return device, None


@bp.get("/display")
def display_page():
    """The team's open calls for the outreach office's screen, with nobody signed in."""
    device, refused = _display_or_refusal()
    if refused:
        return refused
    assert device is not None and device.team_id is not None  # a display always has its team
    team = db.session.get_one(Team, device.team_id)
    notes = staff_warnings.for_team(team.id)
    return render_template(
        "devices/display.html",
        device=device,
        team=team,
        queue=queue.team_queue(team.id),
        warnings=notes,
        version=_version(team.id, notes),
        now=utcnow(),
        refresh_seconds=DISPLAY_REFRESH_SECONDS,
    )


@bp.get("/display/rows")
def display_rows():
    """The display's refresh: 304 when nothing has changed. A display whose enrolment has ended gets 403 and
    shows why."""
    device, refused = _display_or_refusal()
    if refused:
        return refused
    assert device is not None and device.team_id is not None
    notes = staff_warnings.for_team(device.team_id)
    version = _version(device.team_id, notes)
    if request.if_none_match.contains(version):
        response = make_response("", 304)
    else:
        response = make_response(
            render_template(
                "devices/_display_rows.html", queue=queue.team_queue(device.team_id), warnings=notes, now=utcnow()
            )
        )
    response.set_etag(version)
    return response


def _version(team_id: int, notes) -> str:
    return f"{queue.team_version(team_id)}-{staff_warnings.digest(notes)}"
