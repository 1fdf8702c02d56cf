"""Raising a concern: one transaction holds the concern, its audit rows and its texts; abuse
limits flag and hold back, never refuse (docs/architecture.md#concerns-and-their-clocks, #messages, #security)."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import func, select

from tests.conftest import DUTY_MOBILE, build_trust, mobile
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    CallerRoute,
    Channel,
    Concern,
    ConcernStatus,
    Message,
    SendState,
    SpokeToWard,
    SystemAlarm,
)
from tracker.services.concerns.intake import Intake, Source, WardUnavailable, raise_concern
from tracker.services.messaging.notifications import FamilyText
from tracker.services.phone import parse_phone
from tracker.services.records import audit


@pytest.fixture
def built(ctx):
    return build_trust()


def intake(ward, submission="s" * 24, **overrides) -> Intake:
    values = dict(
        ward_id=ward.id,
        submission_id=submission,
        caller_route=CallerRoute.FAMILY,
        channel=Channel.OWN_DEVICE,
        worry_categories=("breathing",),
        worry_details="Breathing fast",
        patient_name="Pat Jones",
        caller_name="Sam",
        callback=mobile(),
        sms_consent=True,
        spoke_to_ward=SpokeToWard.YES,
    )
    values.update(overrides)
    return Intake(**values)


def raise_one(ward, source=Source(device_id="device-1", address="10.0.0.1"), **overrides):
    outcome = raise_concern(intake(ward, **overrides), source, audit.Actor.public())
    db.session.commit()
    return outcome


def messages(concern_id=None):
    query = select(Message).order_by(Message.id)
    if concern_id:
        query = query.where(Message.concern_id == concern_id)
    return db.session.scalars(query).all()


def actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_a_concern_is_saved_with_its_audit_rows_and_both_texts(built):
    before = len(actions())
    outcome = raise_one(built["ward"])
    concern = outcome.concern
    assert outcome.how == "new" and outcome.family_text is FamilyText.QUEUED
    assert concern.status is ConcernStatus.NEW and concern.version == 1
    assert (concern.site_id, concern.team_id) == (built["site"].id, built["team"].id)
    assert concern.callback_number == "+447400123456" and concern.callback_textable
    sent = messages(concern.id)
    assert [(m.template_id, m.send_state) for m in sent] == [
        ("clinician_alert", SendState.PENDING),
        ("family_receipt", SendState.PENDING),
    ]
    assert sent[0].to_number == DUTY_MOBILE and sent[1].to_number == "+447400123456"
    assert actions()[before:] == ["concern_raised", "message_queued", "escalation_step_fired", "message_queued"]
    assert audit.verify_chain().ok


def test_the_audit_row_holds_coded_values_and_no_personal_data(built):
    raise_one(built["ward"])
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "concern_raised")).one()
    flat = repr(row.changes)
    for personal in ("Pat Jones", "Sam", "Breathing fast", "7400123456"):
        assert personal not in flat
    assert row.changes["caller_route"] == "family_carer_advocate"
    assert row.changes["worry_categories"] == ["breathing"]


def test_the_same_form_sent_twice_gives_one_concern(built):
    first = raise_one(built["ward"])
    second = raise_one(built["ward"])
    assert second.how == "resubmitted" and second.concern.id == first.concern.id
    assert db.session.scalar(select(func.count(Concern.id))) == 1
    assert len(messages()) == 2


def test_a_new_reference_that_clashes_with_an_old_one_is_replaced_and_the_concern_saved(built, monkeypatch):
    from tracker.services.concerns import intake as intake_service

    first = raise_one(built["ward"])
    fresh = iter([first.reference, first.reference, "MR-ZZZZ-99"])  # two clashes, then a free one
    monkeypatch.setattr(intake_service, "new_reference", lambda: next(fresh))
    second = raise_one(built["ward"], submission="t" * 24, worry_details="A different worry")
    assert second.reference == "MR-ZZZZ-99" and second.how == "new"
    assert db.session.scalar(select(func.count(Concern.id))) == 2
    assert actions().count("concern_raised") == 2


def test_an_identical_repeat_from_a_new_form_is_merged_not_dropped(built):
    first = raise_one(built["ward"], submission="a" * 24)
    repeat = raise_one(built["ward"], submission="b" * 24, worry_details="  BREATHING fast! ")
    assert repeat.how == "merged" and repeat.concern.id == first.concern.id
    assert repeat.concern.repeat_count == 1
    assert db.session.scalar(select(func.count(Concern.id))) == 1
    assert "repeat_merged" in actions()


def test_a_different_worry_about_the_same_patient_is_a_new_concern(built):
    raise_one(built["ward"], submission="a" * 24)
    other = raise_one(built["ward"], submission="b" * 24, worry_details="Now very sleepy")
    assert other.how == "new"
    assert db.session.scalar(select(func.count(Concern.id))) == 2


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"callback": None}, FamilyText.NO_NUMBER),
        ({"sms_consent": False}, FamilyText.NO_CONSENT),
        ({"callback": parse_phone("020 7946 0000")}, FamilyText.NOT_TEXTABLE),
        ({"callback": parse_phone("+33 6 12 34 56 78")}, FamilyText.NOT_TEXTABLE),
    ],
)
def test_the_caller_is_texted_only_with_a_textable_number_and_consent(built, overrides, expected):
    outcome = raise_one(built["ward"], **overrides)
    assert outcome.family_text is expected
    assert [m.template_id for m in messages()] == ["clinician_alert"]


def test_relatives_are_not_texted_when_the_trust_has_not_allowed_it(ctx):
    ward = build_trust(text_relatives_allowed=False)["ward"]
    family = raise_one(ward, submission="f" * 24)
    patient = raise_one(ward, submission="p" * 24, caller_route=CallerRoute.PATIENT, worry_details="I feel worse")
    assert family.family_text is FamilyText.RELATIVES_NOT_TEXTED
    assert patient.family_text is FamilyText.QUEUED


def test_a_burst_from_one_device_is_saved_and_flagged_but_its_texts_are_held(built, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEVICE_CONCERN_LIMIT", "2 per 10 minutes")
    outcomes = [raise_one(built["ward"], submission=f"{n}" * 24, worry_details=f"Worry number {n}") for n in range(4)]
    assert db.session.scalar(select(func.count(Concern.id))) == 4
    assert [o.concern.flagged_burst for o in outcomes] == [False, False, True, True]
    assert [o.family_text for o in outcomes] == [FamilyText.QUEUED, FamilyText.QUEUED, FamilyText.HELD, FamilyText.HELD]
    held = [m for m in messages() if m.template_id == "family_receipt" and m.send_state is SendState.HELD]
    assert [m.hold_reason for m in held] == ["burst", "burst"]
    # The flagged calls share one alert, so a flood cannot bury the duty phone.
    alerts = [m.template_id for m in messages() if m.audience.value == "clinician"]
    assert alerts == ["clinician_alert", "clinician_alert", "clinician_alert_burst"]
    assert "alert_coalesced" in actions()


def test_a_hospital_wifi_address_does_not_flag_families_on_different_tablets(built, app, monkeypatch):
    monkeypatch.setitem(app.config, "ADDRESS_CONCERN_LIMIT", "30 per 10 minutes")
    monkeypatch.setitem(app.config, "DEVICE_CONCERN_LIMIT", "3 per 10 minutes")
    for n in range(10):
        outcome = raise_one(
            built["ward"],
            source=Source(device_id=f"tablet-{n}", address="10.1.1.1"),
            submission=f"{n}" * 24,
            worry_details=f"Worry {n}",
        )
        assert not outcome.concern.flagged_burst


def test_the_honeypot_flags_a_concern_without_refusing_it(built):
    outcome = raise_one(built["ward"], looks_automated=True)
    assert outcome.concern.flagged_automated
    assert outcome.family_text is FamilyText.HELD
    assert [m.template_id for m in messages()] == ["clinician_alert_burst", "family_receipt"]


def test_the_global_sms_budget_holds_texts_back_and_raises_an_alarm(built, app, monkeypatch):
    monkeypatch.setitem(app.config, "FAMILY_SMS_BUDGET", "1 per hour")
    first = raise_one(built["ward"], source=Source("d1", "10.0.0.1"), submission="a" * 24)
    second = raise_one(built["ward"], source=Source("d2", "10.0.0.2"), submission="b" * 24, worry_details="Other")
    assert (first.family_text, second.family_text) == (FamilyText.QUEUED, FamilyText.HELD)
    assert db.session.scalars(select(SystemAlarm.kind)).all() == ["sms_budget_exhausted"]
    assert [m.template_id for m in messages() if m.send_state is SendState.PENDING].count("clinician_alert") == 2


def test_with_redis_down_concerns_are_still_saved_and_an_alarm_is_raised(built, monkeypatch):
    from tracker.extensions import limiter

    class Down:
        def hit(self, *args, **kwargs):
            raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(type(limiter), "limiter", property(lambda self: Down()))
    outcome = raise_one(built["ward"])
    assert outcome.how == "new" and outcome.family_text is FamilyText.QUEUED
    assert db.session.scalars(select(SystemAlarm.kind)).all() == ["rate_limit_storage_down"]


def test_a_team_without_a_duty_phone_raises_an_alarm_and_still_saves_the_concern(ctx):
    ward = build_trust(duty_phone=None)["ward"]
    outcome = raise_one(ward)
    assert outcome.concern.id is not None
    assert [m.template_id for m in messages()] == ["family_receipt"]
    assert db.session.scalars(select(SystemAlarm.kind)).all() == ["alert_recipient_missing"]
    assert "alert_not_possible" in actions()


def test_a_retired_ward_takes_no_new_concerns(built):
    with pytest.raises(WardUnavailable):
        raise_concern(intake(built["retired"]), Source(), audit.Actor.public())


def test_nothing_is_half_saved_when_a_step_fails(built, monkeypatch):
    from tracker.services.concerns import intake as concerns

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(concerns, "prepare_family_receipt", broken)
    events_before = len(actions())
    with pytest.raises(RuntimeError):
        raise_concern(intake(built["ward"]), Source(), audit.Actor.public())
    db.session.rollback()
    assert db.session.scalar(select(func.count(Concern.id))) == 0
    assert db.session.scalar(select(func.count(Message.id))) == 0
    assert len(actions()) == events_before
    assert audit.verify_chain().ok
