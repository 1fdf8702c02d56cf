"""Two relatives' calls about one patient (docs/architecture.md#concerns-and-their-clocks): each call shows the
other, matched on the ward and the patient's name (however it was typed) or bed; paging is never stopped by the
match itself."""

from __future__ import annotations

import html
import re

from tests.conftest import create_staff, mobile, sign_in_directly
from tests.services.test_concerns import raise_one
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Audience, Concern, Message, Ward


def shown(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


def test_a_second_relatives_call_shows_the_first_on_both_and_both_still_page(app, client, trust):
    with app.app_context(), write_intent():
        ward = db.session.get(Ward, trust["ward"])
        first = raise_one(ward, patient_name="Pat Jones", caller_name="Sam").concern.reference
        second = raise_one(
            ward,
            submission="second-relative-0001",
            patient_name=" pat  JONES.",
            caller_name="Alex",
            callback=mobile("07400 765432"),
        )
        second = second.concern.reference
        other_patient = raise_one(ward, submission="other-patient-00001", patient_name="Chris Smith").concern.reference
        db.session.commit()
        paged = {
            reference: db.session.scalar(
                db.select(db.func.count())
                .select_from(Message)
                .join(Concern, Concern.id == Message.concern_id)
                .where(Concern.reference == reference, Message.audience == Audience.CLINICIAN)
            )
            for reference in (first, second)
        }
    assert first != second, "the second relative's call was merged as a repeat"
    assert all(count >= 1 for count in paged.values()), paged  # the match never holds back an alert
    nurse, _ = create_staff(app, "outreach", team_ids=[trust["team"]])
    sign_in_directly(app, client, nurse)
    page_one = shown(client.get(f"/triage/c/{first}").get_data(as_text=True))
    page_two = shown(client.get(f"/triage/c/{second}").get_data(as_text=True))
    assert "Another open call may be about this patient" in page_one and second in page_one
    assert "Another open call may be about this patient" in page_two and first in page_two
    assert "(the same patient name)" in page_two
    page_three = shown(client.get(f"/triage/c/{other_patient}").get_data(as_text=True))
    assert "Another open call may be about this patient" not in page_three
