"""The standard monthly report (docs/architecture.md#the-standard-monthly-report): the NHS England return's figures
and the clock figures for a site and month, as a FHIR R4 `MeasureReport` (built and checked with
`fhir.resources.R4B`, the closest release that package still ships) and as CSV rows.

`figures()` reads the figures through the return's and the dashboard's own functions (never counting
anything itself); everything after it is pure. Two copies:

- **published**: counts of 1 to 7, and figures that would give them away, withheld (suppression.py).
  In FHIR a withheld count is left out and its `_count` carries the standard data-absent-reason
  extension with code `masked`; a withheld clock score likewise carries it on `measureScore`.
  In the CSV a withheld value is "*".
- **exact**: every figure as counted, only ever handed out signed (report_signing.py).

Nothing in either names a person: the subject and reporter are the site by its code, and the only
text is the site's name, the figures' own names and fixed wording from this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fhir.resources.R4B.measurereport import MeasureReport

from tracker.models import Site
from tracker.problems import Problem
from tracker.services.reports import dashboard as dashboard_figures
from tracker.services.reports import monthly_return as nhs_return
from tracker.services.reports.periods import month_period
from tracker.services.reports.suppression import Relation, suppress
from tracker.services.setup.settings import TrustSettings

MEASURE_FILE = Path(__file__).resolve().parents[2] / "data" / "fhir" / "measure-marthas-rule-monthly.json"
MEASURE_URL = "urn:marthas-rule-tracker:fhir:Measure:marthas-rule-monthly"
FIGURE_SYSTEM = "urn:marthas-rule-tracker:fhir:CodeSystem:monthly-figures"
SITE_SYSTEM = "urn:marthas-rule-tracker:fhir:NamingSystem:site-code"
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
INITIAL_POPULATION = "initial-population"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UCUM = "http://unitsofmeasure.org"
PUBLISHED, EXACT = "published", "exact"
WITHHELD = "*"

# The NHS England return's counts, in the return's order (monthly_return.py holds their definitions).
RETURN_COUNTS = (
    "route_patient",
    "route_family",
    "route_staff",
    "route_unknown",
    "calls_total",
    "clinical_review",
    "acute_deterioration",
    "outcome_critical_care",
    "outcome_transfer",
    "outcome_life_saving",
    "outcome_change_in_care",
    "change_medication",
    "change_oxygen",
    "change_investigations",
    "change_other",
    "outcome_no_change",
    "not_acute_clinical",
    "not_acute_communication",
    "not_acute_discharge",
    "not_acute_communication_discharge",
    "not_acute_other",
    "still_open",
    "withdrawn",
)
CLOCKS = {
    "first_alert": "Raised to first alert sent",
    "acknowledge": "Raised to claimed (acknowledged)",
    "review": "Raised to clinical review",
    "caller_updated": "Raised to caller updated",
}
TARGETED = ("acknowledge", "review")  # the clocks a team has a target for

# The identities a reader of the return knows (its definitions say so): suppression keeps each one
# from giving a withheld count away.
RELATIONS = (
    Relation("calls_total", ("route_patient", "route_family", "route_staff", "route_unknown")),
    Relation(
        "calls_total",
        (
            "acute_deterioration",
            "not_acute_clinical",
            "not_acute_communication",
            "not_acute_discharge",
            "not_acute_other",
            "still_open",
            "withdrawn",
        ),
    ),
    Relation("outcome_life_saving", ("outcome_critical_care", "outcome_transfer")),
    Relation(
        "acute_deterioration",
        ("outcome_critical_care", "outcome_transfer", "outcome_change_in_care", "outcome_no_change"),
    ),
    Relation("acute_deterioration", ("outcome_life_saving", "outcome_change_in_care", "outcome_no_change")),
    Relation("not_acute_communication_discharge", ("not_acute_communication", "not_acute_discharge")),
)


class ReportRefused(Problem):
    """A standard report that cannot be built (a month not begun, an invalid report): the message says why."""


@dataclass(frozen=True)
class Figure:
    """One group of the report: `count` calls, and for a clock statistic its value in whole seconds."""

    code: str
    label: str
    count_key: str  # the count it shows (clock statistics share their clock's count of timed calls)
    score_seconds: int | None = None
    is_score: bool = False


@dataclass(frozen=True)
class Figures:
    site_code: str
    site_name: str
    month: date
    complete: bool  # the month is over (else the report is "pending")
    counts: dict[str, int]
    figures: list[Figure]


def figures(site: Site, month: date, settings: TrustSettings, today: date) -> Figures:
    """The month's figures at `site`, from the return's and the dashboard's own functions. A month
    that has not begun is refused; a month with no calls gives zeros."""
    first = month.replace(day=1)
    if first > today.replace(day=1):
        raise ReportRefused(f"{first:%B %Y} has not started yet: choose this month or an earlier one")
    period = month_period(first)
    report = nhs_return.monthly_return(site, first, settings)
    measured = {m.key: m for section in report.sections for m in section.measures}
    counts = {key: int(measured[key].value) for key in RETURN_COUNTS}
    found: list[Figure] = [Figure(key, measured[key].label, key) for key in RETURN_COUNTS]
    clocks = {clock.key: clock for clock in dashboard_figures.dashboard(site, period, settings).clocks}
    for key, label in CLOCKS.items():
        clock = clocks[key]
        timed = f"clock_{key}_timed"
        counts[timed] = int(clock.count)
        found.append(Figure(timed, f"{label}: calls timed", timed))
        found.append(Figure(f"clock_{key}_median", f"{label}: median", timed, _seconds(clock.median_seconds), True))
        found.append(Figure(f"clock_{key}_p90", f"{label}: 90th percentile", timed, _seconds(clock.p90_seconds), True))
        if key in TARGETED:
            past = f"clock_{key}_past_target"
            counts[past] = int(clock.breaches or 0)
            found.append(Figure(past, f"{label}: calls past the team's target", past))
    return Figures(site.code, site.name, first, period.end < today, counts, found)


def _seconds(value: float | None) -> int | None:
    # Whole seconds: the signed copy's canonical form then holds integers only (report_signing.py).
    return None if value is None else int(round(value))


def withheld(found: Figures) -> set[str]:
    """The counts a published copy withholds (suppression.py)."""
    return suppress(found.counts, RELATIONS)


def measure_report(found: Figures, copy: str, generated_at: datetime) -> dict[str, Any]:
    """The figures as a FHIR MeasureReport (plain JSON-ready dict), published or exact; checked
    structurally against the Measure before it is returned."""
    hidden = withheld(found) if copy == PUBLISHED else set()
    period = month_period(found.month)
    site = {
        "type": "Location",
        "identifier": {"system": SITE_SYSTEM, "value": found.site_code},
        "display": found.site_name,
    }
    groups = []
    for figure in found.figures:
        population: dict[str, Any] = {"code": _concept(POPULATION_SYSTEM, INITIAL_POPULATION)}
        if figure.count_key in hidden:
            population["_count"] = _absent()
        else:
            population["count"] = found.counts[figure.count_key]
        group: dict[str, Any] = {"code": _concept(FIGURE_SYSTEM, figure.code, figure.label), "population": [population]}
        if figure.is_score:
            if figure.count_key in hidden:
                group["measureScore"] = _absent()
            elif figure.score_seconds is not None:
                group["measureScore"] = {"value": figure.score_seconds, "unit": "s", "system": UCUM, "code": "s"}
        groups.append(group)
    report = {
        "resourceType": "MeasureReport",
        "meta": {"tag": [{"system": FIGURE_SYSTEM, "code": copy}]},
        "status": "complete" if found.complete else "pending",
        "type": "summary",
        "measure": MEASURE_URL,
        "subject": site,
        "date": generated_at.replace(microsecond=0).isoformat(),
        "reporter": site,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "group": groups,
    }
    validate(report)
    return report


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _absent() -> dict[str, Any]:
    return {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "masked"}]}


@lru_cache(maxsize=1)
def measure() -> dict[str, Any]:
    """Our committed Measure (NHS England publishes none): a group per figure."""
    return json.loads(MEASURE_FILE.read_text(encoding="utf-8"))


def validate(report: Mapping[str, Any]) -> None:
    """ReportRefused unless `report` is a valid R4B MeasureReport of our Measure: its groups exactly
    the Measure's (codes in order), each population one the Measure's group has, every count a
    non-negative whole number, the period one calendar month, and the subject and reporter the site
    by its code (never a person)."""
    try:
        MeasureReport.model_validate(dict(report))
    except ValueError as error:
        raise ReportRefused(f"Not a valid FHIR MeasureReport: {str(error).splitlines()[0]}") from None
    problems = [*_header_problems(report), *_group_problems(report)]
    if problems:
        raise ReportRefused("Not a valid Martha's Rule monthly report: " + "; ".join(problems))


def _header_problems(report: Mapping[str, Any]) -> list[str]:
    problems = []
    if report.get("status") not in {"complete", "pending"} or report.get("type") != "summary":
        problems.append("its status or type is not a summary's")
    if report.get("measure") != measure()["url"]:
        problems.append("it is not a report of the Martha's Rule monthly measure")
    period = report.get("period") or {}
    try:
        first = date.fromisoformat(period.get("start", ""))
        if first.day != 1 or month_period(first).end != date.fromisoformat(period.get("end", "")):
            raise ValueError
    except ValueError:
        problems.append("its period is not one calendar month")
    for role in ("subject", "reporter"):
        reference = report.get(role) or {}
        identifier = reference.get("identifier") or {}
        if (
            reference.get("type") != "Location"
            or identifier.get("system") != SITE_SYSTEM
            or not identifier.get("value")
        ):
            problems.append(f"its {role} is not a site by its code")
    return problems


def _group_problems(report: Mapping[str, Any]) -> list[str]:
    problems = []
    wanted = [(_code(group), [_code(p) for p in group["population"]]) for group in measure()["group"]]
    got = [(_code(group), [_code(p) for p in group.get("population", [])]) for group in report.get("group", [])]
    if [code for code, _ in got] != [code for code, _ in wanted]:
        problems.append("its figures are not the measure's figures")
    for (code, populations), (_wanted_code, allowed) in zip(got, wanted, strict=False):
        if any(population not in allowed for population in populations):
            problems.append(f"figure {code} has a population the measure does not define")
    for group in report.get("group", []):
        for population in group.get("population", []):
            count = population.get("count")
            if count is None and "_count" not in population:
                problems.append(f"figure {_code(group)} has no count and no reason for it")
            if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
                problems.append(f"figure {_code(group)} has a count that is not a whole number of calls")
    return problems


def _code(element: Mapping[str, Any]) -> str:
    codings = (element.get("code") or {}).get("coding") or [{}]
    return str(codings[0].get("code", ""))


def csv_rows(found: Figures, copy: str) -> list[list[str | int]]:
    """The same figures as spreadsheet rows (header first); a withheld value is "*"."""
    hidden = withheld(found) if copy == PUBLISHED else set()
    rows: list[list[str | int]] = [["Site code", "Site", "Month", "Copy", "Figure code", "Figure", "Value", "Unit"]]
    for figure in found.figures:
        if figure.is_score:
            value: str | int = (
                WITHHELD
                if figure.count_key in hidden
                else ("" if figure.score_seconds is None else figure.score_seconds)
            )
            unit = "seconds"
        else:
            value = WITHHELD if figure.count_key in hidden else found.counts[figure.count_key]
            unit = "calls"
        rows.append(
            [found.site_code, found.site_name, f"{found.month:%Y-%m}", copy, figure.code, figure.label, value, unit]
        )
    return rows


def measure_resource(found_figures: list[Figure]) -> dict[str, Any]:
    """The Measure for these figures (how the committed file was made; a test keeps them in step)."""
    return {
        "resourceType": "Measure",
        "id": "marthas-rule-monthly",
        "url": MEASURE_URL,
        "version": "1.0.0",
        "name": "MarthasRuleMonthly",
        "title": "Martha's Rule: standard monthly report",
        "status": "active",
        "experimental": False,
        "subjectCodeableConcept": {
            "coding": [{"system": "http://hl7.org/fhir/resource-types", "code": "Location", "display": "Location"}]
        },
        "description": (
            "The NHS England Martha's Rule monthly return's figures and the response clocks for one hospital "
            "site and calendar month. Each group is one figure; its initial population is the calls it counts "
            "(for a clock statistic, the calls timed) and a clock statistic's measure score is in seconds. "
            "Published copies withhold counts of 1 to 7 and any figure that would give one away, marked "
            "with the data-absent-reason extension (masked)."
        ),
        "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "cohort"}]},
        "group": [
            {
                "code": _concept(FIGURE_SYSTEM, figure.code, figure.label),
                "description": figure.label,
                "population": [
                    {
                        "code": _concept(POPULATION_SYSTEM, INITIAL_POPULATION),
                        # R4 needs a criteria expression: ours is counted in the tracker, so it is described in words.
                        "criteria": {"language": "text/plain", "expression": f"Calls counted for: {figure.label}"},
                    }
                ],
            }
            for figure in found_figures
        ],
    }
