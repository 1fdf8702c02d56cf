"""What a clinician does to a call, one view per action, each at /triage/c/<reference>/<action>. Every
action is carried out the same way (`_carry_out`): all of it is saved or none of it, and a refusal
(a forbidden move, a stale page, a colleague who claimed first, a form to put right) comes back as a
message on the call's page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import flash, redirect, request, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from tracker.extensions import db
from tracker.models import Concern, ForbiddenTransition, User
from tracker.services.concerns import caller_updates, triage
from tracker.services.concerns.references import normalise_reference
from tracker.services.scope import Permission
from tracker.services.setup.settings import current_settings
from tracker.triage import bp, forms
from tracker.triage.routes import _age, _concern_or_404, _render_concern, _user
from tracker.web.authorisation import requires

STALE = "This call changed since you opened it, so nothing was saved. Check what changed, then try again."

Action = Callable[[Concern, User, MultiDict], "str | Response"]


def action(path: str, *, to_timeline: bool = True) -> Callable[[Action], Callable[[str], Response]]:
    """Registers `do` as the POST view for /c/<reference>/<path>, for clinicians who work calls. `do`
    returns the message to show once saved (or a page of its own, which saves nothing)."""

    def register(do: Action) -> Callable[[str], Response]:
        @bp.post(f"/c/<reference>/{path}", endpoint=do.__name__)
        @requires(Permission.WORK_CALLS)
        @wraps(do)
        def view(reference: str):
            return _carry_out(_concern_or_404(reference), do, to_timeline)

        return view

    return register


def _carry_out(concern: Concern, do: Action, to_timeline: bool):
    page = url_for(".concern_page", reference=concern.reference)
    try:
        result = do(concern, _user(), request.form)
        if not isinstance(result, str):
            return result
        db.session.commit()
    except forms.FormProblem as problem:
        db.session.rollback()
        return _render_concern(_concern_or_404(concern.reference), problem=problem, status=400)
    except (triage.StaleVersion, StaleDataError):
        db.session.rollback()
        flash(STALE, "warning")
        return redirect(page)
    except (triage.AlreadyClaimed, ForbiddenTransition, triage.TriageProblem) as refused:
        db.session.rollback()
        flash(str(refused), "warning")
        return redirect(page)
    flash(result, "success")
    return redirect(page + ("#timeline" if to_timeline else ""))


@action("claim", to_timeline=False)
def claim(concern: Concern, user: User, form: MultiDict) -> str:
    triage.claim(concern.id, user)
    return "You have claimed this call. Alerts for it have stopped."


@action("note")
def add_note(concern: Concern, user: User, form: MultiDict) -> str:
    triage.add_note(concern.id, user, forms.text(form, "note", "Write the note"))
    return "Note added."


@action("update-caller")
def update_caller(concern: Concern, user: User, form: MultiDict) -> str:
    caller_updates.update_caller(concern.id, user, form.get("template_id", ""))
    return "The text to the caller is on its way."


@action("release")
def release(concern: Concern, user: User, form: MultiDict) -> str:
    version = forms.version(form)
    triage.release(concern.id, user, forms.text(form, "reason", "Give a reason for releasing it"), version)
    return "Released: the call is back in the queue for the team."


@action("hand-over")
def hand_over(concern: Concern, user: User, form: MultiDict) -> str:
    version = forms.version(form)
    to = form.get("to_user_id", "")
    reason = forms.text(form, "reason", "Give a reason for handing it over")
    triage.hand_over(concern.id, user, int(to) if to.isdigit() else -1, reason, version)
    return "Handed over."


@action("priority")
def set_priority(concern: Concern, user: User, form: MultiDict) -> str:
    version = forms.version(form)
    triage.set_priority(concern.id, user, forms.priority(form), version)
    return "Priority set."


@action("review")
def record_review(concern: Concern, user: User, form: MultiDict) -> str | Response:
    if form.get("intent") == "calculate":
        # "Calculate NEWS2": the score beside the form; nothing is saved.
        return _render_concern(concern, news2=forms.news2(form, patient_age=_age(concern.patient_dob)))
    version = forms.version(form)
    kind, findings, news2 = forms.review(form, patient_age=_age(concern.patient_dob))
    triage.record_review(concern.id, user, kind=kind, findings=findings, news2=news2, version=version)
    return "Review recorded."


@action("close")
def close(concern: Concern, user: User, form: MultiDict) -> str:
    version = forms.version(form)
    coding = forms.coding(form, current_settings().timezone)
    triage.close(concern.id, user, coding, forms.text(form, "summary"), version)
    return "Call closed."


@action("close-without-review")
def close_without_review(concern: Concern, user: User, form: MultiDict) -> str:
    version = forms.version(form)
    coding = forms.coding(form, current_settings().timezone, without_review=True)
    reason = forms.text(form, "reason", "Say why no clinical review was needed")
    triage.close_without_review(concern.id, user, coding, reason, version)
    return "Call closed without a clinical review."


@action("cancel")
def cancel(concern: Concern, user: User, form: MultiDict) -> str:
    version = forms.version(form)
    kind, reason, duplicate_of = forms.cancel(form)
    triage.cancel(concern.id, user, kind, reason, version, normalise_reference(duplicate_of or "") or duplicate_of)
    return "Call cancelled."


@action("reopen")
def reopen(concern: Concern, user: User, form: MultiDict) -> str:
    version = forms.version(form)
    triage.reopen(concern.id, user, forms.text(form, "reason", "Give a reason for reopening it"), version)
    return "Call reopened and claimed by you."
