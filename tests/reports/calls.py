"""Calls written straight into the database with every clock and code chosen, so each report
figure can be worked out by hand. (How the triage actions set these same fields is tested in
tests/services/test_triage.py; tests/reports/test_monthly_return.py also closes calls through them.)"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tracker.extensions import db
from tracker.models import (
    Audience,
    CallerRoute,
    CancelKind,
    ChangeInCare,
    Channel,
    Concern,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    Message,
    MessageChannel,
    RecipientKind,
    SendState,
    Ward,
)

_numbers = itertools.count(1)

P, F, S = CallerRoute.PATIENT, CallerRoute.FAMILY, CallerRoute.STAFF
ACUTE = ConcernType.ACUTE_DETERIORATION
CLINICAL = ConcernType.CLINICAL_CONCERN
COMMUNICATION = ConcernType.COMMUNICATION
DISCHARGE = ConcernType.DISCHARGE_PLANNING
OTHER = ConcernType.OTHER_SIGNPOSTED
CRITICAL_CARE = DeteriorationOutcome.CRITICAL_CARE_ADMISSION
TRANSFER = DeteriorationOutcome.TRANSFER_ENHANCED_OR_TERTIARY
CHANGE = DeteriorationOutcome.CHANGE_IN_CARE
NO_CHANGE = DeteriorationOutcome.NO_CHANGE
MEDICATION, OXYGEN, INVESTIGATIONS, OTHER_TREATMENT = (
    ChangeInCare.MEDICATION,
    ChangeInCare.OXYGEN,
    ChangeInCare.INVESTIGATIONS,
    ChangeInCare.OTHER,
)


def utc(text: str) -> datetime:
    """'2025-08-31 22:30' (or with seconds) as a UTC moment."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def call(
    ward: Ward,
    raised: str,
    route: CallerRoute,
    status: ConcernStatus = ConcernStatus.CLOSED,
    *,
    kind: ConcernType | None = None,
    review: bool | None = None,
    outcome: DeteriorationOutcome | None = None,
    changes=(),
    alert: int | None = None,
    ack: int | None = None,
    reviewed: int | None = None,
    updated: int | None = None,
    closed: str | None = None,
    cancel: CancelKind | None = None,
) -> Concern:
    """One call on `ward`, raised at `raised` (UTC). `alert`, `ack`, `reviewed` and `updated` are
    seconds after it was raised. A closed call with no `kind` given is coded as communication."""
    raised_at = utc(raised)
    n = next(_numbers)
    if status is ConcernStatus.CLOSED and kind is None:
        kind = COMMUNICATION
    if kind is ACUTE and review is None:
        review = True

    def later(seconds: int | None) -> datetime | None:
        return None if seconds is None else raised_at + timedelta(seconds=seconds)

    concern = Concern(
        reference=f"MR-T{n % 1000:03d}-{n % 97:02d}",  # three digits, unique among any test's few hundred calls
        submission_id=f"report-fixture-{n}",
        ward_id=ward.id,
        site_id=ward.site_id,
        team_id=ward.team_id,
        caller_route=route,
        channel=Channel.OWN_DEVICE,
        patient_name="Report Fixture",
        status=status,
        raised_at=raised_at,
        updated_at=raised_at,
        first_alert_sent_at=later(alert),
        acknowledged_at=later(ack),
        reviewed_at=later(reviewed),
        caller_updated_at=later(updated),
        concern_type=kind,
        clinical_review_needed=review if review is not None else (False if kind else None),
        deterioration_outcome=outcome,
        change_in_care=[c.value for c in changes],
        cancel_kind=cancel,
        closed_at=utc(closed)
        if closed
        else (raised_at + timedelta(hours=2) if status is ConcernStatus.CLOSED else None),
    )
    db.session.add(concern)
    db.session.flush()
    return concern


def text(
    concern: Concern,
    audience: Audience,
    state: SendState,
    delivery: str | None = None,
    *,
    error: str | None = None,
    number: str = "+447400123456",
    channel: MessageChannel = MessageChannel.SMS,
) -> Message:
    n = next(_numbers)
    message = Message(
        concern_id=concern.id,
        audience=audience,
        channel=channel,
        recipient_kind=RecipientKind.CALLER if audience is Audience.FAMILY else RecipientKind.CONTACT,
        to_number=number,
        template_id="family_receipt" if audience is Audience.FAMILY else "clinician_alert",
        variables={},
        idempotency_key=f"report-fixture-{n}",
        send_state=state,
        delivery_status=delivery,
        error_code=error,
        created_at=concern.raised_at,
        next_attempt_at=concern.raised_at,
    )
    db.session.add(message)
    db.session.flush()
    return message
