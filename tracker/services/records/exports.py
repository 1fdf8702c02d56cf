"""Exports for managers (docs/architecture.md#security): concerns as CSV or Excel, and the audit log as CSV.

Every export is recorded before its first byte leaves (`record_export`: an export_log row with the
coded filters and, when patient identifiers are included, the reason given; and an audit row that
names it). Files are streamed: rows come from the database in batches through a server-side
cursor (a Core `select()` with `yield_per`: SQLAlchemy ignores `yield_per` on `text()`), so memory
stays flat however many rows there are. On PostgreSQL the audit log is written by the database
itself (`COPY ... TO STDOUT`, passed through psycopg 3), with the SQL twin of the spreadsheet rule
applied in the query. Every text cell passes the one rule of docs/architecture.md#security
(`tracker.services.records.spreadsheet`).

The streams read on a connection of their own, in a read-only transaction, so a long export
never holds SQLite's write lock; they need no request or app context."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, SQLColumnExpression, case, func, null, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from tracker.extensions import db
from tracker.models import (
    Concern,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    ExportKind,
    ExportLog,
    Site,
    User,
    Ward,
)
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.records.spreadsheet import neutralise
from tracker.services.words import (
    CALLER_ROUTE_WORDS,
    CONCERN_CHANNEL_WORDS,
    LABELS,
    NO_WARD_YET,
    NOT_CODED,
    SPOKE_TO_WARD_WORDS,
    STATUS_WORDS,
    WORRY_WORDS,
)

# Excel's sheet holds 1,048,576 rows; one is the header.
EXCEL_MAX_ROWS = 1_048_576
BATCH_ROWS = 5000
FILE_CHUNK_BYTES = 256 * 1024
UTF8_BOM = "\ufeff".encode()  # so Excel reads the CSV as UTF-8 (names with accents stay right)

# The outcome filter: a concern type or a deterioration outcome, or "not coded yet".
OUTCOMES = [t.value for t in ConcernType] + [o.value for o in DeteriorationOutcome] + [NOT_CODED]


@dataclass(frozen=True)
class Period:
    """Days in the trust's own time zone, both included."""

    start: date
    end: date

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """The period as UTC instants: from the first day's midnight to the midnight after the last."""
        zone = ZoneInfo(tz)
        start = datetime.combine(self.start, time(0), zone).astimezone(UTC)
        end = datetime.combine(self.end + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, end

    def coded(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass(frozen=True)
class ConcernFilters:
    period: Period
    site_id: int
    ward_id: int | None = None
    status: ConcernStatus | None = None
    outcome: str | None = None

    def coded(self) -> dict:
        return {
            **self.period.coded(),
            "site_id": self.site_id,
            "ward_id": self.ward_id,
            "status": self.status.value if self.status else None,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class AuditFilters:
    """The audit log of a manager's site: events about its concerns, and events about no concern
    (sign-ins, settings, exports: they hold no patient data)."""

    period: Period
    site_id: int
    user_id: int | None = None
    action: str | None = None
    concern_id: int | None = None

    def coded(self) -> dict:
        return {
            **self.period.coded(),
            "site_id": self.site_id,
            "user_id": self.user_id,
            "action": self.action,
            "concern_id": self.concern_id,
        }


# --- recording ---------------------------------------------------------------------------------


def record_export(
    user: User, kind: ExportKind, filters: dict, *, identifiers: bool = False, reason: str | None = None
) -> ExportLog:
    """The export log row and its audit row, in the caller's transaction. The reason (free text)
    stays in export_log; the audit row holds only coded values and the log's id."""
    log = ExportLog(
        user_id=user.id, kind=kind, filters=filters, identifiers=identifiers, reason=(reason or "").strip() or None
    )
    db.session.add(log)
    db.session.flush()
    audit.record(
        "exported",
        audit.Actor.user(user.id),
        object_type="export",
        object_id=log.id,
        changes={"kind": kind.value, "identifiers": identifiers, **filters},
    )
    return log


def file_name(kind: ExportKind, site_code: str, period: Period) -> str:
    """A name made here from codes we hold, never from the request: letters, digits and dashes."""
    stem = {
        ExportKind.CONCERNS_CSV: "concerns",
        ExportKind.CONCERNS_XLSX: "concerns",
        ExportKind.AUDIT_CSV: "audit-log",
        ExportKind.DAILY_CHECK_CSV: "daily-check",
    }[kind]
    site = re.sub(r"[^a-z0-9-]+", "-", site_code.lower()).strip("-") or "site"
    extension = "xlsx" if kind is ExportKind.CONCERNS_XLSX else "csv"
    return f"{stem}-{site}-{period.start.isoformat()}-to-{period.end.isoformat()}.{extension}"


# --- concerns ----------------------------------------------------------------------------------


CHANNEL_WORDS_CAPITALISED = {code: words[:1].upper() + words[1:] for code, words in CONCERN_CHANNEL_WORDS.items()}


@dataclass(frozen=True)
class Column:
    header: str
    expression: SQLColumnExpression
    # text, time (a UTC instant, shown in local time), date, bool, list, number, phone (as people
    # write it: 07400 123456 rather than +447400123456, which a spreadsheet would take for a sum)
    kind: str = "text"
    words: Mapping[str, str] | None = None  # a coded value's words, as the dashboard shows them


def _unless_safeguarded(column: SQLColumnExpression) -> SQLColumnExpression:
    """A caller's detail, or nothing for a call flagged for safeguarding (it stays with the outreach team)."""
    return case((Concern.safeguarding.is_(True), null()), else_=column)


def _concern_columns(identifiers: bool) -> list[Column]:
    c = Concern
    columns = [
        Column("Reference", c.reference),
        Column("Site", Site.name),
        Column("Ward", func.coalesce(Ward.name, NO_WARD_YET)),
        Column("Route", c.caller_route, words=CALLER_ROUTE_WORDS),
        Column("Channel", c.channel, words=CHANNEL_WORDS_CAPITALISED),
        Column("Status", c.status, words=STATUS_WORDS),
        Column("Raised", c.raised_at, "time"),
        Column("First alert sent", c.first_alert_sent_at, "time"),
        Column("Acknowledged", c.acknowledged_at, "time"),
        Column("Reviewed", c.reviewed_at, "time"),
        Column("Caller updated", c.caller_updated_at, "time"),
        Column("Closed", c.closed_at, "time"),
        Column("Priority", c.priority, "number"),
        Column("Review", c.review_kind, words=LABELS),
        Column("NEWS2 at review", c.news2_total, "number"),
        Column("Concern type", c.concern_type, words=LABELS),
        Column("Clinical review needed", c.clinical_review_needed, "bool"),
        Column("Deterioration outcome", c.deterioration_outcome, words=LABELS),
        Column("Change in care", c.change_in_care, "list", LABELS),
        Column("Caller updated by", c.caller_update_method, words=LABELS),
        Column("Cancelled as", c.cancel_kind, words=LABELS),
        Column("Worries", c.worry_categories, "list", WORRY_WORDS),
        Column("Spoke to the ward team", c.spoke_to_ward, words=SPOKE_TO_WARD_WORDS),
        Column("Interpreter needed", c.interpreter_needed, "bool"),
        Column("Legal hold", c.legal_hold, "bool"),
        Column("Serious incident", c.serious_incident, "bool"),
        Column("Complaint", c.complaint, "bool"),
        Column("Personal data removed", c.purged_at, "time"),
    ]
    if identifiers:
        columns += [
            Column("Patient name", c.patient_name),
            Column("Date of birth", c.patient_dob, "date"),
            Column("Hospital number", c.hospital_number),
            Column("Bed", c.bed),
            Column("Caller name", _unless_safeguarded(c.caller_name)),
            Column("Caller relationship", _unless_safeguarded(c.caller_relationship)),
            Column("Callback number", _unless_safeguarded(c.callback_number), "phone"),
            Column("Callback extension", _unless_safeguarded(c.callback_extension)),
            Column("Preferred language", c.preferred_language),
            Column("Communication needs", c.communication_needs),
            Column("What worries them", c.worry_details),
            Column("What the ward team said", c.ward_response),
        ]
    return columns


IDENTIFIER_HEADERS = [col.header for col in _concern_columns(True)[len(_concern_columns(False)) :]]


def _concern_conditions(filters: ConcernFilters, tz: str) -> list[ColumnElement[bool]]:
    start, end = filters.period.bounds(tz)
    conditions = [Concern.site_id == filters.site_id, Concern.raised_at >= start, Concern.raised_at < end]
    if filters.ward_id is not None:
        conditions.append(Concern.ward_id == filters.ward_id)
    if filters.status is not None:
        conditions.append(Concern.status == filters.status)
    if filters.outcome == NOT_CODED:
        conditions.append(Concern.concern_type.is_(None))
    elif filters.outcome in {t.value for t in ConcernType}:
        conditions.append(Concern.concern_type == ConcernType(filters.outcome))
    elif filters.outcome in {o.value for o in DeteriorationOutcome}:
        conditions.append(Concern.deterioration_outcome == DeteriorationOutcome(filters.outcome))
    return conditions


def count_concerns(filters: ConcernFilters, tz: str) -> int:
    query = select(func.count()).select_from(Concern).where(*_concern_conditions(filters, tz))
    return db.session.execute(query).scalar_one()


def _concern_select(filters: ConcernFilters, tz: str, columns: list[Column]) -> Select:
    return (
        select(*[col.expression for col in columns])
        .select_from(Concern)
        .join(Site, Site.id == Concern.site_id)
        .outerjoin(Ward, Ward.id == Concern.ward_id)  # a text-in call may have no ward yet
        .where(*_concern_conditions(filters, tz))
        .order_by(Concern.raised_at, Concern.id)
    )


def _cell_formatter(column: Column, zone: ZoneInfo, *, excel: bool) -> Callable:
    if column.kind == "time":
        if excel:  # a real date-time cell, in local time (Excel has no time zones)
            return lambda v: v.astimezone(zone).replace(tzinfo=None, microsecond=0) if v is not None else None
        # ISO 8601 with the offset, so an hour the clocks go back through is never ambiguous
        # (2026-10-25T01:30:00+01:00, then 2026-10-25T01:30:00+00:00).
        return lambda v: v.astimezone(zone).isoformat(timespec="seconds") if v is not None else None
    if column.kind == "date":
        return (lambda v: v) if excel else (lambda v: v.isoformat() if v is not None else None)
    if column.kind == "bool":
        return lambda v: None if v is None else ("yes" if v else "no")
    words = column.words or {}
    if column.kind == "list":
        return lambda v: neutralise("; ".join(words.get(str(x), str(x)) for x in v)) if v else None
    if column.kind == "number":
        return lambda v: v
    if column.kind == "phone":
        return lambda v: neutralise(display_phone(v)) if v else None

    # Text: a coded value in the dashboard's words; everything passes the spreadsheet rule.
    def text(v: object) -> object:
        value = v.value if hasattr(v, "value") else v
        return neutralise(words.get(value, value) if isinstance(value, str) else value)

    return text


def _row_transform(columns: list[Column], tz: str, *, excel: bool) -> Callable[[Row], list]:
    zone = ZoneInfo(tz)
    formatters = [_cell_formatter(col, zone, excel=excel) for col in columns]
    pairs = list(enumerate(formatters))
    return lambda row: [fmt(row[i]) for i, fmt in pairs]


def _streamed_rows(engine: Engine, statement: Select) -> Iterator[Sequence[Row]]:
    """Batches of rows from a read-only transaction on a connection of our own, through a
    server-side cursor on PostgreSQL."""
    streaming = {"stream_results": True, "yield_per": BATCH_ROWS}  # closed however the download ends
    with engine.connect() as connection, connection.execution_options(**streaming).execute(statement) as result:
        yield from result.partitions()


def _csv_stream(
    header: list[str], batches: Iterator[Sequence[Row]], transform: Callable[[Row], list]
) -> Iterator[bytes]:
    """The header goes out with the first batch of rows, so the first byte means the query is
    answering (and a failing query fails the request, not a half-sent file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    prefix = UTF8_BOM
    for batch in batches:
        writer.writerows(map(transform, batch))
        yield prefix + buffer.getvalue().encode()
        prefix = b""
        buffer.seek(0)
        buffer.truncate()
    if prefix:  # no rows: the header alone
        yield prefix + buffer.getvalue().encode()


def concerns_csv(engine: Engine, filters: ConcernFilters, *, identifiers: bool, tz: str) -> Iterator[bytes]:
    columns = _concern_columns(identifiers)
    return _csv_stream(
        [col.header for col in columns],
        _streamed_rows(engine, _concern_select(filters, tz, columns)),
        _row_transform(columns, tz, excel=False),
    )


def concerns_xlsx(engine: Engine, filters: ConcernFilters, *, identifiers: bool, tz: str) -> Iterator[bytes]:
    """An Excel file written row by row in XlsxWriter's constant-memory mode to a temporary file,
    then sent in chunks and deleted. (An .xlsx is a zip whose index comes last, so nothing can be
    sent before it is complete.) The caller checks the row count against EXCEL_MAX_ROWS first."""
    import xlsxwriter

    columns = _concern_columns(identifiers)
    transform = _row_transform(columns, tz, excel=True)
    handle, path = tempfile.mkstemp(prefix="tracker-export-", suffix=".xlsx")
    os.close(handle)
    try:
        # Cells are written as what they are (strings stay strings, never formulas or links).
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "tmpdir": tempfile.gettempdir(),
            },
        )
        sheet = workbook.add_worksheet("Concerns")
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for index, col in enumerate(columns):
            sheet.write_string(0, index, col.header, bold)
            sheet.set_column(index, index, 22 if col.kind == "time" else 16)
        sheet.freeze_panes(1, 0)
        row_number = 0
        for batch in _streamed_rows(engine, _concern_select(filters, tz, columns)):
            for row in batch:
                row_number += 1
                for index, value in enumerate(transform(row)):
                    if value is None:
                        continue
                    kind = columns[index].kind
                    if kind == "time":
                        sheet.write_datetime(row_number, index, value, when)
                    elif kind == "date":
                        sheet.write_datetime(row_number, index, datetime.combine(value, time(0)), day)
                    elif kind == "number":
                        sheet.write_number(row_number, index, value)
                    else:
                        sheet.write_string(row_number, index, value)
        workbook.close()
    except BaseException:
        os.unlink(path)
        raise
    return _file_chunks(path)


def _file_chunks(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(FILE_CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)


# --- the audit log -----------------------------------------------------------------------------
