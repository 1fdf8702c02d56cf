"""The Staff accounts pages (docs/architecture.md#set-up): the list, a new account (its one-time password or
invitation link shown once), a person's page with what they hold on the rota, and the page that moves someone to
another role or team. Managers reach their own site's accounts and change only its ward staff and outreach; what
is beyond reach answers 404. Changes need a sign-in within the last 5 minutes (auth.confirm). Thin: the services
are `services/people/staff.py` (reads), `accounts.py` and `leavers.py` (changes)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.admin import bp
from tracker.admin.sections import Section, add
from tracker.admin.staff_forms import ACTIVE_CHOICES, FIRST_SIGN_IN, DetailsForm, FiltersForm, NewAccountForm
from tracker.db import begin_write, deferred_write
from tracker.extensions import db
from tracker.models import Role, Team, User
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.paging import held
from tracker.services.people import accounts, invitations, leavers, sessions, staff, users
from tracker.services.people.passwords import new_one_time
from tracker.services.scope import ROLE_NAMES, Permission
from tracker.services.words import TIER_WORDS
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

add(
    Section(
        "admin.staff_page",
        "Staff accounts",
        "Who may sign in and what they may do: add someone, move them to another team, reset a password, or "
        "close the account of someone who has left.",
        Permission.MANAGE_STAFF,
    )
)


def viewer() -> User:
    return current_user.user


def person_or_404(user_id: int) -> User:
    person = staff.person(viewer(), user_id)
    if person is None:
        abort(404)
    return person


def confirm_first(back_to: str):
    """Changes to accounts need a sign-in within the last 5 minutes: off to confirm it, then back."""
    if current_user.live.fresh:
        return None
    return redirect(url_for("auth.confirm", next=back_to))


def _choices(for_roles: list[Role]) -> dict:
    """What the details form offers this person: roles, teams, wards and sites in their reach."""
    me = viewer()
    return {
        "roles": [(role.value, ROLE_NAMES[role]) for role in for_roles],
        "teams": [(str(t.id), f"{t.name} ({t.site.name})") for t in staff.teams(me)],
        "wards": [(str(w.id), f"{w.name} ({w.site.name})") for w in staff.wards(me)],
        "sites": [(str(s.id), s.name) for s in staff.sites(me)],
    }


def _context(choices: dict) -> dict:
    return {name: {value for value, _words in options} for name, options in choices.items()}


def options(pairs, chosen: str, blank: str | None = None) -> list[dict]:
    """Items for a select: (value, words) pairs, the chosen one selected, after a blank one if given."""
    items = [{"value": "", "text": blank}] if blank is not None else []
    return items + [{"value": str(v), "text": words, "selected": str(v) == chosen} for v, words in pairs]


@bp.get("/staff")
@requires(Permission.MANAGE_STAFF)
def staff_page():
    me = viewer()
    sites = staff.sites(me)
    form = FiltersForm.read(request.args, sites={str(site.id) for site in sites})
    chosen = {name: request.args.get(name, "") for name in ("role", "site", "active")}
    return render_template(
        "admin/staff.html",
        rows=staff.listing(me, form.filters()),
        sites=sites,
        role_items=options([(r.value, words) for r, words in ROLE_NAMES.items()], chosen["role"], "Any role"),
        site_items=options([(site.id, site.name) for site in sites], chosen["site"], "Any site"),
        active_items=options(ACTIVE_CHOICES.items(), chosen["active"] or "yes"),
        roles=ROLE_NAMES,
        can_create=bool(scope.roles_to_give(me)),
    )


def detail_items(choices: dict, chosen) -> dict:
    """The items of the role, teams, ward and site controls, with what is `chosen` (a posted form or the
    account's own values) checked or selected."""
    picked = chosen.getlist("teams") if hasattr(chosen, "getlist") else chosen.get("teams", [])
    return {
        "role": [{"value": v, "text": w, "checked": v == chosen.get("role")} for v, w in choices["roles"]],
        "teams": [{"value": v, "text": w, "checked": v in picked} for v, w in choices["teams"]],
        "ward": options(choices["wards"], chosen.get("ward", ""), "Not ward staff"),
        "site": options(choices["sites"], chosen.get("site", ""), "Not a manager"),
    }


def _new_page(problem: FieldProblem | None = None, status: int = 200):
    typed = request.form if problem else {"first_sign_in": "invitation"}
    return render_template(
        "admin/staff_new.html",
        fields=detail_items(_choices(scope.roles_to_give(viewer())), typed),
        first_sign_in=[
            {"value": v, "text": w, "checked": v == typed.get("first_sign_in")} for v, w in FIRST_SIGN_IN.items()
        ],
        problem=problem,
        typed=typed,
    ), status


@bp.route("/staff/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
@deferred_write
def new_account():
    """The form for a new account; posted, the account and what is shown once (its one-time password or
    invitation link). The password is hashed before the write begins."""
    confirm = confirm_first(url_for(".new_account"))
    if confirm:
        return confirm
    if request.method == "GET":
        return _new_page()
    try:
        form = NewAccountForm.read(**_context(_choices(scope.roles_to_give(viewer()))))
        details = form.details()
        one_time = new_one_time()
        begin_write()
        created = accounts.create_account(
            viewer(),
            email=form.email.data,
            name=form.name.data,
            details=details,
            mobile=form.mobile.data,
            invite=form.first_sign_in.data == "invitation",
            one_time=one_time,
        )
    except Problem as refused:
        return shown(refused, lambda problem: _new_page(problem, 400), at_field="email")
    db.session.commit()
    # Shown once, on this response only: the password and the link are kept only as hashes.
    return render_template(
        "admin/staff_created.html",
        person=created.user,
        where=staff.where_words(created.user),
        password=created.password,
        invitation=created.invitation,
        link_url=invitation_url(created.invitation),
        warning=created.warning,
    )


def invitation_url(invitation: invitations.NewInvitation | None) -> str | None:
    return url_for("auth.invitation", token=invitation.token, _external=True) if invitation else None


@bp.get("/staff/<int:user_id>")
@requires(Permission.MANAGE_STAFF)
def person_page(user_id: int, problem: FieldProblem | None = None, status: int = 200, once: dict | None = None):
    """A person's account: its state, their places on the rota (each to cover or remove) and claimed calls, and
    what the viewer may do to it."""
    person = person_or_404(user_id)
    me = viewer()
    places = held.held(person.id)
    typed = request.form if problem else {}
    teams = {p.team_id for p in places.shifts} | {p.team_id for p in places.patterns}
    return render_template(
        "admin/staff_person.html",
        person=person,
        where=staff.where_words(person),
        state=staff.state_words(person),
        may_change=scope.may_change_account(me, person),
        may_administer=scope.can(me, Permission.ADMINISTER_STAFF),
        is_me=me.id == person.id,
        places=places,
        team_names=_team_names(teams),
        colleagues={team_id: held.colleagues(team_id, person.id) for team_id in teams},
        claimed=leavers.claimed_calls(person.id),
        devices_signed_in=len(sessions.active_sessions(person)),
        needs_authenticator=sessions.needs_mfa(person),
        closed=staff.last_closed(person),
        reasons=leavers.AT_ONCE_REASONS,
        reason_items=[
            {"value": v, "text": w, "checked": bool(problem) and v == typed.get("reason")}
            for v, w in leavers.AT_ONCE_REASONS.items()
        ],
        mobile_warning=users.mobile_warning(person.role, person.mobile),
        invitation=invitations.pending(person),
        tiers=TIER_WORDS,
        trust_account=trust_account(person) if scope.can(me, Permission.ADMINISTER_STAFF) else None,
        problem=problem,
        typed=typed,
        once=once or {},
    ), status


def trust_account(person: User) -> dict:
    from tracker.admin.staff_sign_on import trust_account as shown

    return shown(person)


def _team_names(team_ids: set[int]) -> dict[int, str]:
    return {team.id: team.name for team in db.session.scalars(db.select(Team).where(Team.id.in_(team_ids or {-1})))}


def _change_page(person: User, problem: FieldProblem | None = None, status: int = 200):
    chosen = (
        request.form
        if problem
        else {
            "role": person.role.value,
            "teams": [str(t) for t in sorted(person.team_ids)],
            "ward": str(person.ward_id or ""),
            "site": str(person.site_id or ""),
        }
    )
    return render_template(
        "admin/staff_change.html",
        person=person,
        fields=detail_items(_choices(list(Role)), chosen),
        problem=problem,
        chosen=chosen,
        claimed=leavers.claimed_calls(person.id),
    ), status


@bp.route("/staff/<int:user_id>/change", methods=["GET", "POST"])
@requires(Permission.ADMINISTER_STAFF)
def change_account(user_id: int):
    """Move someone to another role, team, ward or site: their sessions end at once."""
    person = person_or_404(user_id)
    confirm = confirm_first(url_for(".change_account", user_id=user_id))
    if confirm:
        return confirm
    if request.method == "GET":
        return _change_page(person)
    try:
        details = DetailsForm.read(**_context(_choices(list(Role)))).details()
        accounts.move(viewer(), person, details)
    except Problem as refused:
        return shown(refused, lambda problem: _change_page(person, problem, 400), at_field="role")
    db.session.commit()
    flash(
        f"{person.display_name} now works as {ROLE_NAMES[person.role].lower()}: {staff.where_words(person)}. "
        "They have been signed out everywhere.",
        "success",
    )
    return redirect(url_for(".person_page", user_id=person.id))
