"""What a manager records on the improvement charts (services/reports/improvement_changes.py, the page's forms): a
change splits every chart of the site into segments with their own baselines and limits; a fixed baseline
changes the limits; the trust's run length changes a shift's verdict; future and impossible months are form
errors, never an error page; each record and removal is audited (never with its description); and another
site's manager can neither see nor remove them. The seeded calls are tests/reports/test_improvement.py's."""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine

from tests.conftest import build_trust, create_staff, sign_in_directly
from tests.reports.calls import P, call
from tests.reports.test_improvement import NOW, TODAY, by_key, seed
from tests.reports.test_report_pages import far_site  # noqa: F401  (a fixture: another site)
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, ImprovementBaseline, ImprovementChange, Role, Site, User, Ward
from tracker.problems import FieldProblem
from tracker.services.reports import improvement as charts
from tracker.services.reports import improvement_changes as recorded
from tracker.services.reports import spc
from tracker.services.setup.settings import current_settings

MFA = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def seeded(ctx):
    built = build_trust()
    seed(built["ward"])
    built["manager"] = db.session.get(User, create_manager(built["site"].id))
    return built


def create_manager(site_id: int) -> int:
    """A manager of the site, written in the caller's session (a second app context would wait on its lock)."""
    user = User(
        email=f"manager-{site_id}@test.invalid",
        display_name="Morgan Manager",
        role=Role.MANAGER,
        password_hash="unused",
        site_id=site_id,
    )
    db.session.add(user)
    db.session.commit()
    return user.id


def chart(built, months: int = 24, **settings) -> dict[str, charts.Series]:
    with time_machine.travel(NOW, tick=False):
        chosen = dataclasses.replace(current_settings(), **settings)
        return by_key(charts.improvement(built["site"], TODAY, months, chosen))


def test_a_recorded_change_splits_every_chart_into_segments_with_their_own_limits(seeded):
    before = chart(seeded)["calls"]
    assert len(before.chart.segments) == 1 and before.rows[-1].mean == Decimal("0.50")  # 10 empty months, then 3s
    recorded.record_change(seeded["manager"], seeded["site"].id, date(2024, 1, 1), None, "Family route live", TODAY)
    db.session.commit()
    after = chart(seeded)
    calls = after["calls"]
    first, second = calls.chart.segments
    assert (first.start, first.end, second.start, second.end) == (0, 10, 10, 24)
    assert not first.drawable and "Limits need at least 12 months" in first.reason
    # January to December 2024 (3 calls a month, June none) are the new baseline: mean 2.75, MR̄ 6/11.
    assert calls.rows[10].change and not any(row.change for row in calls.rows if row.month != date(2024, 1, 1))
    assert (calls.rows[-1].mean, calls.rows[-1].lower, calls.rows[-1].upper) == (
        Decimal("2.75"),
        Decimal("1.30"),
        Decimal("4.20"),
    )
    assert all(row.lower is None for row in calls.rows[:10])  # the old segment: too few months for limits
    assert all(len(series.chart.segments) == 2 for series in after.values())  # every chart of the site


def test_a_change_before_the_months_shown_starts_nothing_and_one_this_month_starts_an_empty_segment(seeded):
    recorded.record_change(seeded["manager"], seeded["site"].id, date(2021, 5, 1), None, "Long ago", TODAY)
    assert len(chart(seeded)["calls"].chart.segments) == 1
    recorded.record_change(seeded["manager"], seeded["site"].id, date(2025, 3, 1), None, "This month", TODAY)
    calls = chart(seeded)["calls"].chart
    assert calls.segments[-1].start == 24 and calls.variation is None
    assert "no figures since the last recorded change" in calls.variation_reason


def test_a_fixed_baseline_changes_the_limits(seeded):
    default = chart(seeded)["calls"].rows[-1]
    recorded.fix_baseline(seeded["manager"], seeded["site"].id, date(2024, 1, 1), date(2024, 12, 1), TODAY)
    db.session.commit()
    fixed = chart(seeded)["calls"]
    assert fixed.chart.segments[0].baseline_start == 10 and fixed.chart.segments[0].baseline_end == 22
    assert (default.mean, default.upper) != (fixed.rows[-1].mean, fixed.rows[-1].upper)
    assert (fixed.rows[-1].mean, fixed.rows[-1].lower, fixed.rows[-1].upper) == (
        Decimal("2.75"),
        Decimal("1.30"),
        Decimal("4.20"),
    )


def test_a_baseline_outside_the_months_shown_is_not_used_and_the_page_says_so(seeded):
    recorded.fix_baseline(seeded["manager"], seeded["site"].id, date(2024, 1, 1), date(2024, 12, 1), TODAY)
    with time_machine.travel(NOW, tick=False):
        figures = charts.improvement(seeded["site"], TODAY, 6, current_settings())
    assert figures.marks.baselines == () and "show 14 months to use it" in figures.marks.notes[0]


def seed_runs(ward: Ward) -> None:
    """May 2023 to February 2025: 3 and 1 calls a month in turn for a year, then six months of 3, then 1 and 1:
    a run of exactly six above the mean of 2."""
    counts = [3, 1] * 6 + [3] * 6 + [1, 1]
    for index, count in enumerate(counts):
        year, month = 2023 + (index + 4) // 12, (index + 4) % 12 + 1
        for _ in range(count):
            call(ward, f"{year}-{month:02d}-10 12:00", P, reviewed=600)
    db.session.commit()


def test_the_run_length_setting_changes_a_shifts_verdict(ctx):
    built = build_trust()
    seed_runs(built["ward"])
    seven = chart(built, 22)["calls"]
    six = chart(built, 22, spc_run_length=6)["calls"]
    assert seven.chart.run_length == spc.DEFAULT_RUN_LENGTH == 7 and six.chart.run_length == 6
    run = range(12, 18)  # the six months of 3
    assert all(not seven.rows[i].flags for i in run)
    assert all(six.rows[i].flags == (spc.Rule.SHIFT,) for i in run)


@pytest.mark.parametrize(
    ("call_it", "field", "message"),
    [
        (lambda m, s: recorded.record_change(m, s, date(2025, 4, 1), None, "x", TODAY), "change_month", "future"),
        (lambda m, s: recorded.fix_baseline(m, s, date(2024, 4, 1), date(2025, 3, 1), TODAY), "to_month", "not over"),
        (lambda m, s: recorded.fix_baseline(m, s, date(2024, 4, 1), date(2024, 3, 1), TODAY), "to_month", "after"),
        (lambda m, s: recorded.fix_baseline(m, s, date(2024, 4, 1), date(2024, 4, 1), TODAY), "to_month", "2 months"),
        (lambda m, s: recorded.fix_baseline(m, s, date(2026, 1, 1), date(2026, 6, 1), TODAY), "to_month", "not over"),
    ],
)
def test_future_and_impossible_months_are_refused(seeded, call_it, field, message):
    with pytest.raises(FieldProblem, match=message) as refused:
        call_it(seeded["manager"], seeded["site"].id)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.query(ImprovementChange).count() == db.session.query(ImprovementBaseline).count() == 0


def test_a_baseline_cannot_span_a_change_nor_a_change_split_a_baseline(seeded):
    manager, site_id = seeded["manager"], seeded["site"].id
    recorded.fix_baseline(manager, site_id, date(2024, 1, 1), date(2024, 12, 1), TODAY)
    with pytest.raises(FieldProblem, match="spans July 2024"):
        recorded.record_change(manager, site_id, date(2024, 7, 1), None, "Mid-baseline", TODAY)
    recorded.record_change(manager, site_id, date(2025, 1, 1), None, "After it", TODAY)
    with pytest.raises(FieldProblem, match="already fixed"):
        recorded.fix_baseline(manager, site_id, date(2024, 2, 1), date(2024, 3, 1), TODAY)


def test_records_and_removals_are_audited_without_the_description(seeded):
    manager, site_id = seeded["manager"], seeded["site"].id
    change = recorded.record_change(manager, site_id, date(2024, 7, 1), seeded["ward"].id, "Family route", TODAY)
    baseline = recorded.fix_baseline(manager, site_id, date(2024, 1, 1), date(2024, 6, 1), TODAY)
    recorded.remove_change(manager, change)
    recorded.remove_baseline(manager, baseline)
    db.session.commit()
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action.like("improvement_%"))).all()
    assert [event.action for event in events] == [
        "improvement_change_recorded",
        "improvement_baseline_fixed",
        "improvement_change_removed",
        "improvement_baseline_removed",
    ]
    assert events[0].changes == {"site_id": site_id, "month": "2024-07-01", "ward_id": seeded["ward"].id}
    assert events[1].changes == {"site_id": site_id, "start": "2024-01-01", "end": "2024-06-01"}
    assert all(event.actor_id == manager.id for event in events)
    assert "Family route" not in json.dumps([event.changes for event in events])
    assert change.removed_by_id == manager.id and recorded.recorded(site_id) == ([], [])


# --- the page -------------------------------------------------------------------------------------------


def page(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def token(client) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/reports/improvement").get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.fixture
def manager_page(app, client, trust, login_as):
    with app.app_context(), write_intent():
        seed(db.session.get(Ward, trust["ward"]))
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
    return client


def post(client, path: str, **data):
    with time_machine.travel(NOW, tick=False):
        return client.post(path, data={"csrf_token": token(client), "site": "gen", **data})


def test_a_manager_records_a_change_sees_it_and_removes_it(app, manager_page, trust, read):
    client = manager_page
    done = post(
        client,
        "/reports/improvement/changes",
        change_month="1",
        change_year="2024",
        ward=str(trust["ward"]),
        description="Family route launched on Ward 7",
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/reports/improvement?site=gen#changes")
    with time_machine.travel(NOW, tick=False):
        shown = page(client.get("/reports/improvement"))
    assert "Family route launched on Ward 7" in shown and "Jan 2024" in shown and "(Manager)" in shown
    assert 'data-change="true"' in shown and "(after a change: new baseline)" in shown
    change_id = read.one(ImprovementChange).id
    gone = post(client, f"/reports/improvement/changes/{change_id}/remove")
    assert gone.status_code == 303
    assert read.one(ImprovementChange).removed_at is not None
    assert read.count(AuditEvent, AuditEvent.action == "improvement_change_removed") == 1


def test_a_manager_fixes_and_unfixes_a_baseline(manager_page, read):
    client = manager_page
    done = post(
        client, "/reports/improvement/baselines", from_month="4", from_year="2024", to_month="3", to_year="2025"
    )
    assert done.status_code == 400  # March 2025 is this month: not over
    assert "this month is not over yet" in page(done)
    done = post(
        client, "/reports/improvement/baselines", from_month="3", from_year="2024", to_month="2", to_year="2025"
    )
    assert done.status_code == 303
    with time_machine.travel(NOW, tick=False):
        shown = page(client.get("/reports/improvement"))
    assert re.search(r"Baseline fixed: Mar 2024 to Feb 2025</strong> by .+ \(Manager\)", shown)
    baseline_id = read.one(ImprovementBaseline).id
    assert post(client, f"/reports/improvement/baselines/{baseline_id}/remove").status_code == 303
    assert read.count(AuditEvent, AuditEvent.action == "improvement_baseline_removed") == 1


BAD_CHANGES = [
    ({"change_month": "4", "change_year": "2025"}, "cannot be in the future"),
    ({"change_month": "13", "change_year": "2024"}, "The month must be a whole number from 1 to 12"),
    ({"change_month": "abc", "change_year": "2024"}, "The month must be a whole number from 1 to 12"),
    ({"change_month": "２", "change_year": "2024"}, "The month must be a whole number from 1 to 12"),
    ({"change_month": "2", "change_year": "24"}, "The year must be 4 digits"),
    ({"change_month": "2", "change_year": "1999"}, "Choose a month from January 2020"),
    ({"change_month": "", "change_year": ""}, "The month must be a whole number"),
    ({"description": ""}, "Describe the change"),
    ({"description": "x" * 201}, "The description"),
    ({"ward": "999999"}, "Choose a ward of this site"),
    ({"ward": "abc"}, "Choose a ward of this site"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_CHANGES)
def test_a_bad_change_is_a_form_error_and_writes_nothing(manager_page, read, fields, message):
    data = {"change_month": "1", "change_year": "2024", "description": "A change", **fields}
    response = post(manager_page, "/reports/improvement/changes", **data)
    assert response.status_code == 400 and "There is a problem" in page(response)
    assert message in page(response)
    assert read.count(ImprovementChange) == 0
    assert read.count(AuditEvent, AuditEvent.action.like("improvement_%")) == 0


BAD_BASELINES = [
    ({"to_month": "1", "to_year": "2024"}, "end in or after the month it starts"),
    ({"to_month": "4", "to_year": "2024"}, "at least 2 months"),
    ({"to_month": "5", "to_year": "2026"}, "this month is not over yet"),
    ({"from_month": "0"}, "The first month must be a whole number from 1 to 12"),
    ({"to_year": "twenty"}, "The last month's year must be 4 digits"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_BASELINES)
def test_a_bad_baseline_is_a_form_error_and_writes_nothing(manager_page, read, fields, message):
    data = {"from_month": "4", "from_year": "2024", "to_month": "12", "to_year": "2024", **fields}
    response = post(manager_page, "/reports/improvement/baselines", **data)
    assert response.status_code == 400 and message in page(response)
    assert read.count(ImprovementBaseline) == 0


def test_another_sites_manager_can_neither_see_nor_remove_them(app, client, trust, far_site, read):  # noqa: F811
    with app.app_context(), write_intent():
        far = db.session.scalar(db.select(Site).where(Site.code == far_site))
        ours = db.session.get(User, create_manager(trust["site"]))
        change = recorded.record_change(ours, trust["site"], date(2024, 7, 1), None, "Gen's own change", TODAY)
        baseline = recorded.fix_baseline(ours, trust["site"], date(2024, 1, 1), date(2024, 6, 1), TODAY)
        db.session.commit()
        ids, far_id = (change.id, baseline.id), far.id
    user_id, _ = create_staff(app, "manager", site_id=far_id, totp_secret=MFA)
    with time_machine.travel(NOW, tick=False):
        sign_in_directly(app, client, user_id)
        response = client.get("/reports/improvement")
        shown = page(response)
        assert response.status_code == 200, shown[-3000:]
        assert "Gen's own change" not in shown and "Baseline fixed" not in shown
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown).group(1)
        for path in (
            f"/reports/improvement/changes/{ids[0]}/remove",
            f"/reports/improvement/baselines/{ids[1]}/remove",
        ):
            assert client.post(path, data={"csrf_token": csrf}).status_code == 404  # their own site: not there
            assert client.post(path, data={"csrf_token": csrf, "site": "gen"}).status_code == 404  # not theirs
        refused = client.post(
            "/reports/improvement/changes",
            data={"csrf_token": csrf, "site": "gen", "change_month": "1", "change_year": "2024", "description": "x"},
        )
        assert refused.status_code == 404
    assert read.count(ImprovementChange, ImprovementChange.removed_at.is_not(None)) == 0
    assert read.count(ImprovementBaseline, ImprovementBaseline.removed_at.is_not(None)) == 0
    assert read.count(ImprovementChange) == 1
