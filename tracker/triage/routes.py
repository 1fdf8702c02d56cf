"""Triage views. Thin: find the concern in the person's scope (404 otherwise), read the form, call
one service function, commit, flash, redirect."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from tracker.clock import utcnow
from tracker.db import reads_only, writes
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    CallerRoute,
    Channel,
    Concern,
    Ward,
)
from tracker.problems import FieldProblem
from tracker.services import scope
from tracker.services.concerns import caller_texts, caller_updates, linked_calls, queue, reads, same_patient
from tracker.services.concerns.intake import Source, WardUnavailable, raise_concern
from tracker.services.concerns.news2 import PARAMETER_LABELS, RESPONSE_TEXT, Response
from tracker.services.concerns.references import normalise_reference
from tracker.services.messaging.notifications import family_text_decision
from tracker.services.paging import standing
from tracker.services.paging import warnings as staff_warnings
from tracker.services.people import saved_forms
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.services.setup import in_reach
from tracker.services.setup.settings import current_settings
from tracker.services.words import CONCERN_CHANNEL_WORDS, LABELS, caller_text_words
from tracker.triage import bp
from tracker.triage.staff_form import StaffConcernForm
from tracker.web import concern_form_helpers as view_helpers
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires
from tracker.web.concern_form import new_submission_id
from tracker.web.staff_pages import warnings

VIEWS = {"all": "All open calls", "mine": "Mine", "unclaimed": "Not claimed"}


def _user():
    return current_user.user


def _queue_args():
    view = request.args.get("view", "all")
    if view not in VIEWS:
        view = "all"
    site_id = None
    site_code = request.args.get("site", "")
    if site_code:
        site_id = in_reach.site_id_for_code(site_code)
    return view, site_id, site_code


def _teams_and_sites():
    return in_reach.teams_and_sites(_user())


def _version(view: str, site_id: int | None, notes) -> str:
    """The queue's version with the warnings' fingerprint: a worker that stops, or a rota gap
    that opens, changes what the page must show even when no call has changed."""
    return f"{queue.queue_version(_user(), view, site_id)}-{staff_warnings.digest(notes)}"


def _concern_url():
    """url_for("triage.concern_page") for a page of many rows: built once, then joined with each
    reference (letters, digits and dashes; quoted all the same)."""
    prefix = url_for("triage.concern_page", reference="_")[:-1]
    return lambda reference: prefix + quote(reference, safe="")


@bp.get("/")
@reads_only
@requires(Permission.SEE_CALLS)
def queue_page():
    """The live queue of the person's team(s) (outreach) or site (manager, read-only)."""
    view, site_id, site_code = _queue_args()
    teams, sites = _teams_and_sites()
    data = queue.queue(_user(), view, site_id)
    notes = warnings()
    return render_template(
        "triage/queue.html",
        queue=data,
        view=view,
        views=VIEWS,
        sites=sites,
        site_code=site_code,
        teams=teams,
        version=_version(view, site_id, notes),
        warnings=notes,
        now=utcnow(),
        concern_url=_concern_url(),
    )


@bp.get("/queue/rows")
@reads_only
@requires(Permission.SEE_CALLS)
def queue_rows():
    """The queue's refresh: 304 when nothing has changed since the version the page last saw.
    Not audited and not counted as the person's activity."""
    view, site_id, _ = _queue_args()
    notes = warnings()
    version = _version(view, site_id, notes)
    if request.if_none_match.contains(version):
        response = make_response("", 304)
    else:
        data = queue.queue(_user(), view, site_id)
        response = make_response(
            render_template(
                "triage/_queue_rows.html", queue=data, now=utcnow(), warnings=notes, concern_url=_concern_url()
            )
        )
    # Cache-Control stays no-store (patient data): the page's script sends If-None-Match itself.
    response.set_etag(version)
    return response


def _concern_or_404(reference: str) -> Concern:
    normalised = normalise_reference(reference)
    return found_or_404(reads.find_visible(_user(), normalised) if normalised else None, "concern")


@bp.get("/c/<reference>")
@requires(Permission.SEE_CALLS)
@writes
def concern_page(reference: str):
    """Everything about one call. Opening it is audited (who, when)."""
    concern = _concern_or_404(reference)
    audit.record(
        "viewed", audit.Actor.user(_user().id), object_type="concern", object_id=concern.id, concern_id=concern.id
    )
    unread = concern.unread_reply
    # A clinician has now seen the caller's text; a text after the call ended stays flagged until
    # the call is reopened or the text is marked read.
    if unread and scope.can(_user(), Permission.WORK_CALLS) and concern.status in OPEN_STATUSES:
        caller_updates.mark_replies_read(concern.id)
    if concern.first_opened_at is None:
        caller_updates.mark_opened(concern.id)
    restored = saved_forms.take(session.pop("saved_form", None), _user().id, request.path)
    db.session.commit()
    return _render_concern(concern, restored=restored, unread=unread)


def _render_concern(
    concern: Concern,
    *,
    restored: dict | None = None,
    problem: FieldProblem | None = None,
    news2=None,
    status: int = 200,
    unread: bool = False,
):
    settings = current_settings()
    form = dict(restored or {})
    if problem is not None or news2 is not None:
        form = {key: value for key, value in request.form.items()}
        form["change_in_care"] = request.form.getlist("change_in_care")
        form["_action"] = request.path.rsplit("/", 1)[-1]  # the action posted: /triage/c/<ref>/<action>
    age = _age(concern.patient_dob)
    return render_template(
        "triage/concern.html",
        **_problems_shown(problem, form.get("_action", "")),
        concern=concern,
        timeline=reads.timeline(concern),
        messages=reads.messages_for(concern),
        clinicians=[c for c in reads.team_clinicians(concern) if c.id != _user().id],
        can_act=scope.can(_user(), Permission.WORK_CALLS),
        is_claimant=concern.claimed_by_id == _user().id,
        labels=LABELS,
        caller_updates=caller_updates.CALLER_UPDATES,
        form=form,
        problem=problem,
        news2=news2,
        response_text=RESPONSE_TEXT,
        news2_labels=PARAMETER_LABELS,
        channel_words=CONCERN_CHANNEL_WORDS,
        Response=Response,
        patient_age=age,
        textable=family_text_decision(concern, settings).value == "queued",
        textable_callers=caller_updates.textable_callers(concern),
        caller_text=_caller_text(concern, settings.text_relatives_allowed),
        callback=display_phone(concern.callback_number),
        tz=settings.timezone,
        warnings=warnings(),
        replies=caller_texts.caller_replies(concern),
        opted_out_word=caller_texts.caller_opted_out(concern),
        same_patient=same_patient.other_open_calls(concern),
        linked_calls=linked_calls.linked_to(concern),
        text_in_wards=(
            in_reach.wards_to_raise_for(_user())
            if concern.ward_id is None or concern.caller_route is CallerRoute.UNKNOWN
            else None
        ),
        safeguarding_lead=_safeguarding_lead(settings),
        unread=unread,
        paging=standing.paging_state(concern),
        waiting_target=queue.waiting_target(
            concern.status, concern.team.ack_target_minutes, concern.team.review_target_minutes
        ),
    ), status


def _safeguarding_lead(settings) -> dict:
    phone = settings.safeguarding_lead_phone
    return {"name": settings.safeguarding_lead_name, "phone": phone, "shown": display_phone(phone) if phone else None}


def _problems_shown(problem: FieldProblem | None, action: str) -> dict:
    """Every problem at once where the form gave several (NEWS2): each in the error summary, linked to its
    question, and beside it."""
    field_problems = getattr(problem, "problems", None) or ({problem.field: str(problem)} if problem else {})
    errors = [{"text": message, "href": f"#{action}-{field}"} for field, message in field_problems.items()]
    return {"field_problems": field_problems, "errors": errors}


def _caller_text(concern: Concern, relatives_texted: bool) -> str:
    """Whether the caller can be texted, in the queue's words ("No text yet" when they can)."""
    return caller_text_words(
        number=concern.callback_number,
        consent=concern.sms_consent,
        textable=concern.callback_textable,
        relative=concern.caller_route in (CallerRoute.FAMILY, CallerRoute.UNKNOWN),
        relatives_texted=relatives_texted,
        stopped_by_caller=caller_texts.caller_opted_out(concern) is not None,
        safeguarding=concern.safeguarding,
        patient_left=concern.local_reason is not None,
        latest=None,
    )


def _age(dob: date | None) -> int | None:
    if dob is None:
        return None
    today = utcnow().date()
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


# --- staff route and phone calls (the ward's view is in ward.py) -----------------------------------------


def _wards_for(user) -> list[Ward]:
    return in_reach.wards_to_raise_for(user)


@bp.route("/raise", methods=["GET", "POST"])
@requires(Permission.RAISE_CALLS)
def raise_call():
    """A call raised by staff (the staff route), or a call taken by phone for a family."""
    user = _user()
    wards = _wards_for(user)
    form = StaffConcernForm(
        request.form if request.method == "POST" else None,
        wards=wards,
        data=None if request.method == "POST" else {"submission_id": new_submission_id()},
    )
    valid = request.method == "POST" and form.validate()
    form.keep_or_renew_submission_id()
    if valid:
        channel = Channel.STAFF if form.caller_route.data == "staff" else Channel.PHONE_CALL
        intake = form.to_intake(ward_id=int(form.ward_id.data), channel=channel, locale="en")
        try:
            outcome = raise_concern(intake, Source(), audit.Actor.user(user.id))
            db.session.commit()
        except WardUnavailable:
            db.session.rollback()
            form.ward_id.errors.append("That ward is closed. Choose another")
        except IntegrityError:
            db.session.rollback()
            flash("That call was already sent.", "information")
            return redirect(url_for(".raise_call"))
        else:
            flash(f"Call {outcome.reference} raised. The outreach team has been alerted.", "success")
            if scope.can(user, Permission.SEE_CALLS):
                return redirect(url_for(".concern_page", reference=outcome.reference))
            return redirect(url_for(".ward_page"))
    errors = [{"text": str(m), "href": f"#{f.id}"} for f in form for m in f.errors]
    return render_template("triage/raise.html", form=form, wards=wards, errors=errors), (400 if errors else 200)


@bp.context_processor
def template_helpers():
    return view_helpers.HELPERS
