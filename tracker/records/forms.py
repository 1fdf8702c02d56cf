"""The records pages' forms: the two exports and the audit search. Each is a `PostedForm`
(web/posted.py). Dates are typed as day, month and year (the NHS date input); filters are chosen from
lists; a person is named by email and a call by its reference. Anything malformed, reversed, absurd or
not on the list is a plain-English problem tied to its field, and the page lists them all; unknown
field names are ignored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from wtforms import Field, StringField, TextAreaField
from wtforms.validators import StopValidation

from tracker.services.concerns.references import normalise_reference
from tracker.services.records import audit_log
from tracker.services.records.exports import Period
from tracker.services.setup import in_reach
from tracker.services.text import TextProblem, clean_block
from tracker.services.words import OUTCOME_WORDS, STATUS_WORDS
from tracker.web.posted import PostedForm, one_of, raw

EARLIEST = date(2000, 1, 1)
REASON_LIMIT = 500
FORMATS = ("csv", "xlsx")


@dataclass
class Problems:
    """A form's problems, for the error summary and for each field."""

    by_field: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def summary(self, id_prefix: str = "") -> list[dict]:
        """For the error summary; `id_prefix` when the page has two forms with the same fields."""
        return [{"text": message, "href": f"#{id_prefix}{field_id}"} for field_id, message in self.by_field.items()]


def latest_date(today: date) -> date:
    return date(today.year + 1, 12, 31)


def month_so_far(today: date) -> tuple[date, date]:
    return today.replace(day=1), today


def days_in(start: date, end: date) -> int:
    return (end - start + timedelta(days=1)).days


def date_fields(prefix: str, value: date | None, values=None) -> dict:
    """What to show in a date input: what was typed (when re-showing a form), else the date."""
    if values is not None and any(values.get(f"{prefix}-{n}") for n in ("day", "month", "year")):
        return {n: (values.get(f"{prefix}-{n}") or "")[:8] for n in ("day", "month", "year")}
    if value is None:
        return {"day": "", "month": "", "year": ""}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def _nhs_date(prefix: str, label: str) -> Callable:
    """A date from <prefix>-day, <prefix>-month and <prefix>-year, on the day field (where the error
    summary links). `label` names it ("The start date"); required unless the form is read with
    `dates_optional=True`. The form is read with `today`, the trust's date."""

    def check(form: PostedForm, day: Field) -> None:
        parts = [raw(form[f"{prefix}_{name}"]) for name in ("day", "month", "year")]
        today = form.context["today"]
        day.data = None
        if not any(parts):
            if form.context.get("dates_optional"):
                raise StopValidation()
            raise StopValidation(f"Enter {label.lower()}")
        real = f"{label} must be a real date, for example 1 3 {today.year}"
        if not all(part.isascii() and part.isdigit() and len(part) <= 4 for part in parts) or len(parts[2]) != 4:
            raise StopValidation(real)
        try:
            moment = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            raise StopValidation(real) from None
        latest = latest_date(today)
        if not EARLIEST <= moment <= latest:
            raise StopValidation(f"{label} must be between 1 January {EARLIEST.year} and 31 December {latest.year}")
        day.data = moment

    return check


def _end_not_first(form: PostedForm, field: Field) -> None:
    start, end = form.from_day.data, form.to_day.data
    if start and end and start > end:
        form.refuse("to-day", "The end date must be the same as or after the start date")


def _the_site(form: PostedForm, field: Field) -> None:
    code = raw(field)
    if code and code != form.context["site"].code:
        raise StopValidation("Choose a site from the list")


class PeriodForm(PostedForm):
    """A period of days, both included. Read with `today` (and `site`, the manager's)."""

    site = StringField(validators=[_the_site])
    from_day = StringField(name="from-day", validators=[_nhs_date("from", "The start date")])
    from_month = StringField(name="from-month")
    from_year = StringField(name="from-year")
    to_day = StringField(name="to-day", validators=[_nhs_date("to", "The end date")])
    to_month = StringField(name="to-month")
    to_year = StringField(name="to-year", validators=[_end_not_first])

    def shown_problems(self) -> Problems:
        return Problems(self.problems())


def _ward_ids(form: PostedForm) -> dict[str, int]:
    return {str(w.id): w.id for w in in_reach.site_wards(form.context["site"].id)}


def _reason(form: PostedForm, field: Field) -> None:
    if form.identifiers.data != "yes":
        field.data = None
        raise StopValidation()
    try:
        field.data = clean_block(field.raw_data[0] if field.raw_data else None, REASON_LIMIT)
    except TextProblem as problem:
        raise StopValidation(
            f"The reason must be {REASON_LIMIT} characters or fewer"
            if problem.kind == "too_long"
            else "The reason contains characters that cannot be saved. Type it again"
        ) from None
    if not field.data:
        raise StopValidation("Say why this export needs patient details")


class ConcernExportForm(PeriodForm):
    ward = StringField(validators=[one_of(_ward_ids, "Choose a ward from the list", optional=True)])
    status = StringField(validators=[one_of(STATUS_WORDS, "Choose a status from the list", optional=True)])
    outcome = StringField(validators=[one_of(OUTCOME_WORDS, "Choose an outcome from the list", optional=True)])
    format = StringField(validators=[one_of(FORMATS, "Choose CSV or Excel", optional=True)])
    identifiers = StringField()
    reason = TextAreaField(validators=[_reason])

    def ward_id(self) -> int | None:
        return int(self.ward.data) if self.ward.data else None  # one of the site's ward ids, checked above


class DailyCheckExportForm(PeriodForm):
    """The daily check's answers: a period, a ward or all, and names and free text only with a reason."""

    ward = StringField(validators=[one_of(_ward_ids, "Choose a ward from the list", optional=True)])
    identifiers = StringField()
    reason = TextAreaField(validators=[_reason])

    def ward_id(self) -> int | None:
        return int(self.ward.data) if self.ward.data else None  # one of the site's ward ids, checked above


def _person(form: PostedForm, field: Field) -> None:
    email = raw(field)
    field.data = None
    if email:
        person = audit_log.find_user(email)
        if person is None:
            raise StopValidation("No staff account has that email address")
        field.data = person.id


def _call_at_site(form: PostedForm, field: Field) -> None:
    typed = raw(field)
    field.data = None
    if typed:
        reference = normalise_reference(typed)
        field.data = in_reach.concern_id_at_site(form.context["site"].id, reference) if reference else None
        if field.data is None:
            raise StopValidation("No call with that reference at your site. Check it, for example MR-7QK4-92")


class AuditForm(PeriodForm):
    """The audit log's filters: for the export, and (dates optional) for the audit viewer's search."""

    user = StringField(validators=[_person])
    action = StringField(
        validators=[one_of(lambda form: audit_log.actions(), "Choose an action from the list", optional=True)]
    )
    reference = StringField(validators=[_call_at_site])


# What the audit viewer can show besides every event: only staff accounts' joiners, movers and leavers.
SHOW_ONLY = {"accounts": "Staff accounts: joiners, movers and leavers"}


class AuditSearchForm(AuditForm):
    """The audit viewer's search: the log's filters, and optionally only the events about staff accounts."""

    show = StringField(validators=[one_of(SHOW_ONLY, "Choose what to show from the list", optional=True)])

    def search(self, site_id: int, before_id: int | None, *, tz: str, today: date) -> audit_log.AuditSearch:
        """The search for the site, from the dates (either may be left out) and filters read."""
        start, end = self.from_day.data, self.to_day.data
        lower, upper = Period(start or EARLIEST, end or latest_date(today)).bounds(tz)
        return audit_log.AuditSearch(
            site_id,
            self.reference.data,
            self.user.data,
            self.action.data,
            lower if start else None,
            upper if end else None,
            before_id,
            accounts_only=self.show.data == "accounts",
        )

    def coded(self, before_id: int | None) -> dict:
        """What was searched for, for the audit row that records the look (coded values only)."""
        start, end = self.from_day.data, self.to_day.data
        return {
            "user_id": self.user.data,
            "action": self.action.data,
            "concern_id": self.reference.data,
            "accounts_only": self.show.data == "accounts",
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "page_after": before_id,
        }


class RetentionFlagsForm(PostedForm):
    """A call's flags that stop or lengthen its retention: each ticked ("yes") or not."""

    legal_hold = StringField()
    serious_incident = StringField()
    complaint = StringField()

    def flags(self) -> dict[str, bool]:
        return {name: raw(self[name]) == "yes" for name in ("legal_hold", "serious_incident", "complaint")}
