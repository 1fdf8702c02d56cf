"""The safeguarding flag (docs/architecture.md#concerns-and-their-clocks): set by outreach or a manager, cleared
only by a manager, audited; it stops every text and automatic reply to the caller at once, keeps the caller's
details out of every export, and names the trust's safeguarding lead on the call."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import create_staff, sign_in_directly
from tests.webhooks import test_twilio_webhooks as webhooks
from tests.webhooks.test_twilio_webhooks import FAMILY, inbound_params, signed_post
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, Message, SendState, Settings, User
from tracker.services.concerns import caller_updates, triage
from tracker.services.concerns.triage import TriageProblem
from tracker.services.setup.settings import forget_settings
from tracker.worker import Worker

TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
paged = webhooks.paged  # a call raised on a team with people on call (the fixture)


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, path: str) -> int:
    page = client.get(path.rsplit("/safeguarding", 1)[0]).get_data(as_text=True)
    return client.post(path, data={"csrf_token": token(page)}).status_code


def test_a_clinician_flags_a_call_and_every_text_to_the_caller_stops_at_once(app, client, read, paged, sms):
    with app.app_context(), write_intent():
        nurse = db.session.get(User, paged["people"]["primary"])
        nurse_id = nurse.id
        triage.claim(paged["concern"], nurse)
        db.session.commit()
        caller_updates.update_caller(paged["concern"], nurse, "update_team_coming")  # queued, not yet sent
        db.session.commit()
    sign_in_directly(app, client, paged["people"]["primary"])
    ref = paged["reference"]
    assert post(client, f"/triage/c/{ref}/safeguarding") == 302
    assert read.one(Concern, Concern.id == paged["concern"]).safeguarding is True
    assert read.count(AuditEvent, AuditEvent.action == "safeguarding_flag_set") == 1
    waiting = read.all(Message, Message.template_id == "update_team_coming")
    assert [m.send_state for m in waiting] == [SendState.CANCELLED]
    Worker(app, sender=sms).run_once()
    assert sms.texts_to(FAMILY) == []
    with app.app_context(), write_intent(), pytest.raises(TriageProblem, match="flagged for safeguarding"):
        caller_updates.update_caller(paged["concern"], db.session.get(User, nurse_id), "update_review_done")
    # No automatic reply, HELP included; a text from the caller is still kept for the team.
    help_reply = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "HELP"))
    assert "<Message>" not in help_reply.get_data(as_text=True)
    page = html.unescape(client.get(f"/triage/c/{ref}").get_data(as_text=True))
    assert "Flagged for safeguarding" in page and "No safeguarding lead is set up for this trust" in page
    assert "Send text" not in page


def test_only_a_manager_clears_the_flag_and_the_page_names_the_safeguarding_lead(app, client, read, paged):
    with app.app_context(), write_intent():
        db.session.get(Settings, 1).safeguarding_lead_name = "Dr Ada Lane"
        db.session.get(Settings, 1).safeguarding_lead_phone = "+442079460555"
        site_id = db.session.get(Concern, paged["concern"]).site_id
        db.session.commit()
    forget_settings()
    ref = paged["reference"]
    sign_in_directly(app, client, paged["people"]["primary"])
    post(client, f"/triage/c/{ref}/safeguarding")
    page = html.unescape(re.sub(r"<[^>]+>", "", client.get(f"/triage/c/{ref}").get_data(as_text=True)))
    assert "The trust's safeguarding lead: Dr Ada Lane, 020 7946 0555" in page
    assert post(client, f"/triage/c/{ref}/safeguarding/clear") == 403  # outreach cannot clear it
    manager, _ = create_staff(app, "manager", site_id=site_id, totp_secret=TOTP)
    sign_in_directly(app, client, manager)
    assert post(client, f"/triage/c/{ref}/safeguarding/clear") == 302
    assert read.one(Concern, Concern.id == paged["concern"]).safeguarding is False
    assert read.count(AuditEvent, AuditEvent.action == "safeguarding_flag_cleared") == 1


def test_an_identified_export_leaves_out_a_safeguarded_callers_details(app, client, read, paged):
    from tracker.services.records import exports

    with app.app_context(), write_intent():
        db.session.get(Concern, paged["concern"]).safeguarding = True
        db.session.commit()
        columns = exports._concern_columns(True)
        headers = [col.header for col in columns]
        row = db.session.execute(
            db.select(*[col.expression for col in columns])
            .join(exports.Site, exports.Site.id == Concern.site_id)
            .join(exports.Ward, exports.Ward.id == Concern.ward_id)
            .where(Concern.id == paged["concern"])
        ).one()
    shown = dict(zip(headers, row, strict=True))
    assert shown["Caller name"] is None and shown["Callback number"] is None and shown["Caller relationship"] is None
    assert shown["Patient name"] == "Pat Jones"  # the rest of the identified export is unchanged
