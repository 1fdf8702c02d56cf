"""The dashboard's improvement charts are worked out and drawn once per process for the same figures
(services/reports/remembered.py, web/improvement_drawn.py; docs/architecture.md#improvement-charts; HAZ-110).

A second view works nothing out again and shows the very same bytes as the template drew. Each thing that changes
a chart shows at the next view, exactly as a process that remembered nothing would show it: a new call in a month
whose days were kept (the day is rebuilt), a change recorded, a change removed, a baseline fixed, another run
length, another team target, an answer to the daily check. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
import time_machine
from flask import render_template_string
from sqlalchemy import select, update

from tests.reports.calls import P, call
from tests.reports.test_improvement import NOW, TODAY, seeded_page  # noqa: F401  (a fixture: the calls of 2024-25)
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    AnsweredBy,
    Bed,
    BedOccupancy,
    CheckChannel,
    Compared,
    DailyCheckAnswer,
    Feeling,
    ImprovementChange,
    Site,
    Team,
    User,
    Ward,
)
from tracker.services.records import audit
from tracker.services.reports import improvement as charts
from tracker.services.reports import improvement_changes as recorded
from tracker.services.reports import improvement_data, remembered, spc
from tracker.services.reports.remembered import Remembered
from tracker.services.setup.run_length import save_run_length
from tracker.services.setup.settings import current_settings
from tracker.web import improvement_drawn

pytestmark = pytest.mark.usefixtures("seeded_page")

DASHBOARD = "/reports/?from-day=1&from-month=2&from-year=2025&to-day=28&to-month=2&to-year=2025"


def charts_shown(client) -> str:
    """The eight charts and their tables as the dashboard shows them (the words above them are not remembered)."""
    html = client.get(DASHBOARD).get_data(as_text=True)
    return html[html.index('aria-labelledby="improvement-calls-heading"') : html.index("Figures worked out")]


def site() -> Site:
    return db.session.scalars(select(Site).where(Site.code == "gen")).one()


def worked_out(app) -> list[tuple]:
    """Each chart's arithmetic and rows as `improvement` gives them now."""
    with app.test_request_context():
        figures = charts.improvement(site(), TODAY, charts.DEFAULT_MONTHS, current_settings())
        return [(series.chart, series.rows) for series in figures.series]


def after(app, client, login_as, change: Callable[[int], None], first: Callable[[int], None] | None = None):
    """(charts before, after `change`, and as a process remembering nothing shows them then; the arithmetic after
    and afresh). `first` runs before the charts are remembered; each gets the manager's id and commits."""
    with time_machine.travel(NOW, tick=False):
        manager = login_as("manager")
        if first is not None:
            with app.app_context(), write_intent():
                first(manager)
                db.session.commit()
        before = charts_shown(client)
        assert charts_shown(client) == before
        with app.app_context(), write_intent():
            change(manager)
            db.session.commit()
        shown, arithmetic = charts_shown(client), worked_out(app)
        remembered.forget()
        improvement_data.forget()
        return before, shown, charts_shown(client), arithmetic, worked_out(app)


def assert_shown_at_once(found: tuple) -> None:
    before, shown, afresh, arithmetic, arithmetic_afresh = found
    assert shown == afresh and arithmetic == arithmetic_afresh
    assert shown != before


def manager_of(user_id: int) -> User:
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def test_a_second_view_works_nothing_out_again_and_shows_the_same_bytes(app, client, login_as, monkeypatch):
    counted: list[int] = []
    xmr_chart = spc.xmr_chart
    monkeypatch.setattr(spc, "xmr_chart", lambda *a, **k: counted.append(1) or xmr_chart(*a, **k))
    drawn: list[int] = []
    draw = improvement_drawn._draw
    monkeypatch.setattr(improvement_drawn, "_draw", lambda *a: drawn.append(1) or draw(*a))
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        first = charts_shown(client)
        assert (len(counted), len(drawn)) == (8, 8)
        assert charts_shown(client) == first
    assert (len(counted), len(drawn)) == (8, 8)


def test_the_remembered_drawing_is_byte_for_byte_the_templates(app):
    """What the dashboard's loop drew before, `xmr_chart` called in the template, for a drawing worked out now
    and one found again."""
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        figures = charts.improvement(site(), TODAY, charts.DEFAULT_MONTHS, current_settings())
        for series in figures.series:
            by_template = render_template_string(
                '{% from "reports/_macros.html" import xmr_chart %}'
                '{{ xmr_chart(series, flag_words, level=3, prefix="improvement-", folded=True) }}',
                series=series,
                flag_words=charts.flag_words,
            )
            assert str(improvement_drawn.on_dashboard(series)) == by_template
            assert str(improvement_drawn.on_dashboard(series)) == by_template
        # Escaped by Jinja as before: a title with markup in it is drawn as text.
        marked = replace(figures.series[0], title="<b>Calls</b>", inputs=(*figures.series[0].inputs, "marked"))
        drawn = str(improvement_drawn.on_dashboard(marked))
        assert "&lt;b&gt;Calls&lt;/b&gt;" in drawn and "<b>Calls" not in drawn


def test_a_new_call_in_a_kept_month_shows_at_once(app, client, login_as):
    def new_call(_manager: int) -> None:  # the day was kept by the first view: the trigger makes it stale
        call(db.session.scalars(select(Ward).where(Ward.code == "w7")).one(), "2024-05-10 12:00", P, reviewed=600)

    assert_shown_at_once(after(app, client, login_as, new_call))


def test_a_change_recorded_shows_at_once(app, client, login_as):
    def record(manager: int) -> None:
        recorded.record_change(manager_of(manager), site().id, date(2024, 9, 1), None, "Family route live", TODAY)

    found = after(app, client, login_as, record)
    assert_shown_at_once(found)
    assert "after a change: new baseline" in found[1] and "after a change" not in found[0]


def test_a_change_removed_shows_at_once(app, client, login_as):
    def record(manager: int) -> None:
        recorded.record_change(manager_of(manager), site().id, date(2024, 9, 1), None, "Family route live", TODAY)

    def remove(manager: int) -> None:
        change = db.session.scalars(select(ImprovementChange)).one()
        recorded.remove_change(manager_of(manager), change)

    found = after(app, client, login_as, remove, first=record)
    assert_shown_at_once(found)
    assert "after a change" in found[0] and "after a change" not in found[1]


def test_a_baseline_fixed_shows_at_once(app, client, login_as):
    def fix(manager: int) -> None:
        recorded.fix_baseline(manager_of(manager), site().id, date(2024, 7, 1), date(2025, 1, 1), TODAY)

    assert_shown_at_once(after(app, client, login_as, fix))


def test_another_run_length_shows_at_once(app, client, login_as):
    def six(_manager: int) -> None:
        save_run_length(audit.Actor.system(), 6)

    before, shown, afresh, arithmetic, arithmetic_afresh = after(app, client, login_as, six)
    assert shown == afresh and arithmetic == arithmetic_afresh  # the flags may be the same: the rule is not
    assert {chart.run_length for chart, _rows in arithmetic} == {6}


def test_another_team_target_shows_at_once(app, client, login_as):
    def quicker(_manager: int) -> None:
        db.session.execute(update(Team).values(review_target_minutes=15))

    found = after(app, client, login_as, quicker)
    assert_shown_at_once(found)
    assert "within 15 minutes" in found[1]


def test_an_answer_to_the_daily_check_shows_at_once(app, client, login_as):
    """A stay of 11 days in January 2025, asked on none of them, then asked on one by staff."""

    def stay(_manager: int) -> None:
        bed = db.session.scalars(select(Bed).order_by(Bed.id)).first()
        assert bed is not None
        start, end = datetime(2025, 1, 6, 9, tzinfo=UTC), datetime(2025, 1, 16, 9, tzinfo=UTC)
        db.session.add(BedOccupancy(bed_id=bed.id, occupied_from=start, occupied_until=end))

    def answer(_manager: int) -> None:
        occupancy = db.session.scalars(select(BedOccupancy)).one()
        bed = db.session.get(Bed, occupancy.bed_id)
        assert bed is not None
        db.session.add(
            DailyCheckAnswer(
                ward_id=bed.ward_id,
                bed_id=bed.id,
                occupancy_id=occupancy.id,
                local_day=date(2025, 1, 8),
                answered_at=datetime(2025, 1, 8, 10, tzinfo=UTC),
                feeling=Feeling.GOOD,
                compared=Compared.SAME,
                answered_by=AnsweredBy.STAFF,
                channel=CheckChannel.STAFF_ASSISTED,
                worse=False,
            )
        )

    found = after(app, client, login_as, answer, first=stay)
    assert_shown_at_once(found)
    coverage = [rows for chart, rows in found[3]][-1]
    assert [row.value for row in coverage if row.month == date(2025, 1, 1)] == [
        spc.rounded(Fraction(100, 11))
    ]  # 1 of its 11 days


def test_the_memory_is_bounded_and_never_keeps_a_refusal():
    memory: Remembered[str] = Remembered(2)
    assert memory.get("a", lambda: "A") == "A" and memory.get("b", lambda: "B") == "B"
    assert memory.get("a", lambda: "not again") == "A"  # used: "b" is now the least recently used
    memory.get("c", lambda: "C")
    assert len(memory) == 2 and memory.get("b", lambda: "B again") == "B again"

    def refuse() -> str:
        raise charts.Problem("A figure in the series is nan, which is not a number that can be charted.")

    with pytest.raises(charts.Problem):
        memory.get("d", refuse)
    assert memory.get("d", lambda: "D") == "D"
