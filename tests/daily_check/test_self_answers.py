"""The daily check answered by the patient or family (services/daily_check/self_answers.py) and the nurse in
charge's alert (services/daily_check/alerts.py): a worse answer alerts at once, coalesced per ward; a call raised
from it is linked and never limited; the alert carries no clinical words and calls a landline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import create_staff
from tracker.extensions import db
from tracker.models import (
    AnsweredBy,
    AuditEvent,
    Bed,
    CallerRoute,
    Channel,
    CheckChannel,
    Concern,
    DailyCheckAnswer,
    Message,
    MessageChannel,
    User,
    Ward,
)
from tracker.services.concerns import abuse
from tracker.services.daily_check import answers, occupancy, self_answers
from tracker.services.daily_check.answers import AnswerProblem
from tracker.services.messaging.sms_text import measure, render
from tracker.services.records import audit
from tracker.services.setup import hospital

NIC_MOBILE = "+447400900222"
NIC_LANDLINE = "+442079460333"
T0 = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)


def bed_of(ward_id: int, label: str = "Bay 1") -> Bed:
    return db.session.query(Bed).filter_by(ward_id=ward_id, label=label).one()


def with_nurse_in_charge(ward_id: int, number: str | None) -> Ward:
    ward = db.session.get_one(Ward, ward_id)
    if number:
        hospital.update_ward(audit.Actor.cli(), ward, nurse_in_charge_phone=number)
    return ward


def answer(
    ward_id: int, label: str = "Bay 1", feeling: str = "okay", compared: str = "worse", **kw
) -> DailyCheckAnswer:
    return self_answers.record_self(
        bed_of(ward_id, label),
        kw.get("who", AnsweredBy.FAMILY),
        kw.get("channel", CheckChannel.TABLET),
        kw.get("name", "Pat Jones"),
        feeling,
        compared,
        kw.get("text"),
    )


def alerts(ward_id: int) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.idempotency_key.like(f"ward:{ward_id}:check:%")).order_by(Message.id)
        )
    )


@pytest.fixture
def nurse(app, trust):
    user_id, _ = create_staff(app, "ward_staff", ward_id=trust["beds_ward"])
    return user_id


def test_a_self_answer_is_stored_with_who_the_channel_the_name_and_the_beds_patient(ctx, trust, nurse):
    bed = bed_of(trust["beds_ward"])
    stay = occupancy.admit(db.session.get_one(User, nurse), bed, "Pat Jones")
    saved = answer(trust["beds_ward"], feeling="good", compared="better", who=AnsweredBy.PATIENT, name=" Pat J ")
    assert (saved.answered_by, saved.channel, saved.patient_name_given) == (
        AnsweredBy.PATIENT,
        CheckChannel.TABLET,
        "Pat J",
    )
    assert saved.occupancy_id == stay.id and not saved.worse and saved.recorded_by_id is None
    # An empty bed: kept, with no occupancy, for staff to confirm once someone is in it.
    empty = answer(trust["beds_ward"], "Bay 2", feeling="good", compared="same", channel=CheckChannel.OWN_DEVICE)
    assert empty.occupancy_id is None
    assert not answers.counts_as_asked(saved) and not answers.counts_as_asked(empty)


def test_off_scale_values_a_missing_name_and_staff_as_answerer_are_refused(ctx, trust):
    for kw, words in [
        ({"feeling": "awful"}, "feeling"),
        ({"compared": "sideways"}, "compared with yesterday"),
        ({"name": "  "}, "patient's name"),
        ({"name": "x" * 121}, "120 characters"),
        ({"text": "x" * 1001}, "1000 characters"),
        ({"who": AnsweredBy.STAFF}, "Only staff"),
    ]:
        with pytest.raises(AnswerProblem, match=words):
            answer(trust["beds_ward"], **kw)
    assert db.session.scalar(select(DailyCheckAnswer.id)) is None


def test_a_second_self_answer_for_one_bed_within_a_minute_is_refused_but_not_another_bed(ctx, trust):
    with time_machine.travel(T0, tick=False) as clock:
        answer(trust["beds_ward"], feeling="good", compared="same")
        with pytest.raises(self_answers.TooSoon):
            answer(trust["beds_ward"], feeling="good", compared="same")
        answer(trust["beds_ward"], "Bay 2", feeling="good", compared="same")
        clock.shift(timedelta(seconds=61))
        answer(trust["beds_ward"], feeling="good", compared="same")


def test_staff_confirm_a_self_answer_once_audited_and_then_the_bed_counts_as_asked(ctx, trust, nurse):
    user = db.session.get_one(User, nurse)
    occupancy.admit(user, bed_of(trust["beds_ward"]), None)
    saved = answer(trust["beds_ward"], feeling="good", compared="same")
    assert [r.bed.label for r in answers.ward_today(trust["beds_ward"]).not_asked] == ["Bay 1"]
    self_answers.confirm(user, saved)
    self_answers.confirm(user, saved)
    assert answers.ward_today(trust["beds_ward"]).not_asked == []
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "daily_check_confirmed")).all() == [
        "daily_check_confirmed"
    ]
    empty = answer(trust["beds_ward"], "Bay 2", feeling="good", compared="same")
    with pytest.raises(AnswerProblem, match="Mark the bed as occupied"):
        self_answers.confirm(user, empty)


def test_a_worse_answer_alerts_the_nurse_in_charge_by_text_with_no_clinical_words(ctx, trust):
    with_nurse_in_charge(trust["beds_ward"], NIC_MOBILE)
    answer(trust["beds_ward"], feeling="very_bad", compared="worse", text="Breathless and confused")
    (alert,) = alerts(trust["beds_ward"])
    assert (alert.to_number, alert.channel, alert.template_id) == (NIC_MOBILE, MessageChannel.SMS, "daily_check_alert")
    text = render(alert.template_id, alert.variables, "en")
    assert text.startswith("A daily check on Ward 8 needs a nurse now: open the ward view") and "Beds: Bay 1" in text
    for clinical in ("Breathless", "confused", "very bad", "worse", "Pat"):
        assert clinical.lower() not in text.lower()
    assert measure(text).count <= 2


def test_a_landline_or_dect_nurse_in_charge_gets_a_voice_call(ctx, trust):
    with_nurse_in_charge(trust["beds_ward"], NIC_LANDLINE)
    answer(trust["beds_ward"])
    (alert,) = alerts(trust["beds_ward"])
    assert (alert.channel, alert.template_id) == (MessageChannel.VOICE, "voice_daily_check")
    assert "Ward 8 needs a nurse now. Beds: Bay 1" in render(alert.template_id, alert.variables, "en")


def test_no_nurse_in_charge_number_means_no_message(ctx, trust):
    answer(trust["beds_ward"])
    assert alerts(trust["beds_ward"]) == []


def test_alerts_are_coalesced_per_ward_one_per_15_minutes_listing_the_beds(ctx, trust):
    with_nurse_in_charge(trust["beds_ward"], NIC_MOBILE)
    with time_machine.travel(T0, tick=False) as clock:
        answer(trust["beds_ward"], "Bay 1")
        clock.shift(timedelta(minutes=5))
        answer(trust["beds_ward"], "Bay 2")
        (first,) = alerts(trust["beds_ward"])
        assert first.variables["beds"] == "Bay 1, Bay 2"
        first.attempts = 1  # the worker has sent it
        clock.shift(timedelta(minutes=4))
        answer(trust["beds_ward"], "Bay 1", compared="same", feeling="very_bad")  # a minute passed: allowed
        # Sent already: the next one waits until 15 minutes after the first, gathering the beds meanwhile.
        second = alerts(trust["beds_ward"])[1]
        assert second.next_attempt_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=15)
        assert second.variables["beds"] == "Bay 1"
        second.attempts = 1
        clock.shift(timedelta(minutes=30))
        answer(trust["beds_ward"], "Bay 2")
        third = alerts(trust["beds_ward"])[2]
        assert third.next_attempt_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=39)


def test_a_staff_worse_answer_alerts_the_nurse_in_charge_too(ctx, trust, nurse):
    with_nurse_in_charge(trust["beds_ward"], NIC_MOBILE)
    user = db.session.get_one(User, nurse)
    occupancy.admit(user, bed_of(trust["beds_ward"]), None)
    answers.record_by_staff(user, bed_of(trust["beds_ward"]), "okay", "worse")
    assert len(alerts(trust["beds_ward"])) == 1


def test_yes_raises_a_linked_concern_even_with_the_family_forms_limits_exhausted(ctx, trust, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEVICE_CONCERN_LIMIT", "1 per hour")
    monkeypatch.setitem(app.config, "ADDRESS_CONCERN_LIMIT", "1 per hour")
    monkeypatch.setitem(app.config, "FAMILY_SMS_BUDGET", "1 per hour")
    for _ in range(3):
        abuse.hit("1 per hour", "concern-device", "d1")
        abuse.hit("1 per hour", "concern-address", "10.0.0.1")
    saved = answer(
        trust["beds_ward"], "Bay 2", who=AnsweredBy.PATIENT, channel=CheckChannel.OWN_DEVICE, text="Worse pain"
    )
    outcome = self_answers.raise_call(saved, audit.Actor.public())
    concern = db.session.get_one(Concern, outcome.concern_id)
    assert saved.concern_id == concern.id
    assert (concern.caller_route, concern.channel, concern.bed) == (CallerRoute.PATIENT, Channel.OWN_DEVICE, "Bay 2")
    assert concern.worry_details == "Worse pain" and concern.worry_categories == ["not_usual_self"]
    assert concern.patient_name == "Pat Jones" and not concern.flagged_burst
    again = self_answers.raise_call(saved, audit.Actor.public())
    assert again.concern_id == concern.id and db.session.query(Concern).count() == 1


def test_a_call_from_a_staff_answer_is_a_staff_call_staff_assisted(ctx, trust, nurse):
    user = db.session.get_one(User, nurse)
    occupancy.admit(user, bed_of(trust["beds_ward"]), "Sam Lee")
    saved = answers.record_by_staff(user, bed_of(trust["beds_ward"]), "very_bad", "same")
    concern = self_answers.raise_call(saved, audit.Actor.user(user.id)).concern
    assert (concern.caller_route, concern.channel, concern.patient_name) == (
        CallerRoute.STAFF,
        Channel.STAFF_ASSISTED,
        "Sam Lee",
    )
    with pytest.raises(AnswerProblem):
        self_answers.raise_call(
            answer(trust["beds_ward"], "Bay 2", feeling="good", compared="same"), audit.Actor.public()
        )
