"""Records views, for managers and only about their own site: exports (each audited, each after a
fresh sign-in), the audit viewer, and a call's retention flags. Thin: read the form, call the
service, commit, answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import numbers
from tracker.clock import local, utcnow
from tracker.db import begin_write, set_write_intent
from tracker.extensions import db
from tracker.models import ConcernStatus, ExportKind, Site
from tracker.records import bp, forms
from tracker.services.concerns import reads
from tracker.services.concerns.references import normalise_reference
from tracker.services.records import audit, audit_export, audit_log, daily_check_export, exports, retention
from tracker.services.scope import Permission
from tracker.services.setup import in_reach
from tracker.services.setup.settings import current_settings
from tracker.services.words import ACTION_WORDS, OUTCOME_WORDS, STATUS_WORDS
from tracker.web.access import found_or_404
from tracker.web.authorisation import requires

CONCERN_FORMATS = {"csv": ExportKind.CONCERNS_CSV, "xlsx": ExportKind.CONCERNS_XLSX}
# The fields each form may carry in a link back to it (never the free-text reason).
CARRIED = (
    "from-day",
    "from-month",
    "from-year",
    "to-day",
    "to-month",
    "to-year",
    "site",
    "ward",
    "status",
    "outcome",
    "format",
    "user",
    "action",
    "reference",
    "show",
)


def _user():
    return current_user.user


def _site() -> Site:
    """The manager's site; a manager with none has nothing in scope."""
    site = _user().site
    if site is None:
        abort(404)
    return site


def _today():
    return local(utcnow(), current_settings().timezone).date()


def _confirm_first(back_to: str):
    """Exports need a sign-in within the last 5 minutes (docs/architecture.md#security): off to confirm it, then back."""
    if current_user.live.fresh:
        return None
    return redirect(url_for("auth.confirm", next=back_to))


def _carried(values) -> str:
    kept = {name: values.get(name) for name in CARRIED if values.get(name)}
    return url_for(".exports_page") + (f"?{urlencode(kept)}" if kept else "")


# --- exports -----------------------------------------------------------------------------------


@bp.get("/exports")
@requires(Permission.KEEP_RECORDS)
def exports_page():
    """The export forms. Opening it asks for the password (and code) again when the last sign-in
    was more than 5 minutes ago."""
    confirm = _confirm_first(request.full_path.rstrip("?"))
    if confirm:
        return confirm
    return _render_exports(request.args)


def _render_exports(values, problems: forms.Problems | None = None, which: str | None = None, status: int = 200):
    site = _site()
    today = _today()
    start, end = forms.month_so_far(today)
    wards = in_reach.site_wards(site.id)
    return render_template(
        "records/exports.html",
        site=site,
        site_options=[(site.code, site.name)],
        ward_options=[(str(w.id), w.name + (" (closed)" if w.is_retired else "")) for w in wards],
        statuses=STATUS_WORDS,
        outcomes=OUTCOME_WORDS,
        action_options=action_options(),
        values=values,
        problems=problems or forms.Problems(),
        which=which,
        dates={
            prefix: forms.date_fields(prefix, default, values) for prefix, default in (("from", start), ("to", end))
        },
        excel_limit=exports.EXCEL_MAX_ROWS,
        identifier_headers=exports.IDENTIFIER_HEADERS,
        check_identifier_headers=daily_check_export.IDENTIFIER_HEADERS,
    ), status


def action_options() -> list[tuple[str, str]]:
    """The actions in the log, each with words (the code too: the export file holds codes)."""
    return [
        (action, f"{ACTION_WORDS.get(action, action.replace('_', ' ').capitalize())} ({action})")
        for action in audit_log.actions()
    ]


@bp.post("/exports/concerns")
@requires(Permission.KEEP_RECORDS)
def export_concerns():
    """Concerns as CSV (streamed) or Excel, with the chosen filters; patient details only when
    ticked, with a reason. Recorded (export log and audit) before the first byte is sent."""
    values = request.form
    confirm = _confirm_first(_carried(values))
    if confirm:
        return confirm
    site = _site()
    form = forms.ConcernExportForm.read(today=_today(), site=site)
    problems = form.shown_problems()
    if problems:
        return _render_exports(values, problems, "concerns", 400)
    period = exports.Period(form.from_day.data, form.to_day.data)
    status, outcome = form.status.data, form.outcome.data
    filters = exports.ConcernFilters(
        period, site.id, form.ward_id(), ConcernStatus(status) if status else None, outcome
    )
    identifiers, reason, file_format = form.identifiers.data == "yes", form.reason.data, form.format.data or "csv"
    tz = current_settings().timezone
    kind = CONCERN_FORMATS[file_format]
    if kind is ExportKind.CONCERNS_XLSX:
        count = exports.count_concerns(filters, tz)
        if count >= exports.EXCEL_MAX_ROWS:
            problems.by_field["format"] = (
                f"That is {count:,} calls: more than an Excel sheet can hold "
                f"({exports.EXCEL_MAX_ROWS:,} rows). Choose CSV, or a shorter period"
            )
            return _render_exports(values, problems, "concerns", 400)
    name = exports.file_name(kind, site.code, period)
    exports.record_export(_user(), kind, filters.coded(), identifiers=identifiers, reason=reason)
    _recorded()
    engine = db.engine
    if kind is ExportKind.CONCERNS_XLSX:
        body = exports.concerns_xlsx(engine, filters, identifiers=identifiers, tz=tz)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = exports.concerns_csv(engine, filters, identifiers=identifiers, tz=tz)
        mimetype = "text/csv"
    return _download(body, mimetype, name)


@bp.post("/exports/daily-check")
@requires(Permission.KEEP_RECORDS)
def export_daily_check():
    """The daily check's answers as CSV; names and free text only when ticked, with a reason. Recorded (export
    log and audit) before the first byte is sent."""
    values = request.form
    confirm = _confirm_first(_carried(values))
    if confirm:
        return confirm
    site = _site()
    form = forms.DailyCheckExportForm.read(today=_today(), site=site)
    problems = form.shown_problems()
    if problems:
        return _render_exports(values, problems, "daily_check", 400)
    period = exports.Period(form.from_day.data, form.to_day.data)
    filters = daily_check_export.DailyCheckFilters(period, site.id, form.ward_id())
    identifiers, reason = form.identifiers.data == "yes", form.reason.data
    kind = ExportKind.DAILY_CHECK_CSV
    name, tz = exports.file_name(kind, site.code, period), current_settings().timezone
    exports.record_export(_user(), kind, filters.coded(), identifiers=identifiers, reason=reason)
    _recorded()
    body = daily_check_export.daily_check_csv(db.engine, filters, identifiers=identifiers, tz=tz)
    return _download(body, "text/csv", name)


@bp.post("/exports/audit")
@requires(Permission.KEEP_RECORDS)
def export_audit():
    """The audit log of the manager's site for a period as CSV, optionally for one person, one
    action or one call. Recorded before the first byte is sent."""
    values = request.form
    confirm = _confirm_first(_carried(values))
    if confirm:
        return confirm
    site = _site()
    form = forms.AuditForm.read(today=_today(), site=site)
    problems = form.shown_problems()
    if problems:
        return _render_exports(values, problems, "audit", 400)
    period = exports.Period(form.from_day.data, form.to_day.data)
    user_id, action, concern_id = form.user.data, form.action.data, form.reference.data
    filters = exports.AuditFilters(period, site.id, user_id, action, concern_id)
    tz = current_settings().timezone
    name = exports.file_name(ExportKind.AUDIT_CSV, site.code, period)
    exports.record_export(_user(), ExportKind.AUDIT_CSV, filters.coded())
    _recorded()
    return _download(audit_export.audit_csv(db.engine, filters, tz=tz), "text/csv", name)


def _recorded() -> None:
    """Commit the export's record before any of it is sent; the rest of the request only reads
    (so the file is read without holding SQLite's write lock, however long it takes)."""
    db.session.commit()
    db.session.close()
    set_write_intent(False)


def _download(body, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    # The name is built from codes we hold (exports.file_name), never from the request.
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the audit viewer --------------------------------------------------------------------------


@bp.get("/audit")
@requires(Permission.KEEP_RECORDS)
def audit_page():
    """Search the audit log of the manager's site, newest first, a page at a time; and whether
    the hash chain verifies. Looking is itself audited."""
    site = _site()
    values = request.args
    today = _today()
    form = forms.AuditSearchForm.read(values, today=today, site=site, dates_optional=True)
    problems = form.shown_problems()
    before = values.get("before", "")
    before_id = numbers.database_id(before)
    tz = current_settings().timezone
    page = None if problems else audit_log.search(form.search(site.id, before_id, tz=tz, today=today))
    status, checkpoint = audit_log.check_chain()
    # Any, not str: url_for would check str values against its own keywords such as _external.
    kept: dict[str, Any] = {name: values.get(name) for name in CARRIED if values.get(name)}
    # Drawn before the commit below, which would expire the rows it shows.
    html = render_template(
        "records/audit.html",
        page=page,
        chain=status,
        problems=problems,
        values=values,
        action_options=action_options(),
        show_options=list(forms.SHOW_ONLY.items()),
        dates={prefix: forms.date_fields(prefix, None, values) for prefix in ("from", "to")},
        next_url=url_for(".audit_page", **kept, before=page.next_before_id) if page and page.next_before_id else None,
        first_url=url_for(".audit_page", **kept) if before_id else None,
        site=site,
    )
    # Reading is done: now a short write (SQLite's write lock is taken only here).
    begin_write()
    if checkpoint is not None:
        db.session.add(checkpoint)
    audit.record("audit_log_viewed", audit.Actor.user(_user().id), changes=form.coded(before_id))
    db.session.commit()
    return html, (400 if problems else 200)


# --- a call's retention flags ------------------------------------------------------------------


@bp.post("/c/<reference>/retention")
@requires(Permission.KEEP_RECORDS)
def retention_flags(reference: str):
    """Set a call's legal hold, serious incident and complaint flags (which stop or lengthen its
    retention). Calls outside the manager's site are not found."""
    normalised = normalise_reference(reference)
    concern = found_or_404(reads.find_in_reach(_user(), normalised) if normalised else None, "concern")
    changed = retention.set_flags(concern, audit.Actor.user(_user().id), **forms.RetentionFlagsForm.read().flags())
    db.session.commit()
    flash("Retention flags saved." if changed else "Nothing changed.", "success" if changed else "information")
    return redirect(url_for("triage.concern_page", reference=concern.reference) + "#retention")
