"""Several relatives, one patient (docs/architecture.md#linked-calls). A clinician links a second relative's call to
the call the team works, in one audited action: the linked call stops paging, its waiting alerts are cancelled, it
follows the other call (claim, review, close with the same coding), and its caller gets the updates. Cancelling the
call it follows, or unlinking it, puts it back on the queue, paging again. How a linked call counts in the national
figures is the trust's setting. A caller's text after their call ended can become a new call that pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import SETUP_TRUST, mobile, sign_in_directly
from tests.services.test_concerns import raise_one
from tests.services.test_escalation import build_team_on_call
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    Audience,
    AuditEvent,
    CallerRoute,
    CallerUpdateMethod,
    CancelKind,
    Channel,
    Concern,
    ConcernStatus,
    ConcernType,
    Message,
    NoteKind,
    ReviewKind,
    SendState,
    Settings,
    User,
)
from tracker.services.concerns import caller_updates, linking, safeguarding, triage
from tracker.services.concerns.triage_problem import TriageProblem
from tracker.services.reports.counting import _tally
from tracker.services.reports.periods import Period
from tracker.services.setup.settings import forget_settings


@pytest.fixture
def two_relatives(app):
    """A team on call, and two relatives' calls about Pat Jones on one ward: each has paged the primary."""
    with app.app_context(), write_intent():
        team = build_team_on_call(app)
        first = raise_one(team["ward"], patient_name="Pat Jones", caller_name="Sam")
        second = raise_one(
            team["ward"],
            submission="second-relative-0001",
            patient_name="pat jones",
            caller_name="Alex",
            callback=mobile("07400 765432"),
        )
        db.session.commit()
        return {
            "first": first.concern_id,
            "second": second.concern_id,
            "first_ref": first.reference,
            "second_ref": second.reference,
            "people": team["people"],
            "site": team["ward"].site_id,
        }


def person(two_relatives, tier="primary") -> User:
    return db.session.get_one(User, two_relatives["people"][tier])


def call(concern_id: int) -> Concern:
    return db.session.get_one(Concern, concern_id, populate_existing=True)


def link(two_relatives, tier="primary"):
    second = call(two_relatives["second"])
    result = linking.link(second.id, person(two_relatives, tier), two_relatives["first_ref"], second.version)
    db.session.commit()
    return result


def waiting_alerts(concern_id: int) -> int:
    return db.session.scalar(
        select(db.func.count()).where(
            Message.concern_id == concern_id,
            Message.audience == Audience.CLINICIAN,
            Message.send_state.in_([SendState.PENDING, SendState.UNKNOWN]),
        )
    )


def test_linking_stops_the_second_calls_paging_and_cancels_its_waiting_alerts(app, two_relatives, sms):
    from tracker.worker import Worker

    with app.app_context(), write_intent():
        assert waiting_alerts(two_relatives["second"]) >= 1  # both calls paged on their own
        follower, primary = link(two_relatives)
        assert (follower.id, primary.id) == (two_relatives["second"], two_relatives["first"])  # the first raised
        second = call(two_relatives["second"])
        assert second.linked_to_id == two_relatives["first"] and second.next_escalation_at is None
        assert waiting_alerts(two_relatives["second"]) == 0
        linked = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "linked"))
        assert linked.concern_id == second.id and linked.changes["linked_to_id"] == two_relatives["first"]
        alerts_before = db.session.scalar(
            select(db.func.count()).where(Message.concern_id == second.id, Message.audience == Audience.CLINICIAN)
        )
    with time_machine.travel(utcnow() + timedelta(minutes=30), tick=False):
        Worker(app, sender=sms).run_once()
    with app.app_context():
        alerts_after = db.session.scalar(
            select(db.func.count()).where(
                Message.concern_id == two_relatives["second"], Message.audience == Audience.CLINICIAN
            )
        )
        assert alerts_after == alerts_before  # no step fires for a linked call
        first_alerts = db.session.scalar(
            select(db.func.count()).where(
                Message.concern_id == two_relatives["first"], Message.audience == Audience.CLINICIAN
            )
        )
        assert first_alerts > 1  # the call the team works keeps paging until claimed


def test_the_linked_call_follows_claim_review_and_close_and_its_caller_gets_the_updates(app, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)
        nurse = person(two_relatives)
        triage.claim(two_relatives["first"], nurse)
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.status is ConcernStatus.ACKNOWLEDGED and second.claimed_by_id == nurse.id
        assert second.acknowledged_at is not None

        caller_updates.update_caller(two_relatives["first"], nurse, "update_team_coming")
        db.session.commit()
        to_second_caller = db.session.scalar(
            select(Message).where(
                Message.concern_id == two_relatives["second"],
                Message.audience == Audience.FAMILY,
                Message.template_id == "update_team_coming",
            )
        )
        assert to_second_caller is not None and to_second_caller.to_number == "+447400765432"
        assert to_second_caller.variables["reference"] == two_relatives["second_ref"]  # their own reference

        first = call(two_relatives["first"])
        triage.record_review(
            first.id, nurse, kind=ReviewKind.SEEN_ON_WARD, findings="Settled", news2=None, version=first.version
        )
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.status is ConcernStatus.REVIEWED and second.reviewed_at is not None
        assert second.review_kind is ReviewKind.SEEN_ON_WARD

        coding = triage.Coding(ConcernType.COMMUNICATION, True, None, (), CallerUpdateMethod.PHONE, utcnow())
        triage.close(first.id, nurse, coding, "", call(first.id).version)
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.status is ConcernStatus.CLOSED and second.closed_at is not None
        assert (second.concern_type, second.clinical_review_needed) == (ConcernType.COMMUNICATION, True)
        followed = db.session.scalars(
            select(AuditEvent.changes).where(
                AuditEvent.action == "linked_call_followed", AuditEvent.concern_id == second.id
            )
        ).all()
        assert [c["event"] for c in followed] == ["claimed", "review_recorded", "closed"]


def test_a_linked_call_is_worked_through_the_call_it_follows(app, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)
        with pytest.raises(TriageProblem, match=f"linked to {two_relatives['first_ref']}"):
            triage.claim(two_relatives["second"], person(two_relatives, "secondary"))
        db.session.rollback()
        assert call(two_relatives["second"]).claimed_by_id is None


def test_the_claimed_call_is_the_one_worked_whichever_page_the_link_is_made_from(app, two_relatives):
    with app.app_context(), write_intent():
        nurse = person(two_relatives)
        triage.claim(two_relatives["second"], nurse)
        db.session.commit()
        first = call(two_relatives["first"])
        follower, primary = linking.link(first.id, nurse, two_relatives["second_ref"], first.version)
        db.session.commit()
        assert (follower.id, primary.id) == (two_relatives["first"], two_relatives["second"])
        first = call(two_relatives["first"])
        assert first.status is ConcernStatus.ACKNOWLEDGED and first.claimed_by_id == nurse.id


def test_cancelling_the_call_it_follows_puts_it_back_on_the_queue_paging(app, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)
        first = call(two_relatives["first"])
        triage.cancel(first.id, person(two_relatives), CancelKind.WITHDRAWN, "Family withdrew", first.version)
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.linked_to_id is None and second.status is ConcernStatus.NEW
        assert second.next_escalation_at is not None  # paging again
        assert db.session.scalar(select(AuditEvent.changes).where(AuditEvent.action == "unlinked")) == {
            "reason": "linked_call_cancelled",
            "status": "new",
        }


def test_unlinking_puts_the_call_back_on_the_queue_unclaimed_and_paging(app, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)
        triage.claim(two_relatives["first"], person(two_relatives))
        db.session.commit()
        second = call(two_relatives["second"])
        with pytest.raises(TriageProblem, match="Give a reason"):
            linking.unlink(second.id, person(two_relatives), "  ", second.version)
        linking.unlink(second.id, person(two_relatives), "Different Pat Jones, bay 4", second.version)
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.linked_to_id is None and second.status is ConcernStatus.NEW and second.claimed_by_id is None
        assert second.next_escalation_at is not None


@pytest.mark.parametrize("back_on_the_queue", ["released", "unlinked", "its call cancelled"])
def test_a_linked_call_back_on_the_queue_is_not_timed_as_claimed(app, two_relatives, back_on_the_queue):
    """Raised to claimed is the patient's wait: a claim that did not stand is not the end of it."""
    with app.app_context(), write_intent():
        link(two_relatives)
        nurse = person(two_relatives)
        triage.claim(two_relatives["first"], nurse)
        db.session.commit()
        assert call(two_relatives["second"]).to_acknowledge_us is not None
        first, second = call(two_relatives["first"]), call(two_relatives["second"])
        if back_on_the_queue == "released":
            triage.release(first.id, nurse, "Called to an arrest", first.version)
        elif back_on_the_queue == "unlinked":
            linking.unlink(second.id, nurse, "Different Pat Jones, bay 4", second.version)
        else:
            triage.cancel(first.id, nurse, CancelKind.WITHDRAWN, "Family withdrew", first.version)
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.status is ConcernStatus.NEW
        assert (second.acknowledged_at, second.to_acknowledge_us) == (None, None)


@pytest.mark.parametrize(
    ("reference", "message"),
    [("", "Give the reference of another open call"), ("MR-NOPE-0000", "Give the reference of another open call")],
)
def test_a_link_to_a_call_that_cannot_be_found_is_refused(app, two_relatives, reference, message):
    with app.app_context(), write_intent():
        second = call(two_relatives["second"])
        with pytest.raises(TriageProblem, match=message):
            linking.link(second.id, person(two_relatives), reference, second.version)


def test_a_linked_call_counts_as_its_own_call_unless_the_trust_counts_linked_calls_once(app, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)
        raised = call(two_relatives["first"]).raised_local_date
        period = Period(raised.replace(day=1), raised)
        assert _tally(two_relatives["site"], period)["calls"] == 2  # the default: a genuine second call
        db.session.get_one(Settings, 1).linked_calls_counted = "once"
        db.session.commit()
        forget_settings()
        assert _tally(two_relatives["site"], period)["calls"] == 1


def test_setup_trust_sets_how_linked_calls_are_counted(app, two_relatives):
    runner = app.test_cli_runner()
    trust = SETUP_TRUST
    with app.app_context():
        assert db.session.get_one(Settings, 1).linked_calls_counted == "own"  # the default
    result = runner.invoke(args=[*trust, "--linked-calls-counted", "once"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get_one(Settings, 1).linked_calls_counted == "once"
        changes = db.session.scalar(
            select(AuditEvent.changes).where(AuditEvent.action == "linked_calls_counting_saved")
        )
        assert changes == {"from": "own", "to": "once"}
    result = runner.invoke(args=[*trust, "--linked-calls-counted", "twice"])
    assert result.exit_code != 0 and "twice" in result.output


def test_linked_calls_share_the_safeguarding_flag(app, two_relatives):
    with app.app_context(), write_intent():
        nurse = person(two_relatives)
        safeguarding.set_flag(call(two_relatives["first"]), nurse)
        db.session.commit()
        assert call(two_relatives["second"]).safeguarding is False  # not linked yet: a match is only shown
        link(two_relatives)
        second = call(two_relatives["second"])
        assert second.safeguarding is True
        texts = db.session.scalars(
            select(Message.send_state).where(Message.concern_id == second.id, Message.audience == Audience.FAMILY)
        ).all()
        assert texts and all(state is SendState.CANCELLED for state in texts)  # its receipt never goes
        with pytest.raises(TriageProblem, match="safeguarding"):
            caller_updates.update_caller(second.id, nurse, "update_team_coming")


def test_flagging_one_call_flags_the_calls_linked_with_it(app, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)
        safeguarding.set_flag(call(two_relatives["second"]), person(two_relatives))
        db.session.commit()
        assert call(two_relatives["first"]).safeguarding is True
        inherited = db.session.scalar(
            select(AuditEvent.changes).where(
                AuditEvent.action == "safeguarding_flag_set", AuditEvent.concern_id == two_relatives["first"]
            )
        )
        assert inherited["inherited"] is True


# --- a new call from a caller's text after their call ended --------------------------------------------------


def close_with_a_follow_up_text(app, two_relatives, text="She is worse again tonight") -> None:
    from tracker.models import ConcernNote

    with app.app_context(), write_intent():
        nurse = person(two_relatives)
        first = two_relatives["first"]
        triage.claim(first, nurse)
        coding = triage.Coding(ConcernType.CLINICAL_CONCERN, False, None, (), CallerUpdateMethod.PHONE, utcnow())
        triage.close_without_review(first, nurse, coding, "Advice by phone", call(first).version)
        db.session.add(ConcernNote(concern_id=first, kind=NoteKind.CALLER_REPLY, text=text, created_at=utcnow()))
        db.session.get_one(Concern, first).unread_reply = True
        db.session.commit()


def test_a_follow_up_text_becomes_a_new_call_that_pages_and_appears_on_the_queue(app, client, two_relatives):
    close_with_a_follow_up_text(app, two_relatives)
    sign_in_directly(app, client, two_relatives["people"]["secondary"])
    page = client.get(f"/triage/c/{two_relatives['first_ref']}").get_data(as_text=True)
    assert "Raise a new call from this text" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/triage/c/{two_relatives['first_ref']}/follow-up-call", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(Concern).where(Concern.follows_id == two_relatives["first"]))
        assert new is not None and response.headers["Location"].endswith(f"/triage/c/{new.reference}")
        assert (new.channel, new.caller_route, new.status) == (Channel.SMS, CallerRoute.FAMILY, ConcernStatus.NEW)
        assert new.worry_details == "She is worse again tonight" and new.patient_name == "Pat Jones"
        paged = db.session.scalar(
            select(db.func.count()).where(Message.concern_id == new.id, Message.audience == Audience.CLINICIAN)
        )
        assert paged >= 1  # a genuine call: paged as any new call
        assert call(two_relatives["first"]).unread_reply is False
        assert db.session.scalar(select(AuditEvent.changes).where(AuditEvent.action == "follow_up_raised")) == {
            "follow_up_id": new.id
        }
        reference = new.reference
    queue = client.get("/triage/").get_data(as_text=True)
    assert f'data-concern="{reference}"' in queue and "data-follow-up" not in queue
    page = client.get(f"/triage/c/{reference}").get_data(as_text=True)
    assert "Raised from the caller's text after call" in page and two_relatives["first_ref"] in page
    # The same press twice raises one call.
    page = client.get(f"/triage/c/{two_relatives['first_ref']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    again = client.post(
        f"/triage/c/{two_relatives['first_ref']}/follow-up-call", data={"csrf_token": token}, follow_redirects=True
    )
    assert "no new text from the caller" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).where(Concern.follows_id == two_relatives["first"])) == 1


def test_a_follow_up_call_inherits_the_safeguarding_flag_and_texts_nothing(app, two_relatives):
    close_with_a_follow_up_text(app, two_relatives)
    with app.app_context(), write_intent():
        nurse = person(two_relatives)
        first = call(two_relatives["first"])
        safeguarding.set_flag(first, nurse)
        outcome = linking.raise_follow_up(call(first.id), nurse)
        db.session.commit()
        new = call(outcome.concern_id)
        assert new.safeguarding is True
        texts = db.session.scalars(
            select(Message.send_state).where(Message.concern_id == new.id, Message.audience == Audience.FAMILY)
        ).all()
        assert all(state is SendState.CANCELLED for state in texts)


def test_a_follow_up_call_keeps_the_callers_bleep_or_extension(app, two_relatives):
    """Raised as the caller's own call, with their details: a staff caller's bleep goes with their number."""
    with app.app_context(), write_intent():
        db.session.get_one(Concern, two_relatives["first"]).callback_extension = "4471"
        db.session.commit()
    close_with_a_follow_up_text(app, two_relatives)
    with app.app_context(), write_intent():
        outcome = linking.raise_follow_up(call(two_relatives["first"]), person(two_relatives))
        db.session.commit()
        assert call(outcome.concern_id).callback_extension == "4471"


def test_the_page_offers_the_link_and_the_queue_shows_the_linked_call(app, client, two_relatives):
    sign_in_directly(app, client, two_relatives["people"]["primary"])
    page = client.get(f"/triage/c/{two_relatives['second_ref']}").get_data(as_text=True)
    assert f"Link with {two_relatives['first_ref']}" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    response = client.post(
        f"/triage/c/{two_relatives['second_ref']}/link",
        data={"csrf_token": token, "version": version, "other_reference": two_relatives["first_ref"].lower()},
    )
    assert response.status_code == 302
    page = client.get(f"/triage/c/{two_relatives['second_ref']}").get_data(as_text=True)
    assert "data-linked-to" in page and "Claim this call" not in page and "Unlink this call" in page
    page = client.get(f"/triage/c/{two_relatives['first_ref']}").get_data(as_text=True)
    assert "data-linked-calls" in page and two_relatives["second_ref"] in page
    queue = client.get("/triage/").get_data(as_text=True)
    assert f'data-linked-to="{two_relatives["first_ref"]}"' in queue
    assert 'data-new-count="1"' in queue  # the linked call is not a new call to claim


# --- found in review: the corners of linking -----------------------------------------------------------------


def test_an_update_reaches_the_linked_relative_when_the_main_call_is_a_nurses_without_a_number(app):
    with app.app_context(), write_intent():
        team = build_team_on_call(app)
        nurse_call = raise_one(
            team["ward"], patient_name="Pat Jones", caller_route=CallerRoute.STAFF, callback=None, sms_consent=False
        )
        relative = raise_one(team["ward"], submission="relative-after-nurse-01", patient_name="Pat Jones")
        nurse = db.session.get_one(User, team["people"]["primary"])
        triage.claim(nurse_call.concern_id, nurse)
        db.session.commit()
        linking.link(relative.concern_id, nurse, nurse_call.reference, call(relative.concern_id).version)
        db.session.commit()
        assert caller_updates.textable_callers(call(nurse_call.concern_id)) == 1
        caller_updates.update_caller(nurse_call.concern_id, nurse, "update_team_coming")
        db.session.commit()
        sent = db.session.scalars(select(Message.concern_id).where(Message.template_id == "update_team_coming")).all()
        assert sent == [relative.concern_id]


def test_linking_a_flagged_call_flags_every_call_about_the_patient(app, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)  # the second follows the first
        ward = call(two_relatives["first"]).ward
        third = raise_one(
            ward,
            submission="third-relative-00001",
            patient_name="Pat Jones",
            caller_name="Jo",
            callback=mobile("07400 555666"),
        )
        nurse = person(two_relatives)
        safeguarding.set_flag(call(third.concern_id), nurse)
        db.session.commit()
        linking.link(third.concern_id, nurse, two_relatives["first_ref"], call(third.concern_id).version)
        db.session.commit()
        assert [call(i).safeguarding for i in (two_relatives["first"], two_relatives["second"])] == [True, True]


def test_a_death_recorded_on_the_main_call_ends_its_linked_calls_and_their_texts(app, two_relatives):
    from tracker.models import LocalReason

    with app.app_context(), write_intent():
        link(two_relatives)
        first = call(two_relatives["first"])
        triage.cancel(
            first.id,
            person(two_relatives),
            CancelKind.WITHDRAWN,
            "Died on the ward",
            first.version,
            local_reason=LocalReason.PATIENT_DIED,
        )
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.status is ConcernStatus.CANCELLED and second.local_reason is LocalReason.PATIENT_DIED
        assert second.next_escalation_at is None  # not paged again
        waiting = db.session.scalars(
            select(Message.send_state).where(Message.concern_id == second.id, Message.audience == Audience.FAMILY)
        ).all()
        assert all(state is not SendState.PENDING for state in waiting)


def test_an_alert_for_a_linked_call_that_is_already_on_its_way_is_not_sent(app, two_relatives):
    from tracker.outbox.delivery import unwanted_reason

    with app.app_context(), write_intent():
        alert = db.session.scalar(
            select(Message).where(Message.concern_id == two_relatives["second"], Message.audience == Audience.CLINICIAN)
        )
        alert.send_state = SendState.SENDING  # leased by a worker: not cancelled by the link
        db.session.commit()
        link(two_relatives)
        assert unwanted_reason(db.session.get_one(Message, alert.id)) == "no_longer_wanted"


def test_the_same_patient_panel_leaves_out_calls_already_linked(app, client, two_relatives):
    with app.app_context(), write_intent():
        link(two_relatives)
    sign_in_directly(app, client, two_relatives["people"]["primary"])
    page = client.get(f"/triage/c/{two_relatives['first_ref']}").get_data(as_text=True)
    assert "Another open call may be about this patient" not in page and "data-linked-calls" in page


def test_a_call_unlinked_after_a_review_on_the_other_call_is_not_counted_as_reviewed(app, two_relatives):
    """Unlinking says the calls were about different patients: a review recorded on the other call while they
    were linked was not this patient's, so the call goes back unreviewed, and its review is timed from its own
    (found by tests/property/test_lifecycle_properties.py)."""
    with app.app_context(), write_intent():
        link(two_relatives)
        nurse = person(two_relatives)
        triage.claim(two_relatives["first"], nurse)
        db.session.commit()
        first = call(two_relatives["first"])
        triage.record_review(
            first.id, nurse, kind=ReviewKind.SEEN_ON_WARD, findings="Settled", news2=None, version=first.version
        )
        db.session.commit()
        assert call(two_relatives["second"]).reviewed_at is not None  # the review counts for it while linked
        second = call(two_relatives["second"])
        linking.unlink(second.id, nurse, "Different Pat Jones, bay 4", second.version)
        db.session.commit()
        second = call(two_relatives["second"])
        assert second.status is ConcernStatus.NEW
        assert (second.reviewed_at, second.review_kind, second.to_review_us) == (None, None, None)
        with time_machine.travel(utcnow() + timedelta(minutes=20), tick=False):
            triage.claim(second.id, nurse)
            db.session.commit()
            second = call(two_relatives["second"])
            triage.record_review(
                second.id, nurse, kind=ReviewKind.PHONE_ADVICE, findings="Rang", news2=None, version=second.version
            )
            db.session.commit()
            second = call(two_relatives["second"])
            assert second.acknowledged_at <= second.reviewed_at == utcnow()
