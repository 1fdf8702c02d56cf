"""What a clinician does to a call, one view per action, each at /triage/c/<reference>/<action>. Every
action is carried out the same way (`_carry_out`): all of it is saved or none of it. Each reads its own
form (`triage/forms.py`); a refusal (a form to put right, a forbidden move, a stale page, a colleague who
claimed first) is shown by `web/refusals.py`: beside the field, or as a message on the call's page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import flash, redirect, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from tracker.extensions import db
from tracker.models import CallerRoute, CancelKind, Concern, LocalReason, User
from tracker.problems import Problem
from tracker.services.concerns import caller_updates, linking, safeguarding, text_in, triage
from tracker.services.concerns.references import normalise_reference
from tracker.services.scope import Permission
from tracker.services.setup import in_reach
from tracker.services.setup.settings import current_settings
from tracker.triage import bp, forms
from tracker.triage.routes import _age, _concern_or_404, _render_concern, _user
from tracker.web.authorisation import requires
from tracker.web.refusals import shown

Action = Callable[[Concern, User], "str | Response"]


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
        try:
            result = do(concern, _user())
        except StaleDataError:
            raise triage.StaleVersion() from None
        if not isinstance(result, str):
            return result
        db.session.commit()
    except Problem as refused:
        return shown(
            refused,
            lambda problem: _render_concern(_concern_or_404(concern.reference), problem=problem, status=400),
            page=page,
        )
    flash(result, "success")
    return redirect(page + ("#timeline" if to_timeline else ""))


@action("claim", to_timeline=False)
def claim(concern: Concern, user: User) -> str:
    triage.claim(concern.id, user)
    return "You have claimed this call. Alerts for it have stopped."


@action("note")
def add_note(concern: Concern, user: User) -> str:
    triage.add_note(concern.id, user, forms.NoteForm.read().checked().note.data)
    return "Note added."


@action("update-caller")
def update_caller(concern: Concern, user: User) -> str:
    caller_updates.update_caller(concern.id, user, forms.UpdateCallerForm.read().template_id.data or "")
    return "The text to the caller is on its way."


@action("release")
def release(concern: Concern, user: User) -> str:
    form = forms.ReleaseForm.read().checked()
    triage.release(concern.id, user, form.reason.data, form.version.data)
    return "Released: the call is back in the queue for the team."


@action("hand-over")
def hand_over(concern: Concern, user: User) -> str:
    form = forms.HandOverForm.read().checked()
    triage.hand_over(concern.id, user, form.to_user(), form.reason.data, form.version.data)
    return "Handed over."


@action("priority")
def set_priority(concern: Concern, user: User) -> str:
    form = forms.PriorityForm.read().checked()
    triage.set_priority(concern.id, user, form.priority.data, form.version.data)
    return "Priority set."


@action("review")
def record_review(concern: Concern, user: User) -> str | Response:
    form = forms.ReviewForm.read()
    age = _age(concern.patient_dob)
    if form.intent.data == "calculate":
        # "Calculate NEWS2": the score beside the form; nothing is saved.
        return _render_concern(concern, news2=form.news2(patient_age=age))
    kind, findings, news2 = form.review(patient_age=age)
    triage.record_review(concern.id, user, kind=kind, findings=findings, news2=news2, version=form.version.data)
    return "Review recorded."


@action("close")
def close(concern: Concern, user: User) -> str:
    form = forms.CloseForm.read(tz=current_settings().timezone, dob_known=concern.patient_dob is not None)
    triage.close(concern.id, user, form.coding(), form.summary.data, form.version.data)
    return "Call closed."


@action("close-without-review")
def close_without_review(concern: Concern, user: User) -> str:
    form = forms.CloseWithoutReviewForm.read(
        tz=current_settings().timezone, without_review=True, dob_known=concern.patient_dob is not None
    )
    triage.close_without_review(concern.id, user, form.coding(), form.reason.data, form.version.data)
    return "Call closed without a clinical review."


@action("cancel")
def cancel(concern: Concern, user: User) -> str:
    form = forms.CancelForm.read().checked()
    duplicate_of = form.duplicate_of.data
    triage.cancel(
        concern.id,
        user,
        CancelKind(form.cancel_kind.data),
        form.reason.data,
        form.version.data,
        normalise_reference(duplicate_of or "") or duplicate_of,
        local_reason=LocalReason(form.local_reason.data) if form.local_reason.data else None,
    )
    return "Call cancelled."


@bp.post("/c/<reference>/safeguarding", endpoint="set_safeguarding")
@requires(Permission.FLAG_SAFEGUARDING)
def set_safeguarding(reference: str) -> Response:
    def do(concern: Concern, user: User) -> str:
        safeguarding.set_flag(concern, user)
        return "Flagged for safeguarding: nothing more is texted to the caller."

    return _carry_out(_concern_or_404(reference), do, True)


@bp.post("/c/<reference>/safeguarding/clear", endpoint="clear_safeguarding")
@requires(Permission.CLEAR_SAFEGUARDING)
def clear_safeguarding(reference: str) -> Response:
    def do(concern: Concern, user: User) -> str:
        safeguarding.clear_flag(concern, user)
        return "The safeguarding flag is cleared."

    return _carry_out(_concern_or_404(reference), do, True)


@action("follow-up-read")
def follow_up_read(concern: Concern, user: User) -> str:
    caller_updates.mark_follow_up_read(concern, user)
    return "The caller's text is marked as read."


@action("link")
def link(concern: Concern, user: User) -> str:
    form = forms.LinkForm.read().checked()
    other = normalise_reference(form.other_reference.data) or form.other_reference.data
    follower, primary = linking.link(concern.id, user, other, form.version.data)
    return (
        f"{follower.reference} is linked to {primary.reference}: it is no longer paged, it follows "
        f"{primary.reference}, and its caller gets the updates."
    )


@action("unlink")
def unlink(concern: Concern, user: User) -> str:
    form = forms.UnlinkForm.read().checked()
    linking.unlink(concern.id, user, form.reason.data, form.version.data)
    return "Unlinked: the call is back in the queue on its own, and paging has started again."


@action("follow-up-call", to_timeline=False)
def raise_follow_up(concern: Concern, user: User) -> Response:
    outcome = linking.raise_follow_up(concern, user)
    db.session.commit()
    flash(f"Call {outcome.reference} raised from the caller's text. The outreach team has been alerted.", "success")
    return redirect(url_for(".concern_page", reference=outcome.reference))


@action("details")
def set_text_in_details(concern: Concern, user: User) -> str:
    wards = {str(ward.id): ward for ward in in_reach.wards_to_raise_for(user)}
    form = forms.TextInDetailsForm.read(ward_ids=set(wards)).checked()
    text_in.set_details(concern, user, caller_route=CallerRoute(form.caller_route.data), ward=wards[form.ward_id.data])
    return "Saved: who raised the call, and the ward."


@action("reopen")
def reopen(concern: Concern, user: User) -> str:
    form = forms.ReopenForm.read().checked()
    triage.reopen(concern.id, user, form.reason.data, form.version.data)
    return "Call reopened and claimed by you."
