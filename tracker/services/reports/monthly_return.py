"""The NHS England monthly return (docs/facts.md#nhs-englands-monthly-return): its sections and measures for a site
and month, the trust's implementation status, and the return as rows for the CSV download."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from tracker.clock import utcnow
from tracker.models import (
    FamilyRouteStatus,
    Site,
    StaffRouteStatus,
)
from tracker.services.reports import report_facts, revisions
from tracker.services.reports.counting import ROUTES, _tally
from tracker.services.reports.implementation import implementation_status
from tracker.services.reports.periods import month_period
from tracker.services.setup.settings import TrustSettings


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    value: int | str
    definition: str
    percent: str | None = None


@dataclass(frozen=True)
class Section:
    title: str
    measures: list[Measure]


@dataclass(frozen=True)
class MonthlyReturn:
    site: dict
    month: date
    sections: list[Section]
    calls: int
    still_open: int
    withdrawn: int
    implementation: dict | None
    generated_at: datetime
    facts_missing: bool = False  # some call at the site has no report facts: the figures leave it out
    revisions: list[revisions.Revision] = field(default_factory=list)  # figures changed since first read
    coded_against_review: list[str] = field(default_factory=list)  # references for the manager to check
    route_unknown: int = 0  # text-in calls nobody has said who raised yet: the routes do not add up until they do


FAMILY_ROUTE_WORDS = {FamilyRouteStatus.LIVE.value: "Live", FamilyRouteStatus.NOT_LIVE.value: "Not live"}


STAFF_ROUTE_WORDS = {
    StaffRouteStatus.FULLY_LIVE.value: "Fully live",
    StaffRouteStatus.PARTLY_LIVE.value: "Partly live",
    StaffRouteStatus.NOT_LIVE.value: "Not live",
}


COUNTED = (
    "Counts every call raised at this site in the month (UK time, by when it was raised), except calls "
    "cancelled as a duplicate of another. A call linked to another about the same patient counts as its own "
    "call, by its own route, unless the trust has chosen to count linked calls once."
)


CODED = "Closed calls only, as coded by the clinician at close; calls still open are not counted yet."


def _percent(part: int, whole: int) -> str | None:
    return f"{round(100 * part / whole)}%" if whole else None


def monthly_return(site: Site, month: date, settings: TrustSettings) -> MonthlyReturn:
    """Each measure NHS England collects (docs/facts.md#nhs-englands-monthly-return) for calls raised at `site` in `month`, with
    its definition in terms of our coding, and the site's implementation status for the month."""
    period = month_period(month)
    t = _tally(site.id, period)
    calls = t["calls"]
    sections = [
        _routes_section(t, calls),
        _review_section(t, calls),
        _outcome_section(t),
        _not_acute_section(t),
        _unfinished_section(t),
    ]
    implementation = implementation_status(site.id, period.start)
    sections.append(
        Section(
            "Site implementation status",
            [
                Measure(
                    "family_route_status",
                    "Patient and family escalation route",
                    FAMILY_ROUTE_WORDS[implementation["family_route"]] if implementation else "Not recorded",
                    "Whether patients, families and carers could call for a review at this site during the month, as you "
                    "recorded it below. No call can tell this.",
                ),
                Measure(
                    "staff_route_status",
                    "Staff escalation route",
                    STAFF_ROUTE_WORDS[implementation["staff_route"]] if implementation else "Not recorded",
                    "Whether staff could call a different team for a review at any time during the month (fully, partly "
                    "or not live), as you recorded it below.",
                ),
            ],
        )
    )
    return MonthlyReturn(
        site={"id": site.id, "code": site.code, "name": site.name},
        month=period.start,
        sections=sections,
        calls=calls,
        still_open=t["open"],
        withdrawn=t["withdrawn"],
        route_unknown=_route_unknown(t),
        implementation=implementation,
        generated_at=utcnow(),
        facts_missing=report_facts.any_missing(site.id),
        revisions=revisions.revisions(site.id, period, revisions.current_figures(site.id, period, t["review_needed"])),
        coded_against_review=revisions.coded_against_review(site.id, period),
    )


def _routes_section(t: dict[str, int], calls: int) -> Section:
    """Calls by who raised them."""
    return Section(
        "Escalation calls by route",
        [
            Measure(
                "route_patient",
                "Patient escalation process",
                t["route:patient"],
                f"Calls the patient raised themselves (caller: patient). {COUNTED}",
                _percent(t["route:patient"], calls),
            ),
            Measure(
                "route_family",
                "Family (including carers and advocates) escalation process",
                t["route:family_carer_advocate"],
                f"Calls raised by a relative, friend, carer or advocate (caller: family, carer or advocate), "
                f"including those they phoned in. {COUNTED}",
                _percent(t["route:family_carer_advocate"], calls),
            ),
            Measure(
                "route_staff",
                "Staff escalation process",
                t["route:staff"],
                f"Calls raised by a member of staff on the staff route (caller: staff). {COUNTED}",
                _percent(t["route:staff"], calls),
            ),
            Measure(
                "calls_total",
                "All escalation calls",
                calls,
                f"The three routes added together. {COUNTED} Withdrawn calls are included.",
            ),
        ],
    )


def _review_section(t: dict[str, int], calls: int) -> Section:
    """Calls that needed a clinical review, and those about acute deterioration."""
    acute = t["type:acute_deterioration"]
    return Section(
        "Clinical review and acute deterioration",
        [
            Measure(
                "clinical_review",
                "Calls that needed a clinical review",
                t["review_needed"],
                f'Calls coded "clinical review needed: yes", and every call with a recorded review. {CODED}',
                _percent(t["review_needed"], calls),
            ),
            Measure(
                "acute_deterioration",
                "Calls related to acute deterioration",
                acute,
                f"Calls coded as acute deterioration. The percentage is of all escalation calls. {CODED}",
                _percent(acute, calls),
            ),
        ],
    )


def _outcome_section(t: dict[str, int]) -> Section:
    """What happened after the acute deterioration calls."""
    life_saving = t["outcome:critical_care_admission"] + t["outcome:transfer_enhanced_or_tertiary"]
    return Section(
        "Outcome of acute deterioration calls",
        [
            Measure(
                "outcome_critical_care",
                "Urgent admission to HDU or ICU",
                t["outcome:critical_care_admission"],
                f'Acute deterioration calls coded "admitted to critical care (HDU or ICU)". {CODED}',
            ),
            Measure(
                "outcome_transfer",
                "Transfer to another enhanced level of care or a tertiary centre",
                t["outcome:transfer_enhanced_or_tertiary"],
                f'Acute deterioration calls coded "transferred to enhanced care or a tertiary centre". {CODED}',
            ),
            Measure(
                "outcome_life_saving",
                "Potentially life-saving escalations of care",
                life_saving,
                "The two rows above added together (urgent HDU or ICU admission, and transfer). Each call has "
                "one outcome, so no call is counted twice.",
            ),
            Measure(
                "outcome_change_in_care",
                "Change in care on the current ward",
                t["outcome:change_in_care"],
                f'Acute deterioration calls coded "change in care on the ward" (for example new medication '
                f"such as antibiotics, oxygen, investigations or other treatment). It does not include the "
                f"escalations above. {CODED}",
            ),
            *_change_kind_measures(t),
            Measure(
                "outcome_no_change",
                "No change in care",
                t["outcome:no_change"],
                f'Acute deterioration calls coded "no change in care". With the rows above (except the kinds of '
                f"change) it adds up to all acute deterioration calls. {CODED}",
            ),
        ],
    )


def _change_kind_measures(t: dict[str, int]) -> list[Measure]:
    """The kinds of change in care (a change can be of more than one kind)."""
    return [
        Measure(
            "change_medication",
            "Change in care: medication (for example antibiotics)",
            t["change:medication"],
            "Of the changes in care, those that included new or changed medication. "
            "A change can include more than one kind, so these four rows can add up to more than the row above.",
        ),
        Measure(
            "change_oxygen",
            "Change in care: oxygen",
            t["change:oxygen"],
            "Of the changes in care, those that included oxygen.",
        ),
        Measure(
            "change_investigations",
            "Change in care: investigations",
            t["change:investigations"],
            "Of the changes in care, those that included investigations.",
        ),
        Measure(
            "change_other",
            "Change in care: other treatment",
            t["change:other"],
            "Of the changes in care, those that included other treatment.",
        ),
    ]


def _not_acute_section(t: dict[str, int]) -> Section:
    """The coded calls that were not about acute deterioration."""
    return Section(
        "Calls not about acute deterioration",
        [
            Measure(
                "not_acute_clinical",
                "Clinical concerns addressed (for example delays in medication or investigations)",
                t["type:clinical_concern"],
                f'Calls coded "clinical concern". {CODED}',
            ),
            Measure(
                "not_acute_communication",
                "Communication issues resolved",
                t["type:communication"],
                f'Calls coded "communication". {CODED}',
            ),
            Measure(
                "not_acute_discharge",
                "Discharge planning issues resolved",
                t["type:discharge_planning"],
                f'Calls coded "discharge planning". {CODED}',
            ),
            Measure(
                "not_acute_communication_discharge",
                "Communication and discharge planning issues resolved",
                t["type:communication"] + t["type:discharge_planning"],
                "The two rows above added together, as NHS England publishes them.",
            ),
            Measure(
                "not_acute_other",
                "Other concerns, signposted (PALS, complaints, non-clinical)",
                t["type:other_signposted"],
                f'Calls coded "other, signposted". NHS England does not publish this group; it is here so '
                f"that every coded call is counted somewhere. {CODED}",
            ),
        ],
    )


def _route_unknown(t: dict[str, int]) -> int:
    """Calls counted in the total but in no route (a text-in call until a clinician records who raised it)."""
    return t["calls"] - sum(t[f"route:{route.value}"] for route in ROUTES)


def _unfinished_section(t: dict[str, int]) -> Section:
    """Calls that cannot be coded yet: still open, or withdrawn."""
    return Section(
        "Calls without an outcome yet",
        [
            Measure(
                "still_open",
                "Calls still open",
                t["open"],
                "Calls raised in the month that are not closed yet (including reopened calls). Their type and "
                "outcome are not in the figures above until they are closed: close them before you submit.",
            ),
            Measure(
                "route_unknown",
                "Calls whose route is not known yet",
                _route_unknown(t),
                "Calls raised by a text to the tracker's number from someone with no call, whose route nobody has "
                "recorded yet. They are in the total but in no route: record who raised them before you submit.",
            ),
            Measure(
                "withdrawn",
                "Calls withdrawn by the caller",
                t["withdrawn"],
                "Calls the caller withdrew, and calls cancelled because the patient was discharged or died "
                "before the review. They count as calls by route but have no outcome. (A patient who died "
                "after the review keeps the outcome coded at close.)",
            ),
        ],
    )


def return_rows(report: MonthlyReturn) -> list[list]:
    """The return as spreadsheet rows (header first), for the CSV."""
    rows: list[list[str | int]] = [
        ["Site code", "Site", "Month", "Section", "Measure", "Value", "Percentage of all calls", "Definition"]
    ]
    for section in report.sections:
        for measure in section.measures:
            rows.append(
                [
                    report.site["code"],
                    report.site["name"],
                    f"{report.month:%Y-%m}",
                    section.title,
                    measure.label,
                    measure.value,
                    measure.percent or "",
                    measure.definition,
                ]
            )
    return rows
