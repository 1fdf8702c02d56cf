"""A patient who died or was discharged, before or after the review (docs/architecture.md#concerns-and-their-clocks):
recorded on a normal close or cancel, it stops every text to the caller, and the return counts it as the coding
says (a death after review keeps its outcome; a discharge before review is "withdrawn")."""

from __future__ import annotations

import html
import re

import pytest

from tests.triage.test_concern_page import act, open_page
from tracker.extensions import db
from tracker.models import Concern, ConcernStatus, LocalReason, Message, SendState, User
from tracker.services.concerns import caller_updates
from tracker.services.concerns.triage import TriageProblem
from tracker.worker import Worker


def shown(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_a_death_after_review_keeps_its_outcome_and_stops_every_text_to_the_caller(client, nurse, call, read, app, sms):
    act(client, call, "claim")
    act(client, call, "update-caller", template_id="update_team_coming")  # waiting in the outbox
    act(client, call, "review", intent="save", review_kind="seen_on_ward", findings="Deteriorated", news2="no")
    closed = act(
        client,
        call,
        "close",
        concern_type="acute_deterioration",
        clinical_review_needed="yes",
        deterioration_outcome="no_change",
        caller_update_method="in_person",
        caller_updated_time="",
        local_reason="patient_died",
    )
    assert closed.status_code == 302
    concern = read.one(Concern)
    assert concern.local_reason is LocalReason.PATIENT_DIED
    assert concern.concern_type.value == "acute_deterioration" and concern.deterioration_outcome.value == "no_change"
    update = read.one(Message, Message.template_id == "update_team_coming")
    assert update.send_state is SendState.CANCELLED
    before = len(sms.sent)
    Worker(app, sender=sms).run_once()
    assert not [text for text in sms.sent[before:] if text.to == concern.callback_number]
    page = shown(open_page(client, call))
    assert "The patient died. No more texts go to the caller." in page
    with app.app_context(), pytest.raises(TriageProblem, match="the patient died or left hospital"):
        caller_updates.update_caller(concern.id, db.session.get(User, concern.claimed_by_id), "update_review_done")


def test_a_discharge_before_review_is_cancelled_as_withdrawn(client, nurse, call, read):
    act(client, call, "claim")
    refused = act(
        client,
        call,
        "cancel",
        cancel_kind="duplicate",
        duplicate_of="MR-XXXX-XX",
        reason="Gone home",
        local_reason="patient_discharged",
    )
    assert refused.status_code == 400  # shown beside the question, with what was typed
    assert "A call about a patient who died or left hospital is cancelled as withdrawn" in refused.get_data(
        as_text=True
    )
    assert read.one(Concern).status is ConcernStatus.ACKNOWLEDGED
    cancelled = act(
        client, call, "cancel", cancel_kind="withdrawn", reason="Gone home", local_reason="patient_discharged"
    )
    assert cancelled.status_code == 302
    concern = read.one(Concern)
    assert concern.status is ConcernStatus.CANCELLED and concern.cancel_kind.value == "withdrawn"
    assert concern.local_reason is LocalReason.PATIENT_DISCHARGED


def test_the_return_says_how_a_death_or_discharge_counts(ctx, trust):
    from datetime import date

    from tracker.models import Site
    from tracker.services.reports.monthly_return import monthly_return
    from tracker.services.setup.settings import current_settings

    report = monthly_return(db.session.get(Site, trust["site"]), date(2025, 8, 1), current_settings())
    (withdrawn,) = [m for section in report.sections for m in section.measures if m.key == "withdrawn"]
    assert "cancelled because the patient was discharged or died before the review" in withdrawn.definition
    assert "died after the review keeps the outcome coded at close" in withdrawn.definition
