"""Reports views, for managers and only for the site they manage (another site's figures answer
404). Thin: read the query string, call one function of services/reports/ (dashboard.py, monthly_return.py), render."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.db import writes
from tracker.extensions import db
from tracker.models import FamilyRouteStatus, Site, StaffRouteStatus
from tracker.problems import Problem
from tracker.reports import bp, filters
from tracker.services.records import audit
from tracker.services.records.spreadsheet import neutralise
from tracker.services.reports import daily_check, implementation, periods, rollups
from tracker.services.reports import dashboard as dashboard_figures
from tracker.services.reports import improvement as charts
from tracker.services.reports import monthly_return as nhs_return
from tracker.services.reports.working_hours import REGION_NAMES
from tracker.services.scope import Permission
from tracker.services.setup import in_reach
from tracker.services.setup.settings import current_settings
from tracker.services.words import LABELS
from tracker.web import improvement_drawn
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires
from tracker.web.posted import raw
from tracker.web.staff_pages import warnings

CHARTJS_VERSION = (Path(__file__).resolve().parent.parent / "static" / "vendor" / "CHARTJS_VERSION").read_text().strip()


def _user():
    return current_user.user


def managed_sites() -> list[Site]:
    """The sites the signed-in manager reports on (their own site)."""
    return in_reach.managed_sites(_user())


def _site_or_404(code: str | None, sites: list[Site]) -> Site:
    """The chosen site (by code), or the manager's own when none is chosen; 404 for any other."""
    if not code:
        return sites[0]
    wanted = code.strip().lower()[:32]
    return found_or_404(next((site for site in sites if site.code == wanted), None), "report_site")


def _no_site():
    return render_template("reports/no_site.html"), 200


@bp.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    """A clock in words a manager can copy: 45 s, 4 min 30 s, 2 h 05 min."""
    if seconds is None:
        return "–"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


@bp.app_template_filter("tracker_error_link")
def error_link(problem: tuple[str, str]) -> dict:
    """A (field id, message) pair as an item of the NHS error summary."""
    field_id, message = problem
    return {"text": message, "href": f"#{field_id}"}


@bp.app_template_filter("tracker_hour_rows")
def hour_rows(counts: list[int]) -> list[tuple[str, int]]:
    return [(f"{hour:02d}:00", count) for hour, count in enumerate(counts)]


def _shortcuts(today: date) -> list[dict]:
    this_month = periods.month_period(today)
    last_month = periods.month_period(this_month.start - timedelta(days=1))
    twelve = periods.Period(periods._add_months(this_month.start, -11), this_month.end)
    year = periods.Period(date(today.year, 1, 1), date(today.year, 12, 31))
    return [
        {"text": text, "period": period}
        for text, period in (
            ("This month", this_month),
            ("Last month", last_month),
            ("Last 12 months", twelve),
            (f"{today.year}", year),
        )
    ]


def period_args(period: periods.Period, site: Site | None = None) -> dict[str, int | str]:
    args: dict[str, int | str] = {
        "from-day": period.start.day,
        "from-month": period.start.month,
        "from-year": period.start.year,
        "to-day": period.end.day,
        "to-month": period.end.month,
        "to-year": period.end.year,
    }
    if site is not None:
        args["site"] = site.code
    return args


@bp.get("/")
@requires(Permission.SEE_REPORTS)
def dashboard():
    """The dashboard for a period (default: this month, local time) at the manager's site. Bad
    dates or unknown filters come back as messages on the form (400), never an error page."""
    settings = current_settings()
    sites = managed_sites()
    if not sites:
        return _no_site()
    site = _site_or_404(request.args.get("site"), sites)
    today = periods.today_local(settings.timezone)
    form = {key: request.args.get(key, "") for key in filters.DASHBOARD_KEYS}
    try:
        period = filters.dashboard_period(request.args, settings.timezone, today)
    except filters.FilterProblems as problems:
        return render_template(
            "reports/dashboard.html",
            figures=None,
            errors=problems.problems,
            form=form,
            site=site,
            sites=sites,
            shortcuts=_shortcuts(today),
            period_args=period_args,
            chartjs_version=CHARTJS_VERSION,
            warnings=warnings(),
        ), 400
    if not any(value for key, value in form.items() if key != "site"):  # the default period: show it in the form
        form.update({key: str(value) for key, value in period_args(period).items()})
    span = dashboard_figures.trend_span(period)
    history = charts.span(today, charts.DEFAULT_MONTHS)  # the improvement charts': whole months to last month's
    kept = rollups.refresh(site.id, span.start, span.end)
    kept += rollups.refresh(site.id, history.start, history.end)
    if kept:  # days not yet added up, or changed since: kept now
        db.session.commit()
    figures = dashboard_figures.dashboard(site, period, settings)
    improvement, improvement_problem = None, None
    try:
        improvement = charts.improvement(site, today, charts.DEFAULT_MONTHS, settings, figures.facts_missing)
    except Problem as problem:  # a series the arithmetic refuses: said in its section, the rest still shown
        improvement_problem = str(problem)
    return render_template(
        "reports/dashboard.html",
        figures=figures,
        daily_check=daily_check.figures(site.id, period, settings.timezone),
        improvement=improvement,
        improvement_problem=improvement_problem,
        improvement_chart=improvement_drawn.on_dashboard,  # xmr_chart's drawing, remembered (web/improvement_drawn.py)
        errors=[],
        form=form,
        site=site,
        sites=sites,
        shortcuts=_shortcuts(today),
        period_args=period_args,
        labels=LABELS,
        region_names=REGION_NAMES,
        chartjs_version=CHARTJS_VERSION,
        warnings=warnings(),
    )


def _return_page(
    site: Site, sites: list[Site], month: date | None, *, errors=(), status: int = 200, form: dict | None = None
):
    settings = current_settings()
    report = nhs_return.monthly_return(site, month, settings) if month else None
    return render_template(
        "reports/monthly_return.html",
        report=report,
        site=site,
        sites=sites,
        errors=list(errors),
        form=form or {},
        month=month,
        today=periods.today_local(settings.timezone),
    ), status


@bp.get("/return")
@requires(Permission.SEE_REPORTS)
def monthly_return():
    """The NHS England monthly return for a month (default: last month) at the manager's site,
    with each measure's definition, and the form to record the site's implementation status."""
    settings = current_settings()
    sites = managed_sites()
    if not sites:
        return _no_site()
    site = _site_or_404(request.args.get("site"), sites)
    today = periods.today_local(settings.timezone)
    try:
        month = filters.return_month(request.args, settings.timezone, today)
    except filters.FilterProblems as problems:
        form = {"month": request.args.get("month", ""), "year": request.args.get("year", "")}
        return _return_page(site, sites, None, errors=problems.problems, status=400, form=form)
    return _return_page(site, sites, month, form={"month": str(month.month), "year": str(month.year)})


@bp.get("/return.csv")
@requires(Permission.SEE_REPORTS)
@writes
def monthly_return_csv():
    """The same return as a CSV file (figures and definitions, no personal data). Every cell goes
    through the one spreadsheet rule; the download is audited."""
    settings = current_settings()
    sites = managed_sites()
    if not sites:
        abort(404)
    site = _site_or_404(request.args.get("site"), sites)
    try:
        month = filters.return_month(request.args, settings.timezone, periods.today_local(settings.timezone))
    except filters.FilterProblems as problems:
        return _return_page(
            site,
            sites,
            None,
            errors=problems.problems,
            status=400,
            form={"month": request.args.get("month", ""), "year": request.args.get("year", "")},
        )
    report = nhs_return.monthly_return(site, month, settings)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in nhs_return.return_rows(report):
        writer.writerow([neutralise(cell) for cell in row])
    audit.record(
        "monthly_return_downloaded",
        audit.Actor.user(_user().id),
        object_type="site",
        object_id=site.id,
        changes={"month": f"{month:%Y-%m}", "format": "csv"},
    )
    db.session.commit()
    response = make_response(buffer.getvalue())
    response.mimetype = "text/csv"  # Werkzeug adds "; charset=utf-8" to a text/* type
    response.headers["Content-Disposition"] = (
        f'attachment; filename="marthas-rule-return-{site.code}-{month:%Y-%m}.csv"'
    )
    return response


@bp.post("/return/implementation")
@requires(Permission.SEE_REPORTS)
def record_implementation():
    """Record the site's implementation status for a month (audited), then back to the return."""
    settings = current_settings()
    sites = managed_sites()
    if not sites:
        abort(404)
    form = filters.ImplementationForm.read(tz=settings.timezone)
    site = _site_or_404(form.site.data, sites)
    problems = form.problems()
    if problems:
        chosen = form.month.data
        return _return_page(
            site,
            sites,
            chosen,
            errors=list(problems.items()),
            status=400,
            form={
                "month": str(chosen.month) if chosen else "",
                "year": str(chosen.year) if chosen else "",
                "family_route": raw(form.family_route),
                "staff_route": raw(form.staff_route),
            },
        )
    month = form.month.data
    family, staff = FamilyRouteStatus(form.family_route.data), StaffRouteStatus(form.staff_route.data)
    implementation.record_implementation(_user(), site.id, month, family, staff)
    db.session.commit()
    flash(f"Implementation status for {month:%B %Y} saved.", "success")
    return redirect(url_for(".monthly_return", site=site.code, month=month.month, year=month.year))
