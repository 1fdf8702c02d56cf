"""The standard monthly report (tracker/services/reports/standard_report.py): the FHIR MeasureReport and CSV built
from a seeded month, checked against our committed Measure; small-number suppression and its secondary step
(no withheld count can be worked out by subtraction, for every identity); and a scan of every field of every
report for anything that names a person (HAZ-103)."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import build_trust
from tests.reports.calls import ACUTE, CRITICAL_CARE, F, call
from tests.reports.test_dashboard_figures import NOW, october_calls
from tracker.extensions import db
from tracker.models import Site, User
from tracker.services.reports import standard_report as sr
from tracker.services.reports.suppression import Relation, primary, recoverable, suppress
from tracker.services.setup.settings import current_settings

OCTOBER = date(2025, 10, 1)
GENERATED = datetime.fromisoformat("2025-11-05T12:00:00+00:00")

# Personal details written into the seeded month, each of which must appear in no report.
PATIENT, CALLER = "Rosalind Pemberton-Quayle", "Ignatius Vandersloot"
CALLBACK, NHS_NUMBER, BED = "+447700912345", "9434765919", "Bay 4 bed 17"
WORRY = "She has been breathing very fast since lunchtime and nobody came"


@pytest.fixture
def october(ctx):
    built = build_trust()
    october_calls(built["ward"], built["beds_ward"])
    named = call(built["ward"], "2025-10-08 09:00", F, kind=ACUTE, outcome=CRITICAL_CARE, ack=100, reviewed=900)
    named.patient_name, named.caller_name, named.callback_number = PATIENT, CALLER, CALLBACK
    named.hospital_number, named.bed, named.worry_details = NHS_NUMBER, BED, WORRY
    named.ward_response = "The nurse said to wait for the doctor round"
    named.communication_needs = "Needs British Sign Language"
    db.session.commit()
    return built


def _site(built) -> Site:
    return db.session.get(Site, built["site"]) if isinstance(built["site"], int) else built["site"]


def _figures(built, month: date = OCTOBER) -> sr.Figures:
    with time_machine.travel(NOW, tick=False):
        return sr.figures(_site(built), month, current_settings(), date(2025, 11, 5))


def test_the_committed_measure_has_a_group_for_each_figure(october):
    found = _figures(october)
    wanted = sr.measure_resource(found.figures)
    if os.environ.get("UPDATE_MEASURE"):  # how the committed file is (re)made
        sr.MEASURE_FILE.write_text(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        sr.measure.cache_clear()
    assert sr.measure() == wanted


def test_the_exact_report_carries_the_returns_figures_and_validates(october):
    found = _figures(october)
    report = sr.measure_report(found, sr.EXACT, GENERATED)
    sr.validate(report)
    counts = {g["code"]["coding"][0]["code"]: g["population"][0].get("count") for g in report["group"]}
    assert counts["calls_total"] == 10 and counts["route_family"] == 6 and counts["route_staff"] == 2
    assert counts["outcome_critical_care"] == 2 and counts["still_open"] == 2 and counts["withdrawn"] == 1
    assert report["status"] == "complete" and report["period"] == {"start": "2025-10-01", "end": "2025-10-31"}
    assert report["subject"]["identifier"]["value"] == _site(october).code == report["reporter"]["identifier"]["value"]
    median = next(g for g in report["group"] if g["code"]["coding"][0]["code"] == "clock_acknowledge_median")
    assert median["measureScore"] == {"value": 210, "unit": "s", "system": sr.UCUM, "code": "s"}


def test_the_published_report_withholds_small_counts_with_a_masked_reason(october):
    found = _figures(october)
    report = sr.measure_report(found, sr.PUBLISHED, GENERATED)
    sr.validate(report)
    for group in report["group"]:
        population = group["population"][0]
        count = population.get("count")
        assert count is None or count == 0 or count > 7, group["code"]
        if count is None:
            assert population["_count"]["extension"][0] == {"url": sr.DATA_ABSENT_REASON, "valueCode": "masked"}
        if "measureScore" in group and count is None:
            assert "value" not in group["measureScore"]
    rows = sr.csv_rows(found, sr.PUBLISHED)
    by_code = {row[4]: row[6] for row in rows[1:]}
    assert by_code["route_family"] == "*" and by_code["calls_total"] == 10 and by_code["route_unknown"] == 0
    assert by_code["clock_review_timed"] == "*" and by_code["clock_review_median"] == "*"  # 5 reviews: withheld
    assert by_code["clock_acknowledge_timed"] == 8 and by_code["clock_acknowledge_median"] == 210


def test_a_month_with_no_calls_gives_zeros_and_a_future_month_is_refused(ctx):
    built = build_trust()
    found = _figures(built, date(2025, 6, 1))
    report = sr.measure_report(found, sr.PUBLISHED, GENERATED)
    assert all(g["population"][0]["count"] == 0 for g in report["group"])
    assert all("measureScore" not in g for g in report["group"])
    with pytest.raises(sr.ReportRefused, match="December 2025 has not started yet"):
        _figures(built, date(2025, 12, 1))
    assert _figures(built, date(2025, 11, 1)).complete is False  # this month: "pending"


def _broken(report: dict, change) -> dict:
    copied = json.loads(json.dumps(report))
    change(copied)
    return copied


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r["group"].pop(), "not the measure's figures"),
        (lambda r: r["group"][0]["code"]["coding"][0].update(code="made_up"), "not the measure's figures"),
        (lambda r: r["group"][0]["population"][0]["code"]["coding"][0].update(code="numerator"), "population"),
        (lambda r: r["group"][0]["population"][0].update(count=-1), "not a whole number"),
        (lambda r: r["period"].update(end="2025-11-30"), "one calendar month"),
        (lambda r: r["subject"].update(type="Practitioner"), "subject is not a site"),
        (lambda r: r.update(status="finished"), "status"),
        (lambda r: r["group"][0].update(population="none"), "Not a valid FHIR MeasureReport"),
    ],
)
def test_a_report_that_does_not_fit_the_measure_is_refused(ctx, change, words):
    built = build_trust()
    report = sr.measure_report(_figures(built, date(2025, 6, 1)), sr.EXACT, GENERATED)
    with pytest.raises(sr.ReportRefused, match=words):
        sr.validate(_broken(report, change))


# --- suppression ----------------------------------------------------------------------------------------------


def subtraction_attack(values: dict[str, int], withheld: set[str], relations) -> set[str]:
    """What a reader recovers by subtraction alone, relation after relation, reusing what they recovered (written
    apart from suppression.py's own reasoning): an identity with one unknown left gives it away, and so does one
    whose unknowns are all at least 1 and add up to their number (all ones)."""
    known = {key: value for key, value in values.items() if key not in withheld}
    found: set[str] = set()
    usable = [r for r in relations if r.holds(values)]
    progress = True
    while progress:
        progress = False
        for relation in usable:
            unknown = [key for key in relation.cells() if key not in known]
            if not unknown:
                continue
            if len(unknown) == 1:
                key = unknown[0]
                rest = sum(known[p] for p in relation.parts if p != key)
                known[key] = rest if key == relation.total else known[relation.total] - rest
                found.add(key)
                progress = True
            elif relation.total in known:
                left = known[relation.total] - sum(known[p] for p in relation.parts if p in known)
                if left == len(unknown):
                    for key in unknown:
                        known[key] = 1
                        found.add(key)
                    progress = True
    return found


def test_a_lone_small_route_takes_the_next_smallest_with_it():
    values = {"a": 3, "b": 20, "c": 0, "d": 41, "total": 64}
    withheld = suppress(values, [Relation("total", ("a", "b", "c", "d"))])
    assert withheld == {"a", "b"}  # the next smallest non-zero part, never the zero


def test_two_ones_are_not_left_to_add_up_to_two():
    values = {"a": 1, "b": 1, "c": 30, "total": 32}
    withheld = suppress(values, [Relation("total", ("a", "b", "c"))])
    assert withheld == {"a", "b", "c"}


def test_a_small_total_and_its_only_part_hide_each_other():
    values = {"a": 5, "b": 0, "total": 5}
    assert suppress(values, [Relation("total", ("a", "b"))]) == {"a", "total"}


def _report_values(draw) -> dict[str, int]:
    """Figures of the return's shape: leaves drawn (small numbers likely), totals added up."""
    small = st.one_of(st.integers(0, 9), st.integers(0, 60))
    v = {key: draw(small) for key in ("route_patient", "route_family", "route_staff", "route_unknown")}
    for key in ("outcome_critical_care", "outcome_transfer", "outcome_change_in_care", "outcome_no_change"):
        v[key] = draw(small)
    for key in ("not_acute_clinical", "not_acute_communication", "not_acute_discharge", "not_acute_other"):
        v[key] = draw(small)
    v["outcome_life_saving"] = v["outcome_critical_care"] + v["outcome_transfer"]
    v["acute_deterioration"] = v["outcome_life_saving"] + v["outcome_change_in_care"] + v["outcome_no_change"]
    v["not_acute_communication_discharge"] = v["not_acute_communication"] + v["not_acute_discharge"]
    v["calls_total"] = sum(v[k] for k in ("route_patient", "route_family", "route_staff", "route_unknown"))
    coded = v["acute_deterioration"] + sum(
        v[k] for k in ("not_acute_clinical", "not_acute_communication", "not_acute_discharge", "not_acute_other")
    )
    if draw(st.booleans()):  # the types identity holds when the open and withdrawn calls make up the rest
        rest = v["calls_total"] - coded
        v["still_open"] = max(rest, 0) // 2
        v["withdrawn"] = max(rest, 0) - v["still_open"]
    else:
        v["still_open"], v["withdrawn"] = draw(small), draw(small)
    v["clinical_review"] = draw(small)
    return v


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_no_withheld_count_can_be_recovered_by_subtraction_for_any_identity(data):
    values = _report_values(data.draw)
    withheld = suppress(values, sr.RELATIONS)
    assert primary(values) <= withheld
    assert all(values[key] > 0 for key in withheld)  # zeros are shown
    assert subtraction_attack(values, withheld, sr.RELATIONS) == set()
    assert recoverable(values, withheld, sr.RELATIONS) == []


# --- nothing that names a person (HAZ-103) ---------------------------------------------------------------------

PERSONAL = [
    re.compile(r"\+?44\s?7\d{3}\s?\d{6}|\b07\d{9}\b"),  # a UK mobile
    re.compile(r"\b\d{3}\s?\d{3}\s?\d{4}\b"),  # an NHS number
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),  # an e-mail address
    re.compile(r"\bbed\s*\d+|\bbay\s*\d+", re.IGNORECASE),
    re.compile(r"MR-[A-Z0-9]{3,}-\d{2}"),  # a call's reference
]


def _strings(value, path="$"):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    else:
        yield path, str(value)


def test_no_report_names_a_patient_caller_or_clinician(october):
    found = _figures(october)
    site_names = set(db.session.execute(db.select(Site.name)).scalars())
    people = [PATIENT, CALLER, CALLBACK, NHS_NUMBER, BED, WORRY, "Report Fixture", "British Sign Language"]
    people += list(db.session.execute(db.select(User.display_name)).scalars())
    reports = [sr.measure_report(found, copy, GENERATED) for copy in (sr.PUBLISHED, sr.EXACT)] + [
        sr.csv_rows(found, copy) for copy in (sr.PUBLISHED, sr.EXACT)
    ]
    allowed_text = {f.label for f in found.figures} | site_names | {found.site_code}
    for report in reports:
        for path, text in _strings(report):
            for person in people:
                assert str(person).lower() not in text.lower(), path
            for pattern in PERSONAL:
                assert not pattern.search(text), (path, text)
            if " " in text and text not in allowed_text:
                # Free text: only our own fixed wording (the Measure's description lives in the Measure, not here).
                assert text in {"Site code", "Month", "Figure code", "Figure"} or text.startswith("Site"), (path, text)
