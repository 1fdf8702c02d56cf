"""The daily check's answers as CSV for managers (docs/architecture.md#security): one row per answer on the site's
wards in a period of local days, with the coded answers in the ward view's words, who answered and how, when it was
confirmed, seen and acted on, and the call it raised. Names and free text only with the concern export's rule: the
box ticked and a reason given, recorded before the first byte leaves. Streamed like the concern export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.engine import Engine

from tracker.models import Bed, BedOccupancy, CheckChannel, Concern, DailyCheckAnswer, Ward
from tracker.services.daily_check.words import ANSWERED_BY_WORDS, COMPARED_WORDS, FEELING_WORDS
from tracker.services.records.exports import Column, Period, _csv_stream, _row_transform, _streamed_rows

CHANNEL_WORDS = {
    CheckChannel.STAFF_ASSISTED.value: "Staff-assisted",
    CheckChannel.TABLET.value: "Ward tablet",
    CheckChannel.OWN_DEVICE.value: "Own device",
}
WHO_WORDS = {code: words[:1].upper() + words[1:] for code, words in ANSWERED_BY_WORDS.items()}


@dataclass(frozen=True)
class DailyCheckFilters:
    period: Period
    site_id: int
    ward_id: int | None = None

    def coded(self) -> dict:
        return {**self.period.coded(), "site_id": self.site_id, "ward_id": self.ward_id}


def _columns(identifiers: bool) -> list[Column]:
    a = DailyCheckAnswer
    columns = [
        Column("Ward", Ward.name),
        Column("Bed", Bed.label),
        Column("Day", a.local_day, "date"),
        Column("How they are feeling", a.feeling, words=FEELING_WORDS),
        Column("Compared with yesterday", a.compared, words=COMPARED_WORDS),
        Column("Worse", a.worse, "bool"),
        Column("Who answered", a.answered_by, words=WHO_WORDS),
        Column("Channel", a.channel, words=CHANNEL_WORDS),
        Column("Answered", a.answered_at, "time"),
        Column("Confirmed by staff", a.confirmed_at, "time"),
        Column("Seen", a.seen_at, "time"),
        Column("Acted on", a.acted_on_at, "time"),
        Column("Call raised", Concern.reference),
        Column("Personal data removed", a.purged_at, "time"),
    ]
    if identifiers:
        columns += [
            Column("Patient name (admitted as)", BedOccupancy.patient_name),
            Column("Name given with the answer", a.patient_name_given),
            Column("What they said", a.free_text),
        ]
    return columns


IDENTIFIER_HEADERS = [col.header for col in _columns(True)[len(_columns(False)) :]]


def _select(filters: DailyCheckFilters, columns: list[Column]) -> Select:
    a = DailyCheckAnswer
    conditions = [
        Ward.site_id == filters.site_id,
        a.local_day >= filters.period.start,
        a.local_day <= filters.period.end,
    ]
    if filters.ward_id is not None:
        conditions.append(a.ward_id == filters.ward_id)
    return (
        select(*[col.expression for col in columns])
        .select_from(a)
        .join(Ward, Ward.id == a.ward_id)
        .join(Bed, Bed.id == a.bed_id)
        .outerjoin(BedOccupancy, BedOccupancy.id == a.occupancy_id)
        .outerjoin(Concern, Concern.id == a.concern_id)
        .where(*conditions)
        .order_by(a.local_day, Ward.name, Bed.position, a.answered_at, a.id)
    )


def daily_check_csv(engine: Engine, filters: DailyCheckFilters, *, identifiers: bool, tz: str) -> Iterator[bytes]:
    columns = _columns(identifiers)
    return _csv_stream(
        [col.header for col in columns],
        _streamed_rows(engine, _select(filters, columns)),
        _row_transform(columns, tz, excel=False),
    )
