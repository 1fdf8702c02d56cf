"""The improvement charts page (docs/architecture.md#improvement-charts): for a manager's site, each figure's
month-by-month XmR chart with its icons and its table. Thin: read the query string, call
services/reports/improvement.py, render. Bad input is a message on the form (400), never an error page."""

from __future__ import annotations

from flask import render_template, request

from tracker.extensions import db
from tracker.problems import Problem
from tracker.reports import bp, filters
from tracker.reports.routes import CHARTJS_VERSION, _no_site, _site_or_404, managed_sites
from tracker.services.reports import improvement as charts
from tracker.services.reports import periods, rollups
from tracker.services.scope import Permission
from tracker.services.setup.settings import current_settings
from tracker.web.authorisation import requires
from tracker.web.staff_pages import warnings


@bp.get("/improvement")
@requires(Permission.SEE_REPORTS)
def improvement():
    """Improvement charts for the last `months` whole months (default 24) at the manager's site."""
    settings = current_settings()
    sites = managed_sites()
    if not sites:
        return _no_site()
    site = _site_or_404(request.args.get("site"), sites)
    today = periods.today_local(settings.timezone)
    form = {"months": (request.args.get("months") or "")[:40]}
    status, errors, figures = 200, [], None
    try:
        months = filters.improvement_months(request.args, charts.DEFAULT_MONTHS, charts.MIN_MONTHS, charts.MAX_MONTHS)
        history = charts.span(today, months)
        if rollups.refresh(site.id, history.start, history.end):  # days not yet added up, or changed since: kept now
            db.session.commit()
        figures = charts.improvement(site, today, months, settings)
        form["months"] = str(months)
    except filters.FilterProblems as problems:
        status, errors = 400, problems.problems
    except Problem as problem:  # a series the arithmetic refuses: say so rather than fail
        status, errors = 400, [("months", str(problem))]
    return render_template(
        "reports/improvement.html",
        figures=figures,
        errors=errors,
        form=form,
        site=site,
        sites=sites,
        chartjs_version=CHARTJS_VERSION,
        warnings=warnings(),
        limits=(charts.MIN_MONTHS, charts.MAX_MONTHS),
        flag_words=charts.flag_words,
    ), status
