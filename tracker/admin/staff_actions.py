"""What a person's page does to their account (docs/architecture.md#set-up): deactivate (at once, for an
administrator, with a reason), reactivate, set the mobile, a one-time password or a new invitation link (shown
once), reset the authenticator, clear the sign-in counts, and cover or remove each of their places on the rota.
Each needs a sign-in within the last 5 minutes; a refusal comes back to the page with what to do first."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue

from tracker.admin import bp
from tracker.admin.staff import confirm_first, invitation_url, person_or_404, person_page, viewer
from tracker.admin.staff_forms import AtOnceForm, CoverForm, MobileForm
from tracker.db import begin_write, deferred_write
from tracker.extensions import db
from tracker.models import Team, User
from tracker.problems import Problem
from tracker.services.paging import held
from tracker.services.paging import warnings as staff_warnings
from tracker.services.people import accounts, leavers
from tracker.services.people.passwords import new_one_time
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

STALE = (
    "Changes to staff accounts need you to have signed in within the last 5 minutes. Confirm it is you, then "
    "press the button again."
)


def act(user_id: int, change: Callable[[User], ResponseReturnValue | str | None]) -> ResponseReturnValue:
    """Run one change to the person's account: flash what it did (the text it returns) and come back to their
    page, or show its own page (what is shown once)."""
    person = person_or_404(user_id)
    page = url_for(".person_page", user_id=user_id)
    confirm = confirm_first(page)
    if confirm:
        flash(STALE, "information")
        return confirm
    try:
        result = change(person)
    except Problem as refused:
        return shown(refused, lambda problem: person_page(user_id, problem=problem, status=400), page=page)
    db.session.commit()
    staff_warnings.forget()  # the rota's warnings banner
    if isinstance(result, str):
        flash(result, "success")
        return redirect(page)
    return result if result is not None else redirect(page)


@bp.post("/staff/<int:user_id>/deactivate")
@requires(Permission.MANAGE_STAFF)
def deactivate(user_id: int):
    def change(person: User) -> str:
        leavers.deactivate(viewer(), person, _actor())
        return f"{person.display_name}'s account is deactivated. They have been signed out everywhere."

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/deactivate-now")
@requires(Permission.ADMINISTER_STAFF)
def deactivate_now(user_id: int):
    def change(person: User) -> str:
        reason = AtOnceForm.read().checked().reason.data
        left = leavers.deactivate_at_once(viewer(), person, reason, _actor())
        said = [f"{person.display_name}'s account is deactivated. They have been signed out everywhere."]
        if left.gapped_team_ids:
            names = db.session.scalars(db.select(Team.name).where(Team.id.in_(left.gapped_team_ids))).all()
            said.append(f"The rota now has nobody to alert at times for: {', '.join(names)}. Fix the rota now.")
        if left.references:
            said.append(f"These calls are still claimed by them: {', '.join(left.references)}. Tell their team.")
        return " ".join(said)

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/reactivate")
@requires(Permission.ADMINISTER_STAFF)
def reactivate(user_id: int):
    def change(person: User) -> str:
        leavers.reactivate(viewer(), person, _actor())
        return f"{person.display_name}'s account is active again. They are on no rota until someone puts them on one."

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/mobile")
@requires(Permission.ADMINISTER_STAFF)
def set_mobile(user_id: int):
    def change(person: User) -> str:
        warning = accounts.set_mobile(viewer(), person, MobileForm.read().checked().mobile.data)
        if warning:
            flash(warning, "warning")
        return "Mobile number saved." if person.mobile else "Mobile number removed."

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/reset-password")
@requires(Permission.ADMINISTER_STAFF)
@deferred_write
def reset_password(user_id: int):
    """A one-time password, shown once on the person's page (hashed before the write begins)."""

    def change(person: User):
        one_time = new_one_time()
        begin_write()
        password = accounts.reset_password(viewer(), person, one_time)
        return person_page(person.id, once={"password": password})

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/invite")
@requires(Permission.MANAGE_STAFF)
@deferred_write
def invite(user_id: int):
    """A new invitation link, shown once on the person's page."""

    def change(person: User):
        one_time = new_one_time()
        begin_write()
        invitation = accounts.invite_again(viewer(), person, one_time)
        return person_page(person.id, once={"invitation": invitation, "link_url": invitation_url(invitation)})

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/reset-authenticator")
@requires(Permission.ADMINISTER_STAFF)
def reset_authenticator(user_id: int):
    def change(person: User) -> str:
        accounts.reset_authenticator(viewer(), person)
        return (
            f"{person.display_name}'s authenticator app was reset: they must set up a new one the next time they "
            "sign in. They have been signed out everywhere."
        )

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/clear-sign-in-counts")
@requires(Permission.ADMINISTER_STAFF)
def clear_sign_in_counts(user_id: int):
    def change(person: User) -> str:
        accounts.clear_sign_in_counts(viewer(), person)
        return f"The wrong passwords and codes counted against {person.display_name}'s account were forgotten."

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/shifts/<int:shift_id>")
@requires(Permission.MANAGE_STAFF)
def cover_shift(user_id: int, shift_id: int):
    def change(person: User) -> str:
        shift = held.shift_of(person.id, shift_id)
        cover = _cover(person, shift.team_id if shift else None)
        leavers.cover_shift(viewer(), person, shift_id, cover)
        return "Shift covered." if cover else "Shift cancelled. Check the rota has no gaps."

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/patterns/<int:pattern_id>")
@requires(Permission.MANAGE_STAFF)
def cover_pattern(user_id: int, pattern_id: int):
    def change(person: User) -> str:
        pattern = held.pattern_of(person.id, pattern_id)
        cover = _cover(person, pattern.team_id if pattern else None)
        leavers.cover_pattern(viewer(), person, pattern_id, cover)
        if cover:
            return "Their turns in the pattern are covered."
        return "They were taken out of the pattern: the others' turns have moved up. Check the rota has no gaps."

    return act(user_id, change)


def _cover(person: User, team_id: int | None) -> int | None:
    colleagues = {str(user_id) for user_id, _name in held.colleagues(team_id, person.id)} if team_id else set()
    return CoverForm.read(colleagues=colleagues).chosen()


def _actor() -> audit.Actor:
    return audit.Actor.user(viewer().id)
