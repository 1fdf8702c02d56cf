"""Text-in calls (docs/architecture.md#text-in-calls): a text to the tracker's number from a number with no call, open
or recently ended, is never thrown away. It becomes a call on the queue of the team the trust chose (until chosen,
the first adult team, with an alarm), raised by "not yet known", with no ward until a clinician phones back and
sets both. It pages only if the trust turns that on, coalesced per number and capped trust-wide, never dropped."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import SETUP_TRUST, create_staff, sign_in_directly
from tests.services.test_escalation import build_team_on_call
from tests.webhooks.test_twilio_webhooks import PRIMARY, inbound_params, signed_post
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    Audience,
    AuditEvent,
    CallerRoute,
    Channel,
    Concern,
    ConcernNote,
    ConcernStatus,
    Message,
    NoteKind,
    Population,
    Settings,
    Site,
    SystemAlarm,
    Team,
    Ward,
)
from tracker.services.concerns import text_in
from tracker.services.records import audit
from tracker.services.setup import hospital
from tracker.services.setup.settings import forget_settings

STRANGER = "+447400999888"  # a number with no call
WORRY = "My dad in bay 3 is very breathless and nobody is listening"


@pytest.fixture
def on_call(app):
    with app.app_context(), write_intent():
        team = build_team_on_call(app)
        return {
            "team": team["team"].id,
            "site": team["ward"].site_id,
            "ward": team["ward"].id,
            "people": team["people"],
        }


def text(client, app, body=WORRY, sender=STRANGER, sid="SM" + "1" * 32) -> str:
    return html.unescape(
        signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(sender, body, sid=sid)).get_data(
            as_text=True
        )
    )


def set_setting(app, **values) -> None:
    with app.app_context(), write_intent():
        settings = db.session.get_one(Settings, 1)
        for name, value in values.items():
            setattr(settings, name, value)
        db.session.commit()
    forget_settings()


def clinician_alerts(read, concern_id: int) -> int:
    return read.count(Message, Message.concern_id == concern_id, Message.audience == Audience.CLINICIAN)


def test_a_text_from_a_number_with_no_call_becomes_a_call_on_the_queue_and_is_answered(app, client, read, on_call):
    reply = text(client, app)
    concern = read.one(Concern)
    assert (concern.channel, concern.caller_route, concern.ward_id) == (Channel.SMS, CallerRoute.UNKNOWN, None)
    assert (concern.team_id, concern.site_id, concern.status) == (on_call["team"], on_call["site"], ConcernStatus.NEW)
    assert concern.worry_details == WORRY and concern.callback_number == STRANGER
    assert concern.reference in reply and "If the patient is very unwell now: Press the red buzzer" in reply
    assert "020 7946 0101" in reply  # the team's number
    assert clinician_alerts(read, concern.id) == 0  # paging for text-in calls is off by default
    assert read.one(AuditEvent, AuditEvent.action == "text_in_not_paged").changes == {"reason": "paging_off"}
    # The trust has not chosen the team for texts: the first adult team took it, and an alarm says so.
    assert read.count(SystemAlarm, SystemAlarm.kind == "text_in_team_not_chosen", SystemAlarm.cleared_at.is_(None)) == 1

    sign_in_directly(app, client, on_call["people"]["primary"])
    queue = client.get("/triage/").get_data(as_text=True)
    assert f'data-concern="{concern.reference}"' in queue and "Ward not yet known" in queue
    assert "A text (not yet known)" in queue
    page = html.unescape(client.get(f"/triage/c/{concern.reference}").get_data(as_text=True))
    assert "A text to the tracker's number" in page and "Save who raised it and the ward" in page
    assert WORRY in page


def test_later_texts_from_the_same_number_go_on_the_same_call(app, client, read, on_call):
    text(client, app)
    text(client, app, "He is grey now", sid="SM" + "2" * 32)
    assert read.count(Concern) == 1
    assert read.one(ConcernNote, ConcernNote.kind == NoteKind.CALLER_REPLY).text == "He is grey now"
    assert read.one(Concern).unread_reply is True


def test_a_repeated_delivery_of_one_text_raises_one_call(app, client, read, on_call):
    text(client, app)
    text(client, app)  # the provider delivered it twice
    assert read.count(Concern) == 1


def test_no_reply_where_the_trust_does_not_text_relatives_but_the_call_is_raised(app, client, read, on_call):
    set_setting(app, text_relatives_allowed=False)
    reply = text(client, app)
    assert "<Message>" not in reply
    assert read.count(Concern) == 1


def test_a_text_from_a_staff_mobile_is_not_a_call(app, client, read, on_call):
    text(client, app, "ok thanks", sender=PRIMARY)
    assert read.count(Concern) == 0
    assert read.count(AuditEvent, AuditEvent.action == "inbound_unmatched") == 1


def test_the_team_the_trust_chose_takes_texts_and_the_alarm_clears(app, client, read, on_call):
    with app.app_context(), write_intent():
        site = db.session.get_one(Site, on_call["site"])
        hospital.add_team(
            audit.Actor.cli(),
            code="gen-night",
            site=site,
            name="Night Outreach",
            population=Population.ADULT,
            public_phone="020 7946 0222",
            duty_phone=None,
        )
        db.session.commit()
    text(client, app, sid="SM" + "3" * 32, sender="+447400999777")  # before the choice: the alarm
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            *SETUP_TRUST,
            "--text-in-team",
            "gen-night",
        ]
    )
    assert result.exit_code == 0, result.output
    assert read.count(SystemAlarm, SystemAlarm.kind == "text_in_team_not_chosen", SystemAlarm.cleared_at.is_(None)) == 0
    text(client, app)
    concern = read.one(Concern, Concern.callback_number == STRANGER)
    assert concern.team_id == read.one(Team, Team.code == "gen-night").id
    assert read.count(SystemAlarm, SystemAlarm.kind == "text_in_team_not_chosen", SystemAlarm.cleared_at.is_(None)) == 0
    refused = runner.invoke(
        args=[
            "tracker",
            "setup-trust",
            "--name",
            "T",
            "--emergency-instruction",
            "E",
            "--outreach-phone",
            "020 7946 0100",
            "--text-in-team",
            "no-such-team",
        ]
    )
    assert refused.exit_code != 0 and "no-such-team" in refused.output


def test_with_paging_on_a_text_in_call_pages_but_one_number_pages_once_in_30_minutes(app, read, on_call):
    set_setting(app, text_in_paging=True)
    with app.app_context(), write_intent():
        first = text_in.raise_text_in(STRANGER, WORRY, "SM" + "4" * 32)
        db.session.commit()
        first_id = first.id
        first.status = ConcernStatus.CANCELLED  # say it was withdrawn by phone a moment later
        db.session.commit()
        second = text_in.raise_text_in(STRANGER, "Still worried", "SM" + "5" * 32)
        db.session.commit()
        second_id = second.id
    assert clinician_alerts(read, first_id) >= 1
    assert clinician_alerts(read, second_id) == 0
    assert read.one(AuditEvent, AuditEvent.action == "text_in_not_paged").changes == {"reason": "number_paged_recently"}


def test_over_the_hourly_cap_text_in_calls_wait_on_the_queue_with_an_alarm(app, read, on_call, monkeypatch):
    monkeypatch.setattr(text_in, "PAGED_PER_HOUR_CAP", 2)
    set_setting(app, text_in_paging=True)
    with app.app_context(), write_intent():
        ids = []
        for n in range(3):
            ids.append(text_in.raise_text_in(f"+4474009990{n:02d}", WORRY, f"SM{n:032d}").id)
            db.session.commit()
    assert [clinician_alerts(read, i) >= 1 for i in ids] == [True, True, False]
    assert read.count(Concern) == 3  # never dropped
    assert read.count(SystemAlarm, SystemAlarm.kind == "text_in_paging_capped", SystemAlarm.cleared_at.is_(None)) == 1


def test_a_clinician_sets_who_raised_it_and_the_ward_and_the_return_becomes_final(app, client, read, on_call):
    from tracker.services.reports.monthly_return import monthly_return
    from tracker.services.setup.settings import current_settings

    text(client, app)
    concern = read.one(Concern)
    month = concern.raised_local_month
    with app.app_context():
        report = monthly_return(db.session.get_one(Site, on_call["site"]), month, current_settings())
        assert report.calls == 1 and report.route_unknown == 1
    manager_id, _ = create_staff(
        app, "manager", site_id=on_call["site"], totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    )
    sign_in_directly(app, client, manager_id)
    page = html.unescape(client.get(f"/reports/return?month={month.month}&year={month.year}").get_data(as_text=True))
    assert "Not final yet: who raised some calls is not known" in page

    sign_in_directly(app, client, on_call["people"]["primary"])
    page = client.get(f"/triage/c/{concern.reference}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    refused = client.post(
        f"/triage/c/{concern.reference}/details",
        data={
            "csrf_token": token,
            "version": version,
            "caller_route": "not_yet_known",
            "ward_id": str(on_call["ward"]),
        },
    )
    assert refused.status_code == 400 and "Choose who raised the call" in refused.get_data(as_text=True)
    saved = client.post(
        f"/triage/c/{concern.reference}/details",
        data={
            "csrf_token": token,
            "version": version,
            "caller_route": "family_carer_advocate",
            "ward_id": str(on_call["ward"]),
        },
    )
    assert saved.status_code == 302
    concern = read.one(Concern)
    assert (concern.caller_route, concern.ward_id) == (CallerRoute.FAMILY, on_call["ward"])
    assert read.one(AuditEvent, AuditEvent.action == "text_in_details_set").changes == {
        "caller_route": "family_carer_advocate",
        "ward_id": on_call["ward"],
    }
    with app.app_context():
        report = monthly_return(db.session.get_one(Site, on_call["site"]), month, current_settings())
        assert report.route_unknown == 0
    page = client.get(f"/triage/c/{concern.reference}").get_data(as_text=True)
    assert "Save who raised it and the ward" not in page and "Ward 7" in page


def test_a_call_without_a_ward_is_counted_exported_and_kept_by_its_teams_rules(app, client, read, on_call):
    from tracker.services.records import retention
    from tracker.services.reports import rollups
    from tracker.services.reports.dashboard import _by_ward_and_hour

    text(client, app)
    concern = read.one(Concern)
    with app.app_context():
        wards = db.session.execute(
            select(Ward.id, Ward.name, Ward.retired_at).where(Ward.site_id == on_call["site"])
        ).all()
        day = concern.raised_local_date
        found = rollups.days(on_call["site"], day, day)
        by_ward, _by_hour = _by_ward_and_hour(rollups.parts_in(found, day, day, linked_once=False), wards)
        assert ("Ward not yet known", 1) in by_ward
    # Closed nine years ago, it is due for destruction by the adult rule of its (adult) team.
    with app.app_context(), write_intent():
        row = db.session.get_one(Concern, concern.id)
        row.status = ConcernStatus.CLOSED
        row.closed_at = utcnow() - timedelta(days=9 * 366)
        db.session.commit()
        assert concern.id in [c.concern_id for c in retention.candidates(date.today())]
