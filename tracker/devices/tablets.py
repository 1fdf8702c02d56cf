"""The Ward tablets page: a manager makes a one-time link that sets up a ward's tablet for families, sees each
ward's tablets and turns them off (docs/architecture.md#enrolled-devices)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from tracker.clock import utcnow
from tracker.devices import bp
from tracker.devices.forms import NewTabletForm
from tracker.extensions import db
from tracker.problems import FieldProblem, Problem
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.services.setup import devices, tablets
from tracker.web.authorisation import requires
from tracker.web.refusals import shown


def _user():
    return current_user.user


@bp.get("/devices/tablets")
@requires(Permission.MANAGE_DEVICES)
def tablets_page(problem: FieldProblem | None = None, new_link: devices.NewLink | None = None, status: int = 200):
    """Each of the manager's wards with its tablets, and the form that makes a one-time set-up link."""
    wards = tablets.wards_with_tablets(_user())
    return render_template(
        "devices/tablets.html",
        wards=wards,
        problem=problem,
        typed=request.form if problem else {},
        new_link=new_link,
        new_link_ward=next((w for w in wards if new_link and any(t.id == new_link.device_id for t in w.tablets)), None),
        link_url=url_for(".enrol_page", token=new_link.token, _external=True) if new_link else None,
        now=utcnow(),
    ), status


@bp.post("/devices/tablets")
@requires(Permission.MANAGE_DEVICES)
def create_tablet():
    wards = {ward.code: ward.ward_id for ward in tablets.wards_with_tablets(_user())}
    try:
        form = NewTabletForm.read(wards=wards).checked()
        new_link = tablets.create_tablet(_user(), wards[form.ward.data], form.label.data, audit.Actor.user(_user().id))
    except Problem as refused:
        return shown(refused, lambda problem: tablets_page(problem=problem, status=400), at_field="ward")
    db.session.commit()
    # Shown once, on this response only: the link is stored as a hash and cannot be shown again.
    return tablets_page(new_link=new_link)
