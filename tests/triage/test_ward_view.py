"""The ward's own view (docs/architecture.md#the-wards-calls): its list refreshes itself (304 when nothing changed),
says each call's wait in words and links each call to a status page that shows no more than the list's privacy
allows; neither is audited as opening the call, nor keeps a session alive."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import FamilyForm
from tests.triage.test_callback_extension import outreach_client
from tests.triage.test_concern_page import act
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, ConcernStatus, SessionRecord, Team
from tracker.services.concerns import ward_view
from tracker.worker import Worker

RAISED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def a_call(status: ConcernStatus, **clocks) -> Concern:
    return Concern(status=status, raised_at=RAISED, team=Team(ack_target_minutes=15), **clocks)


@pytest.mark.parametrize(
    ("status", "clocks", "words"),
    [
        (ConcernStatus.ACKNOWLEDGED, {"acknowledged_at": RAISED + timedelta(minutes=4)}, "Claimed after 4 min"),
        (
            ConcernStatus.ACKNOWLEDGED,
            {"acknowledged_at": RAISED + timedelta(seconds=40)},
            "Claimed after less than a minute",
        ),
        (ConcernStatus.REVIEWED, {"reviewed_at": RAISED + timedelta(minutes=25)}, "Reviewed after 25 min"),
        (
            ConcernStatus.CLOSED,
            {"reviewed_at": RAISED + timedelta(minutes=65), "closed_at": RAISED + timedelta(hours=3)},
            "Reviewed after 1 h 5 min",
        ),
        (ConcernStatus.CLOSED, {"closed_at": RAISED + timedelta(minutes=30)}, "Closed after 30 min"),
        (ConcernStatus.CANCELLED, {}, "Cancelled"),
    ],
)
def test_a_calls_wait_is_said_in_words(status, clocks, words):
    wait = ward_view.wait(a_call(status, **clocks))
    assert (wait.words, wait.since) == (words, None)


def test_a_call_nobody_has_claimed_is_waiting_and_counted_on_against_the_teams_target():
    assert ward_view.wait(a_call(ConcernStatus.NEW)) == ward_view.Wait("Waiting", since=RAISED, target_minutes=15)


def test_the_status_page_lists_each_step_that_has_happened_oldest_first():
    call = a_call(
        ConcernStatus.ACKNOWLEDGED,
        first_alert_sent_at=RAISED + timedelta(seconds=5),
        acknowledged_at=RAISED + timedelta(minutes=4),
    )
    assert [label for label, _at in ward_view.times(call)] == ["Raised", "Outreach team alerted", "Claimed"]


def rows(client, etag: str | None = None):
    return client.get("/triage/ward/rows", headers={"If-None-Match": etag} if etag else {})


def test_the_wards_list_shows_the_wait_then_how_long_the_claim_took(app, client, login_as, trust, family, read):
    login_as("ward_staff")
    start = utcnow()
    with time_machine.travel(start, tick=False):
        family.submit()
    reference = read.one(Concern).reference
    with time_machine.travel(start + timedelta(minutes=12), tick=False):
        html = client.get("/triage/ward").get_data(as_text=True)
        assert re.search(r"Waiting <strong[^>]*data-raised-at[^>]*>\s*<span data-age-text>12 min</span>", html)
        assert "Not claimed yet" in html
        assert act(outreach_client(app, trust), reference, "claim").status_code == 302
    with time_machine.travel(start + timedelta(minutes=13), tick=False):
        html = rows(client).get_data(as_text=True)
    assert "Claimed after 12 min" in html and "Test outreach" in html


def test_the_refresh_answers_304_until_a_call_arrives_and_links_it_to_its_status_page(client, login_as, family, read):
    login_as("ward_staff")
    family.submit()
    first = rows(client)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"  # patient data: never kept
    assert rows(client, etag).status_code == 304
    family.submit(worry_details="A brand new worry", callback_number="07400 999888")
    changed = rows(client, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    html = changed.get_data(as_text=True)
    for concern in read.all(Concern):
        assert f'href="/triage/ward/c/{concern.reference}"' in html


def test_a_call_on_another_ward_changes_nothing_on_this_wards_list(client, login_as, family, trust):
    login_as("ward_staff")
    family.submit()
    etag = rows(client).headers["ETag"]
    assert FamilyForm(client, "w8").submit(bed="Bay 1", worry_details="Another ward's worry").status_code == 303
    assert rows(client, etag).status_code == 304


def test_the_status_page_shows_status_who_has_it_and_when_never_what_the_caller_wrote(
    app, client, login_as, trust, family, read, sms
):
    login_as("ward_staff")
    family.submit()
    reference = read.one(Concern).reference
    Worker(app, sender=sms).run_once()  # the alert goes: "Outreach team alerted"
    act(outreach_client(app, trust), reference, "claim")
    response = client.get(f"/triage/ward/c/{reference}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for shown in (reference, "Pat Jones", "Claimed", "Test outreach", "Claimed after", "Outreach team alerted"):
        assert shown in html, shown
    assert "020 7946" in html  # the team's number, to talk to them about the call
    for private in ("Mum is breathing fast", "They said the doctor", "Sam Jones", "daughter", "07400 123456"):
        assert private not in html, private


def test_opening_the_status_page_leaves_the_call_a_new_arrival_for_the_team(client, login_as, family, read):
    """Only the team's opening of a call takes it off the top of their queue: a ward checking on it must not."""
    login_as("ward_staff")
    family.submit()
    reference = read.one(Concern).reference
    before = read.count(AuditEvent)
    assert client.get(f"/triage/ward/c/{reference}").status_code == 200
    assert client.get("/triage/ward/rows").status_code == 200
    assert read.one(Concern).first_opened_at is None
    assert read.count(AuditEvent) == before


def test_a_call_of_another_ward_or_gone_from_the_list_is_not_found(app, client, login_as, trust, family, read):
    login_as("ward_staff")
    FamilyForm(client, "w8").submit(bed="Bay 1")
    other = read.one(Concern).reference
    assert client.get(f"/triage/ward/c/{other}").status_code == 404
    assert read.count(AuditEvent, AuditEvent.action == "access_denied") == 1
    family.submit()
    mine = read.one(Concern, Concern.ward_id == trust["ward"])
    with app.app_context():
        db.session.execute(
            db.update(Concern)
            .where(Concern.id == mine.id)
            .values(status=ConcernStatus.CANCELLED, raised_at=utcnow() - timedelta(days=8))
        )
        db.session.commit()
    assert client.get(f"/triage/ward/c/{mine.reference}").status_code == 404  # off the ward's list, so off here
    assert client.get("/triage/ward/c/nonsense").status_code == 404


def test_the_wards_own_refresh_does_not_keep_a_session_alive(client, login_as, read):
    login_as("ward_staff")
    start = utcnow()
    for minutes in (10, 20, 29):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/triage/ward/rows").status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert client.get("/triage/ward/rows").status_code == 302
    assert read.one(SessionRecord).revoked_reason == "idle_timeout"
