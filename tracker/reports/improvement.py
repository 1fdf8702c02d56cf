"""The improvement charts page (docs/architecture.md#improvement-charts): for a manager's site, each figure's
month-by-month XmR chart with its icons and its table, and the changes and baselines the manager recorded.
Thin: read the query string or the posted form, call services/reports/ (improvement.py, improvement_changes.py),
render. Bad input is a message on the form (400), never an error page; another site's change or baseline, or
another site, is not found (404), never written."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Site, Ward
from tracker.problems import FieldProblem, Problem
from tracker.reports import bp, filters
from tracker.reports.improvement_forms import BaselineForm, ChangeForm, SiteForm
from tracker.reports.routes import CHARTJS_VERSION, _no_site, _site_or_404, managed_sites
from tracker.services.reports import improvement as charts
from tracker.services.reports import improvement_changes as recorded
from tracker.services.reports import periods, rollups
from tracker.services.scope import Permission
from tracker.services.setup.settings import current_settings
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires
from tracker.web.posted import raw
from tracker.web.staff_pages import warnings


@bp.get("/improvement")
@requires(Permission.SEE_REPORTS)
def improvement():
    """Improvement charts for the last `months` whole months (default 24) at the manager's site."""
    sites = managed_sites()
    if not sites:
        return _no_site()
    site = _site_or_404(request.args.get("site"), sites)
    return _page(site, sites, request.args)


def _page(site: Site, sites: list[Site], args, errors=(), status: int = 200, posted: dict | None = None):
    """The page for `args` (a query string; empty after a refused form: the default months)."""
    settings = current_settings()
    today = periods.today_local(settings.timezone)
    form = {"months": (args.get("months") or "")[:40]}
    errors, figures = list(errors), None
    try:
        months = filters.improvement_months(args, charts.DEFAULT_MONTHS, charts.MIN_MONTHS, charts.MAX_MONTHS)
        history = charts.span(today, months)
        if rollups.refresh(site.id, history.start, history.end):  # days not yet added up, or changed since: kept now
            db.session.commit()
        figures = charts.improvement(site, today, months, settings)
        form["months"] = str(months)
    except filters.FilterProblems as problems:
        status, errors = 400, problems.problems
    except Problem as problem:  # a series the arithmetic refuses: say so rather than fail
        status, errors = 400, [("months", str(problem))]
    changes, baselines = recorded.recorded(site.id)
    return render_template(
        "reports/improvement.html",
        figures=figures,
        errors=errors,
        form=form,
        posted=posted or {},
        site=site,
        sites=sites,
        wards=_wards(site.id),
        changes=changes,
        baselines=baselines,
        run_length=settings.spc_run_length,
        chartjs_version=CHARTJS_VERSION,
        warnings=warnings(),
        limits=(charts.MIN_MONTHS, charts.MAX_MONTHS),
        flag_words=charts.flag_words,
    ), status


def _wards(site_id: int) -> list[tuple[int, str]]:
    query = select(Ward.id, Ward.name).where(Ward.site_id == site_id, Ward.retired_at.is_(None)).order_by(Ward.name)
    return [(ward_id, name) for ward_id, name in db.session.execute(query)]


def _posted_site() -> tuple[Site, list[Site]]:
    sites = managed_sites()
    if not sites:
        abort(404)
    return _site_or_404(raw(SiteForm.read().site), sites), sites


def _refused(site: Site, sites: list[Site], problems: dict[str, str], form) -> tuple:
    posted = {field.name: raw(field)[:200] for field in form if field.name != "site"}
    return _page(site, sites, {}, errors=list(problems.items()), status=400, posted=posted)


def _back(site: Site, anchor: str):
    return redirect(url_for(".improvement", site=site.code, _anchor=anchor), code=303)


@bp.post("/improvement/changes")
@requires(Permission.SEE_REPORTS)
def record_change():
    """Record a change to the service at the manager's site (audited): a new segment on every chart."""
    site, sites = _posted_site()
    form = ChangeForm.read(wards={ward_id for ward_id, _name in _wards(site.id)})
    problems = form.problems()
    month = form.month
    if problems or month is None:
        return _refused(site, sites, problems or {"change_month": "Enter the month the change took effect"}, form)
    today = periods.today_local(current_settings().timezone)
    try:
        recorded.record_change(current_user.user, site.id, month, form.ward.data, form.description.data, today)
    except FieldProblem as problem:
        return _refused(site, sites, {problem.field: str(problem)}, form)
    db.session.commit()
    flash(f"Change from {month:%B %Y} recorded: every chart starts a new baseline there.", "success")
    return _back(site, "changes")


@bp.post("/improvement/changes/<int:change_id>/remove")
@requires(Permission.SEE_REPORTS)
def remove_change(change_id: int):
    """Remove one of the site's recorded changes (audited)."""
    site, _sites = _posted_site()
    row = found_or_404(recorded.change_of_site(site.id, change_id), "improvement_change")
    recorded.remove_change(current_user.user, row)
    db.session.commit()
    flash(f"The change from {row.month:%B %Y} is removed.", "success")
    return _back(site, "changes")


@bp.post("/improvement/baselines")
@requires(Permission.SEE_REPORTS)
def fix_baseline():
    """Fix the baseline of the segment the chosen months lie in (audited)."""
    site, sites = _posted_site()
    form = BaselineForm.read()
    problems = form.problems()
    start, end = form.start, form.end
    if problems or start is None or end is None:
        return _refused(site, sites, problems or {"from_month": "Enter the first and last months"}, form)
    today = periods.today_local(current_settings().timezone)
    try:
        recorded.fix_baseline(current_user.user, site.id, start, end, today)
    except FieldProblem as problem:
        return _refused(site, sites, {problem.field: str(problem)}, form)
    db.session.commit()
    flash(f"Baseline fixed: {start:%b %Y} to {end:%b %Y}.", "success")
    return _back(site, "baselines")


@bp.post("/improvement/baselines/<int:baseline_id>/remove")
@requires(Permission.SEE_REPORTS)
def remove_baseline(baseline_id: int):
    """Unfix one of the site's baselines (audited): its segment takes its first 12 months with figures again."""
    site, _sites = _posted_site()
    row = found_or_404(recorded.baseline_of_site(site.id, baseline_id), "improvement_baseline")
    recorded.remove_baseline(current_user.user, row)
    db.session.commit()
    flash(f"The baseline from {row.start_month:%b %Y} to {row.end_month:%b %Y} is unfixed.", "success")
    return _back(site, "baselines")
