"""The access review (docs/architecture.md#set-up): every account in reach with how it signs in and when it last did,
the unused ones flagged; as CSV; and this month's review recorded as done. Managers see and record their own site,
administrators a site or the whole trust (`?site=<code>` or `_trust`); another site is not found."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField

from tracker.admin import bp
from tracker.admin.sections import Section, add
from tracker.clock import local, utcnow
from tracker.db import begin_write
from tracker.extensions import db
from tracker.problems import Problem
from tracker.services.people import access_review, access_reviews
from tracker.services.people.access_review import ReviewScope
from tracker.services.scope import Permission
from tracker.services.setup.settings import current_settings
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires
from tracker.web.posted import PostedForm
from tracker.web.refusals import shown

add(
    Section(
        "admin.access_page",
        "Access review",
        "Every staff account, how it signs in and when it last did; accounts nobody uses are flagged. Record each "
        "month's review here.",
        Permission.REVIEW_ACCESS,
    )
)


class ReviewDoneForm(PostedForm):
    """What the review covered: a site's code or `_trust` (the page's hidden field; checked against reach)."""

    site = StringField()


def _user():
    return current_user.user


def _scope(chosen: str | None) -> ReviewScope:
    """The scope asked for, or 404 (audited) when it is beyond the person's reach."""
    return found_or_404(access_review.scope_for(_user(), chosen), "access review")


@bp.get("/access")
@requires(Permission.REVIEW_ACCESS)
def access_page():
    review = _scope(request.args.get("site"))
    settings = current_settings()
    now = utcnow()
    days = settings.access_review_unused_days
    rows = access_review.accounts(review, now, days)
    offered = access_review.scopes_offered(_user())
    return render_template(
        "admin/access.html",
        review=review,
        offered=offered if len(offered) > 1 else [],
        rows=rows,
        summary=access_review.Summary.of(rows),
        state=access_reviews.state(review, access_reviews.this_month(now, settings.timezone)),
        days=days,
    )


@bp.get("/access.csv")
@requires(Permission.REVIEW_ACCESS)
def access_csv():
    """The page's accounts as CSV. Each download is audited."""
    review = _scope(request.args.get("site"))
    settings = current_settings()
    now = utcnow()
    rows = access_review.accounts(review, now, settings.access_review_unused_days)
    body = access_review.csv_text(rows, tz=settings.timezone, days=settings.access_review_unused_days)
    begin_write()
    access_reviews.record_download(_user(), review, len(rows))
    db.session.commit()
    response = Response(body, mimetype="text/csv")
    # Built from a code we hold and today's date, never from the request as typed.
    slug = review.code if review.site_id is not None else "whole-trust"
    name = f"access-review-{slug}-{local(now, settings.timezone):%Y-%m-%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/access/review")
@requires(Permission.REVIEW_ACCESS)
def record_access_review():
    """Record this month's review of the scope as done, once a month for each scope."""
    review = _scope(ReviewDoneForm.read().site.data)
    page = url_for(".access_page", site=review.code)
    settings = current_settings()
    try:
        access_reviews.record(
            _user(), review, now=utcnow(), tz=settings.timezone, days=settings.access_review_unused_days
        )
    except Problem as refused:
        return shown(refused, lambda problem: redirect(page), page=page)
    db.session.commit()
    flash(f"This month's access review of {review.name} is recorded as done.", "success")
    return redirect(page)
