"""The standard monthly report's downloads (docs/architecture.md#the-standard-monthly-report), for managers and only
for the site they manage (another site's answers 404, as every report does): the FHIR MeasureReport, published
(small numbers withheld) or signed with the exact figures, and the published CSV. Thin: read the query, call
services/reports/standard_report.py (and report_signing.py), send the file; each download is audited."""

from __future__ import annotations

import csv
import io
import json

from flask import abort, current_app, make_response, request

from tracker.clock import utcnow
from tracker.db import writes
from tracker.extensions import db
from tracker.reports import bp, filters
from tracker.reports.routes import _return_page, _site_or_404, _user, managed_sites
from tracker.services.records import audit
from tracker.services.records.spreadsheet import neutralise
from tracker.services.reports import periods, report_signing
from tracker.services.reports import standard_report as standard
from tracker.services.scope import Permission
from tracker.services.setup.settings import current_settings
from tracker.web.authorisation import requires

COPIES = {"published": standard.PUBLISHED, "signed": standard.EXACT}


def _refused(site, sites, field: str, message: str, status: int = 400):
    form = {"month": request.args.get("month", ""), "year": request.args.get("year", "")}
    return _return_page(site, sites, None, errors=[(field, message)], status=status, form=form)


def _figures(sites, own_keys: tuple[str, ...] = ()):
    """(site, figures) for the query (besides `own_keys`, which the view reads), or the return page with the
    problem (400) to send instead."""
    settings = current_settings()
    site = _site_or_404(request.args.get("site"), sites)
    today = periods.today_local(settings.timezone)
    wanted = {key: value for key, value in request.args.items() if key not in own_keys}
    try:
        month = filters.return_month(wanted, settings.timezone, today)
        return site, standard.figures(site, month, settings, today), None
    except filters.FilterProblems as problems:
        form = {"month": request.args.get("month", ""), "year": request.args.get("year", "")}
        return site, None, _return_page(site, sites, None, errors=problems.problems, status=400, form=form)
    except standard.ReportRefused as problem:
        return site, None, _refused(site, sites, "month", str(problem))


def _audited(site, found: standard.Figures, kind: str) -> None:
    audit.record(
        "standard_report_downloaded",
        audit.Actor.user(_user().id),
        object_type="site",
        object_id=site.id,
        changes={"month": f"{found.month:%Y-%m}", "format": kind},
    )
    db.session.commit()


def _download(body: str, mimetype: str, filename: str):
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/standard.json")
@requires(Permission.SEE_REPORTS)
@writes
def standard_report_json():
    """The month's standard report as a FHIR MeasureReport: `copy=published` (the default; counts of 1 to 7 and what
    would give them away withheld) or `copy=signed` (exact figures in a signed envelope). A month not begun, or a
    signing key missing or damaged, gets the return page with the reason, never a server error."""
    sites = managed_sites()
    if not sites:
        abort(404)
    site, found, problem = _figures(sites, ("copy",))
    if problem is not None:
        return problem
    assert found is not None
    copy = COPIES.get((request.args.get("copy") or "published").strip().lower()[:16])
    if copy is None:
        return _refused(site, sites, "copy", "Choose the published copy or the signed copy of the report")
    report = standard.measure_report(found, copy, utcnow())
    name = f"marthas-rule-report-{site.code}-{found.month:%Y-%m}"
    if copy == standard.EXACT:
        try:
            key = report_signing.load_private_key(current_app.config.get("REPORT_SIGNING_KEY_FILE"))
        except report_signing.SigningProblem as problem:
            # The server's set-up, not the request, is at fault; a 409 keeps it out of the server errors.
            return _refused(site, sites, "copy", f"The signed copy cannot be made: {problem}", status=409)
        _audited(site, found, "fhir-signed")
        return _download(
            json.dumps(report_signing.sign(report, key), indent=2, ensure_ascii=False) + "\n",
            "application/json",
            f"{name}-signed.json",
        )
    _audited(site, found, "fhir-published")
    return _download(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "application/fhir+json", f"{name}.json")


@bp.get("/standard.csv")
@requires(Permission.SEE_REPORTS)
@writes
def standard_report_csv():
    """The month's published standard report as CSV: withheld values are "*"."""
    sites = managed_sites()
    if not sites:
        abort(404)
    site, found, problem = _figures(sites)
    if problem is not None:
        return problem
    assert found is not None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in standard.csv_rows(found, standard.PUBLISHED):
        writer.writerow([neutralise(cell) for cell in row])
    _audited(site, found, "csv-published")
    return _download(buffer.getvalue(), "text/csv", f"marthas-rule-report-{site.code}-{found.month:%Y-%m}.csv")
