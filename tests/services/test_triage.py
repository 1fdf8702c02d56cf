"""Every transition of a concern's life, allowed and forbidden, at the service level (docs/architecture.md#concerns-and-their-clocks)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import build_trust, create_staff
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    CallerUpdateMethod,
    CancelKind,
    ChangeInCare,
    Concern,
    ConcernNote,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    ForbiddenTransition,
    Message,
    ReviewKind,
    SendState,
    User,
)
from tracker.services.concerns import caller_updates, reads, triage
from tracker.services.concerns.news2 import Consciousness, Observations, score


@pytest.fixture
def setup(ctx, app):
    built = build_trust()
    team = built["team"].id
    db.session.commit()  # release SQLite's write lock: create_staff writes from its own session
    nurse_id, _ = create_staff(app, "outreach", team_ids=[team])
    colleague_id, _ = create_staff(app, "outreach", team_ids=[team])
    db.session.expire_all()
    concern = raise_one(built["ward"]).concern
    return {
        "concern_id": concern.id,
        "nurse": db.session.get(User, nurse_id),
        "colleague": db.session.get(User, colleague_id),
        "ward": built["ward"],
    }


def fresh(concern_id) -> Concern:
    db.session.expire_all()
    return db.session.get(Concern, concern_id)


def actions(concern_id):
    return [
        e.action
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.concern_id == concern_id).order_by(AuditEvent.id)
        )
    ]


GOOD_CODING = triage.Coding(
    ConcernType.ACUTE_DETERIORATION,
    True,
    DeteriorationOutcome.CHANGE_IN_CARE,
    (ChangeInCare.OXYGEN,),
    CallerUpdateMethod.PHONE,
    None,
)


def coding(**changes) -> triage.Coding:
    values = {**GOOD_CODING.__dict__, "caller_updated_at": utcnow(), **changes}
    return triage.Coding(**values)


def claimed(setup):
    triage.claim(setup["concern_id"], setup["nurse"])
    db.session.commit()
    return fresh(setup["concern_id"])


def reviewed(setup):
    concern = claimed(setup)
    triage.record_review(
        concern.id,
        setup["nurse"],
        kind=ReviewKind.SEEN_ON_WARD,
        findings="RR 24, new O2",
        news2=None,
        version=concern.version,
    )
    db.session.commit()
    return fresh(concern.id)


def closed(setup):
    concern = reviewed(setup)
    triage.close(concern.id, setup["nurse"], coding(), "", concern.version)
    db.session.commit()
    return fresh(concern.id)


# --- claim ----------------------------------------------------------------------------------------


def test_claim_acknowledges_the_call_and_stops_its_alerts(setup):
    concern = claimed(setup)
    assert concern.status is ConcernStatus.ACKNOWLEDGED and concern.claimed_by_id == setup["nurse"].id
    assert concern.acknowledged_at is not None and concern.version == 2
    alert = db.session.scalars(select(Message).where(Message.template_id == "clinician_alert")).one()
    assert alert.send_state is SendState.CANCELLED
    assert actions(concern.id)[-2:] == ["claimed", "message_cancelled"]


def test_a_second_claim_is_told_who_has_it(setup):
    claimed(setup)
    with pytest.raises(triage.AlreadyClaimed, match=setup["nurse"].display_name):
        triage.claim(setup["concern_id"], setup["colleague"])


@pytest.mark.parametrize("state", [closed])
def test_a_closed_call_cannot_be_claimed(setup, state):
    state(setup)
    with pytest.raises(ForbiddenTransition, match="closed"):
        triage.claim(setup["concern_id"], setup["colleague"])


def test_twenty_clinicians_claiming_at_once_give_exactly_one_winner(setup, app):
    team = setup["ward"].team_id
    db.session.commit()
    clinicians = [create_staff(app, "outreach", team_ids=[team])[0] for _ in range(20)]
    start = threading.Barrier(len(clinicians))
    results = []

    def try_claim(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            db.session.expunge(user)
            db.session.rollback()  # hold no lock while waiting for the others
            start.wait(timeout=30)
            with write_intent():
                try:
                    triage.claim(setup["concern_id"], user)
                    db.session.commit()
                    results.append(("won", user_id))
                except triage.AlreadyClaimed as taken:
                    db.session.rollback()
                    results.append(("told", taken.concern.claimed_by_id))

    threads = [threading.Thread(target=try_claim, args=(u,)) for u in clinicians]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [user for outcome, user in results if outcome == "won"]
    assert len(results) == 20 and len(winners) == 1
    assert all(holder == winners[0] for outcome, holder in results if outcome == "told")
    concern = fresh(setup["concern_id"])
    assert concern.claimed_by_id == winners[0] and concern.version == 2
    assert actions(concern.id).count("claimed") == 1


# --- release, hand over, priority -------------------------------------------------------------------


def test_release_puts_the_call_back_with_a_reason_in_a_note(setup):
    concern = claimed(setup)
    triage.release(concern.id, setup["nurse"], "Called to a cardiac arrest", concern.version)
    db.session.commit()
    concern = fresh(concern.id)
    assert concern.status is ConcernStatus.NEW and concern.claimed_by_id is None
    note = db.session.scalars(select(ConcernNote)).one()
    assert note.text == "Called to a cardiac arrest"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "released")).one()
    assert event.changes["note_id"] == note.id and "arrest" not in repr(event.changes)


def test_only_the_claimant_may_release_hand_over_review_or_close(setup):
    concern = claimed(setup)
    other = setup["colleague"]
    for attempt in (
        lambda: triage.release(concern.id, other, "x", concern.version),
        lambda: triage.hand_over(concern.id, other, setup["nurse"].id, "x", concern.version),
        lambda: triage.record_review(
            concern.id, other, kind=ReviewKind.PHONE_ADVICE, findings="x", news2=None, version=concern.version
        ),
    ):
        with pytest.raises(triage.TriageProblem, match="Only the clinician who has this call"):
            attempt()
        db.session.rollback()


def test_hand_over_moves_the_claim_to_a_colleague_in_the_team(setup):
    concern = claimed(setup)
    triage.hand_over(concern.id, setup["nurse"], setup["colleague"].id, "Shift change", concern.version)
    db.session.commit()
    assert fresh(concern.id).claimed_by_id == setup["colleague"].id


def test_hand_over_to_someone_outside_the_team_is_refused(setup, app):
    db.session.commit()
    outsider_id, _ = create_staff(app, "outreach")
    concern = claimed(setup)
    with pytest.raises(triage.TriageProblem, match="another clinician in this call's team"):
        triage.hand_over(concern.id, setup["nurse"], outsider_id, "Shift change", concern.version)


def test_a_reason_is_required_for_release(setup):
    concern = claimed(setup)
    with pytest.raises(triage.TriageProblem, match="Give a reason"):
        triage.release(concern.id, setup["nurse"], "   ", concern.version)


def test_priority_is_set_on_an_open_call_and_refused_on_a_closed_one(setup):
    concern = fresh(setup["concern_id"])
    triage.set_priority(concern.id, setup["colleague"], 1, concern.version)
    db.session.commit()
    assert fresh(concern.id).priority == 1
    with pytest.raises(triage.TriageProblem):
        triage.set_priority(concern.id, setup["colleague"], 7, fresh(concern.id).version)
    db.session.rollback()
    concern = closed(setup)
    with pytest.raises(triage.TriageProblem, match="only an open call"):
        triage.set_priority(concern.id, setup["nurse"], 2, concern.version)


def test_a_decision_made_on_a_stale_page_is_refused(setup):
    concern = fresh(setup["concern_id"])
    stale = concern.version
    triage.set_priority(concern.id, setup["colleague"], 2, stale)
    db.session.commit()
    with pytest.raises(triage.StaleVersion):
        triage.set_priority(concern.id, setup["nurse"], 3, stale)


# --- review and close ------------------------------------------------------------------------------


def test_a_review_with_news2_records_the_score_and_the_clock(setup):
    concern = claimed(setup)
    result = score(Observations(22, 95, True, 105, 112, Consciousness.ALERT, Decimal("38.4")))
    triage.record_review(
        concern.id,
        setup["nurse"],
        kind=ReviewKind.SEEN_ON_WARD,
        findings="Tachypnoeic on O2",
        news2=result,
        version=concern.version,
    )
    db.session.commit()
    concern = fresh(concern.id)
    assert concern.status is ConcernStatus.REVIEWED and concern.reviewed_at is not None
    assert (concern.news2_total, concern.news2_scale, concern.news2_response) == (
        result.total,
        1,
        result.response.value,
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "review_recorded")).one()
    assert event.changes["news2_total"] == result.total


def test_a_review_needs_findings(setup):
    concern = claimed(setup)
    with pytest.raises(triage.TriageProblem, match="Write what you found"):
        triage.record_review(
            concern.id, setup["nurse"], kind=ReviewKind.PHONE_ADVICE, findings=" ", news2=None, version=concern.version
        )


def test_a_new_call_cannot_be_reviewed_or_closed(setup):
    concern = fresh(setup["concern_id"])
    with pytest.raises(ForbiddenTransition, match="new"):
        triage.record_review(
            concern.id, setup["nurse"], kind=ReviewKind.PHONE_ADVICE, findings="x", news2=None, version=concern.version
        )
    with pytest.raises(ForbiddenTransition, match="new, so it cannot be closed"):
        triage.close(concern.id, setup["nurse"], coding(), "", concern.version)


def test_close_records_the_outcome_coding_and_the_clocks(setup):
    concern = closed(setup)
    assert concern.status is ConcernStatus.CLOSED and concern.closed_at is not None
    assert concern.concern_type is ConcernType.ACUTE_DETERIORATION
    assert concern.deterioration_outcome is DeteriorationOutcome.CHANGE_IN_CARE
    assert concern.change_in_care == ["oxygen"] and concern.caller_updated_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "closed")).one()
    assert event.changes["concern_type"] == "acute_deterioration"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"deterioration_outcome": None, "change_in_care": ()}, "Choose what happened"),
        ({"clinical_review_needed": False}, "always needs a clinical review"),
        ({"change_in_care": ()}, "Choose what changed"),
        ({"concern_type": ConcernType.COMMUNICATION}, "Only an acute deterioration"),
        (
            {
                "concern_type": ConcernType.COMMUNICATION,
                "deterioration_outcome": None,
                "change_in_care": (ChangeInCare.OXYGEN,),
            },
            "Choose what changed",
        ),
        ({"caller_update_method": None}, "how the caller was updated"),
        ({"caller_updated_at": utcnow() + timedelta(hours=2)}, "not in the future"),
        ({"caller_updated_at": utcnow() - timedelta(days=2)}, "after the call was raised"),
    ],
)
def test_wrong_outcome_coding_is_refused_with_a_reason(setup, changes, message):
    concern = reviewed(setup)
    with pytest.raises(triage.TriageProblem, match=message):
        triage.close(concern.id, setup["nurse"], coding(**changes), "", concern.version)


def test_could_not_contact_the_caller_needs_no_time(setup):
    concern = reviewed(setup)
    triage.close(
        concern.id,
        setup["nurse"],
        coding(caller_update_method=CallerUpdateMethod.COULD_NOT_CONTACT, caller_updated_at=None),
        "",
        concern.version,
    )
    db.session.commit()
    assert fresh(concern.id).caller_updated_at is None


def test_close_without_review_only_when_no_clinical_review_was_needed(setup):
    concern = claimed(setup)
    signposted = coding(
        concern_type=ConcernType.OTHER_SIGNPOSTED,
        clinical_review_needed=False,
        deterioration_outcome=None,
        change_in_care=(),
    )
    with pytest.raises(triage.TriageProblem, match="must have its review recorded"):
        triage.close_without_review(
            concern.id,
            setup["nurse"],
            coding(concern_type=ConcernType.CLINICAL_CONCERN, deterioration_outcome=None, change_in_care=()),
            "Parking",
            concern.version,
        )
    db.session.rollback()
    triage.close_without_review(
        concern.id, setup["nurse"], signposted, "Parking question, sent to PALS", concern.version
    )
    db.session.commit()
    concern = fresh(concern.id)
    assert concern.status is ConcernStatus.CLOSED and concern.clinical_review_needed is False
    assert concern.reviewed_at is None


def test_a_reviewed_call_cannot_be_closed_without_review(setup):
    concern = reviewed(setup)
    with pytest.raises(ForbiddenTransition):
        triage.close_without_review(
            concern.id, setup["nurse"], coding(clinical_review_needed=False), "x", concern.version
        )


# --- cancel and reopen ------------------------------------------------------------------------------


def test_cancel_as_a_duplicate_links_the_original(setup):
    original = fresh(setup["concern_id"])
    repeat = raise_one(setup["ward"], submission="r" * 24, worry_details="Another worry").concern
    triage.cancel(
        repeat.id,
        setup["nurse"],
        CancelKind.DUPLICATE,
        "Same patient",
        repeat.version,
        duplicate_of_reference=original.reference,
    )
    db.session.commit()
    repeat = fresh(repeat.id)
    assert repeat.status is ConcernStatus.CANCELLED and repeat.duplicate_of_id == original.id


def test_a_duplicate_must_name_a_real_other_call(setup):
    concern = fresh(setup["concern_id"])
    with pytest.raises(triage.TriageProblem, match="reference of the call"):
        triage.cancel(
            concern.id,
            setup["nurse"],
            CancelKind.DUPLICATE,
            "x",
            concern.version,
            duplicate_of_reference=concern.reference,
        )


def test_a_withdrawn_call_is_cancelled_and_its_alerts_stop(setup):
    concern = fresh(setup["concern_id"])
    triage.cancel(concern.id, setup["nurse"], CancelKind.WITHDRAWN, "Family says the patient is fine", concern.version)
    db.session.commit()
    assert fresh(concern.id).status is ConcernStatus.CANCELLED
    assert (
        db.session.scalars(select(Message.send_state).where(Message.template_id == "clinician_alert")).one()
        is SendState.CANCELLED
    )


def test_reviewed_or_closed_calls_cannot_be_cancelled(setup):
    concern = reviewed(setup)
    with pytest.raises(ForbiddenTransition):
        triage.cancel(concern.id, setup["nurse"], CancelKind.WITHDRAWN, "x", concern.version)


def test_reopen_brings_a_closed_call_back_to_the_reopener(setup):
    concern = closed(setup)
    triage.reopen(concern.id, setup["colleague"], "Family phoned again: worse", concern.version)
    db.session.commit()
    concern = fresh(concern.id)
    assert concern.status is ConcernStatus.ACKNOWLEDGED and concern.claimed_by_id == setup["colleague"].id
    assert concern.closed_at is None


def test_only_closed_calls_can_be_reopened(setup):
    concern = fresh(setup["concern_id"])
    with pytest.raises(ForbiddenTransition, match="reopened"):
        triage.reopen(concern.id, setup["nurse"], "x", concern.version)


# --- notes, texts to the caller, the timeline ---------------------------------------------------------


def test_a_note_is_kept_as_free_text_and_referred_to_by_the_audit_row(setup):
    note = triage.add_note(setup["concern_id"], setup["nurse"], "Spoke to the registrar")
    db.session.commit()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "note_added")).one()
    assert event.changes == {"note_id": note.id}


def test_a_canned_update_goes_to_the_caller_through_the_outbox(setup):
    caller_updates.update_caller(setup["concern_id"], setup["nurse"], "update_team_coming")
    caller_updates.update_caller(setup["concern_id"], setup["nurse"], "update_review_done")
    db.session.commit()
    updates = db.session.scalars(select(Message).where(Message.template_id.like("update_%")).order_by(Message.id)).all()
    assert [m.template_id for m in updates] == ["update_team_coming", "update_review_done"]
    assert all(m.to_number == "+447400123456" and m.send_state is SendState.PENDING for m in updates)


def test_free_text_can_never_be_texted_to_the_caller(setup):
    with pytest.raises(triage.TriageProblem, match="Choose one of the messages"):
        caller_updates.update_caller(setup["concern_id"], setup["nurse"], "Your mum has sepsis")


def test_a_caller_who_refused_texts_is_not_texted(setup):
    concern = raise_one(setup["ward"], submission="n" * 24, sms_consent=False, worry_details="No texts").concern
    with pytest.raises(triage.TriageProblem, match="did not agree"):
        caller_updates.update_caller(concern.id, setup["nurse"], "update_team_coming")


def test_the_timeline_tells_the_story_in_order_with_names_and_notes(setup):
    concern = claimed(setup)
    triage.release(concern.id, setup["nurse"], "Busy", concern.version)
    db.session.commit()
    story = reads.timeline(fresh(concern.id))
    assert [item["action"] for item in story][:1] == ["concern_raised"]
    released = [item for item in story if item["action"] == "released"][0]
    assert released["who"] == setup["nurse"].display_name and released["note"].text == "Busy"
