"""The `<int:…>` of every route (docs/architecture.md#security): a row id the database can hold. Ids are 32-bit
integers on PostgreSQL, and SQLite refuses integers past 64 bits, so a larger number in the address raised a 500
when it reached a query; now it is simply not found (404) before any view runs."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

LARGEST_ID = 2**31 - 1


class RowId(IntegerConverter):
    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = LARGEST_ID):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)
