"""The ward's own view (docs/architecture.md#the-wards-calls): its calls, refreshed by the page itself, each with its
wait in words and a status page. Thin: the reads are services/concerns/ward_view.py."""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_login import current_user

from tracker.clock import utcnow
from tracker.services.concerns import ward_view
from tracker.services.concerns.references import normalise_reference
from tracker.services.phone import display_phone
from tracker.services.scope import Permission
from tracker.services.words import CONCERN_CHANNEL_WORDS
from tracker.triage import bp
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires

# How often the ward's list asks for changes: a ward PC is one of many, and a ward waits minutes, not seconds.
REFRESH_SECONDS = 10


@bp.get("/ward")
@requires(Permission.SEE_WARD)
def ward_page():
    """The ward's calls: when each was raised, its wait, its status and who has it; no clinical notes. Not audited
    (nor is its refresh): it shows nothing the ward did not give."""
    user = current_user.user
    return render_template(
        "triage/ward.html",
        ward=user.ward,
        concerns=ward_view.ward_calls(user),
        wait=ward_view.wait,
        version=ward_view.ward_version(user),
        refresh_seconds=REFRESH_SECONDS,
        now=utcnow(),
    )


@bp.get("/ward/rows")
@requires(Permission.SEE_WARD)
def ward_rows():
    """The ward's list's refresh: 304 when nothing has changed since the version the page last saw. Not audited and
    not counted as the person's activity (web/authorisation.py: PASSIVE_ENDPOINTS)."""
    user = current_user.user
    version = ward_view.ward_version(user)
    if request.if_none_match.contains(version):
        response = make_response("", 304)
    else:
        response = make_response(
            render_template(
                "triage/_ward_rows.html", concerns=ward_view.ward_calls(user), wait=ward_view.wait, now=utcnow()
            )
        )
    # Cache-Control stays no-store (patient data): the page's script sends If-None-Match itself.
    response.set_etag(version)
    return response


@bp.get("/ward/c/<reference>")
@requires(Permission.SEE_WARD)
def ward_call_page(reference: str):
    """One call's status for the ward that raised it: status, who has it, its wait and when each step happened.
    A call of another ward, or one no longer on the ward's list, is not found (404, the attempt audited)."""
    normalised = normalise_reference(reference)
    concern = found_or_404(ward_view.ward_call(current_user.user, normalised) if normalised else None, "concern")
    return render_template(
        "triage/ward_call.html",
        concern=concern,
        wait=ward_view.wait(concern),
        times=ward_view.times(concern),
        channel_words=CONCERN_CHANNEL_WORDS,
        team_phone=display_phone(concern.team.public_phone) or concern.team.public_phone,
        now=utcnow(),
    )
