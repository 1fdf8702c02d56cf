"""The audit log as a file (docs/architecture.md#audit): every event of a period, oldest first, as CSV, streamed from the
database in batches (PostgreSQL's COPY where it can), with any cell a spreadsheet would run neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import Row, Select, String, and_, func, literal_column, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from tracker.models import (
    AuditEvent,
    Concern,
    User,
)
from tracker.services.records.audit_scope import at_site
from tracker.services.records.exports import UTF8_BOM, AuditFilters, _csv_stream, _streamed_rows
from tracker.services.records.spreadsheet import DANGEROUS_FIRST, neutralise, neutralise_sql

AUDIT_HEADER = [
    "Event",
    "Time (UTC)",
    "Actor type",
    "Actor id",
    "Actor email",
    "Action",
    "Object type",
    "Object id",
    "Concern reference",
    "Changes",
    "Previous hash",
    "Hash",
]


# Which of the columns above are text (each passes the spreadsheet rule).
_AUDIT_TEXT = [False, False, True, False, True, True, True, False, True, True, False, False]


# First characters that the spreadsheet rule acts on: a cheap test before calling it, since a
# million rows have six text cells each.
_DANGEROUS_FIRST_SET = frozenset(DANGEROUS_FIRST)


def _audit_conditions(filters: AuditFilters, tz: str, concern: type[Concern]) -> list[ColumnElement[bool]]:
    start, end = filters.period.bounds(tz)
    conditions = [
        AuditEvent.occurred_at >= start,
        AuditEvent.occurred_at < end,
        at_site(filters.site_id, concern),
    ]
    if filters.user_id is not None:
        conditions += [AuditEvent.actor_type == "user", AuditEvent.actor_id == filters.user_id]
    if filters.action is not None:
        conditions.append(AuditEvent.action == filters.action)
    if filters.concern_id is not None:
        conditions.append(AuditEvent.concern_id == filters.concern_id)
    return conditions


def _audit_select(filters: AuditFilters, tz: str, dialect: str) -> Select:
    concern = aliased(Concern, name="c")
    person = aliased(User, name="u")
    a = AuditEvent
    occurred: ColumnElement
    if dialect == "sqlite":
        # The stored text as it is: SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' and JSON as
        # text, so neither is parsed and re-written for each of a million rows.
        occurred, changes = type_coerce(a.occurred_at, String), type_coerce(a.changes, String)
    else:
        occurred = func.to_char(func.timezone("UTC", a.occurred_at), "YYYY-MM-DD HH24:MI:SS.US")
        changes = type_coerce(a.changes, String)  # the driver hands back a dict: dumped below
    return (
        select(
            a.id,
            occurred,
            a.actor_type,
            a.actor_id,
            person.email,
            a.action,
            a.object_type,
            a.object_id,
            concern.reference,
            changes,
            a.prev_hash,
            a.hash,
        )
        .select_from(a)
        .outerjoin(concern, concern.id == a.concern_id)
        .outerjoin(person, and_(a.actor_type == "user", person.id == a.actor_id))
        .where(*_audit_conditions(filters, tz, concern))
        # Chain order (times follow ids: appends lock the chain head before reading the clock),
        # read from an index so nothing is sorted before the first row: on SQLite the
        # occurred_at index that picks the period gives it; on PostgreSQL the primary key
        # (_audit_copy keeps the planner from sorting instead).
        .order_by(*((a.id,) if dialect == "postgresql" else (a.occurred_at, a.id)))
    )


def audit_csv(engine: Engine, filters: AuditFilters, *, tz: str) -> Iterator[bytes]:
    """The audit log for a period, oldest first, as CSV. PostgreSQL writes it itself (COPY);
    elsewhere rows stream through csv.writer."""
    if engine.dialect.name == "postgresql":
        return _audit_copy(engine, filters, tz)
    return audit_csv_cursor(engine, filters, tz=tz)


def audit_csv_cursor(engine: Engine, filters: AuditFilters, *, tz: str) -> Iterator[bytes]:
    """The audit log through a cursor and csv.writer (any database; PostgreSQL uses it only in the
    test that holds COPY to the same answers)."""
    import json

    text_columns = [i for i, is_text in enumerate(_AUDIT_TEXT) if is_text]
    postgres = engine.dialect.name == "postgresql"

    def transform(row: Row) -> list:
        values = list(row)
        if postgres and values[9] is not None and not isinstance(values[9], str):
            values[9] = json.dumps(values[9])
        for i in text_columns:
            value = values[i]
            if value is not None and value[:1] in _DANGEROUS_FIRST_SET:
                values[i] = neutralise(value)
        return values

    return _csv_stream(AUDIT_HEADER, _streamed_rows(engine, _audit_select(filters, tz, engine.dialect.name)), transform)


def _audit_copy_sql(filters: AuditFilters, tz: str, engine: Engine) -> tuple[str, dict]:
    """The COPY statement: the audit select with every text column wrapped in the SQL twin of the
    spreadsheet rule, compiled by SQLAlchemy for psycopg (parameters bound by psycopg)."""
    statement = _audit_select(filters, tz, "postgresql")
    columns = list(statement.selected_columns)
    wrapped: list[ColumnElement] = []
    for column, is_text in zip(columns, _AUDIT_TEXT, strict=True):
        if is_text:
            # neutralise_sql takes an expression we write; the column is compiled by SQLAlchemy.
            inner = column.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
            wrapped.append(literal_column(neutralise_sql(f"({inner})::text")).label(None))
        else:
            wrapped.append(column)
    statement = statement.with_only_columns(*wrapped, maintain_column_froms=True)
    compiled = statement.compile(dialect=engine.dialect)
    sql = f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv, HEADER false)"
    return sql, dict(compiled.params)


def _audit_copy(engine: Engine, filters: AuditFilters, tz: str) -> Iterator[bytes]:
    sql, params = _audit_copy_sql(filters, tz, engine)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(AUDIT_HEADER)
    prefix = UTF8_BOM + header.getvalue().encode()  # sent with the first block (see _csv_stream)
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None  # None only once the pool has let go of it
        with connection.cursor() as cursor:
            # A sort of the whole period would hold back the first byte for seconds; walking the
            # primary key sends rows as they are read.
            cursor.execute("SET LOCAL enable_sort = off")
            with cursor.copy(sql, params) as copy:
                for block in copy:
                    yield prefix + bytes(block)
                    prefix = b""
        connection.rollback()
    finally:
        raw.close()
    if prefix:
        yield prefix
