"""The queue never hides a call: a new call nobody has opened is a "New arrival" at the top, newest first, until
someone opens it; then the unclaimed calls wait longest first; then the claimed ones. The page's title and heading
count the calls not claimed; urgency and texting are said in words, not colour alone."""

from __future__ import annotations

import html
import re

from sqlalchemy import update

from tests.triage.test_queue import refs, three_calls  # noqa: F401 (a fixture)
from tracker.extensions import db
from tracker.models import Concern, ConcernStatus, SmsOptOut


def test_new_arrivals_come_first_newest_first_until_someone_opens_them(client, login_as, three_calls, app):  # noqa: F811
    oldest, middle, newest = three_calls
    login_as("outreach")
    page = client.get("/triage/").get_data(as_text=True)
    assert refs(page) == [newest, middle, oldest] and page.count("data-arrival") == 3
    client.get(f"/triage/c/{newest}")  # opened: no longer an arrival, so it waits its turn among the unclaimed
    with app.app_context():
        assert db.session.scalar(db.select(Concern.first_opened_at).where(Concern.reference == newest)) is not None
    page = client.get("/triage/").get_data(as_text=True)
    assert refs(page) == [middle, oldest, newest] and page.count("data-arrival") == 2


def test_the_title_and_heading_count_the_calls_not_claimed(client, login_as, three_calls, app):  # noqa: F811
    with app.app_context():
        db.session.execute(
            update(Concern).where(Concern.reference == three_calls[0]).values(status=ConcernStatus.ACKNOWLEDGED)
        )
        db.session.commit()
    login_as("outreach")
    page = html.unescape(client.get("/triage/").get_data(as_text=True))
    assert "<title>(2 not claimed) Queue" in page
    assert re.search(r"Not claimed: 2</span> · Open calls: 3", page)


def test_each_row_says_in_words_whether_the_caller_can_be_texted(client, login_as, family, app):
    family.submit(callback_number="", sms_consent="", worry_details="No number given")
    family.submit(callback_number="020 7946 0000", worry_details="A landline")
    family.submit(callback_number="07400 555111", sms_consent="", worry_details="Did not agree")
    family.submit(callback_number="07400 555222", worry_details="Texted STOP")
    with app.app_context():
        db.session.add(SmsOptOut(number="+447400555222", opted_out=True, keyword="STOP"))
        db.session.execute(update(Concern).values(first_opened_at=None))
        db.session.commit()
    login_as("outreach")
    page = html.unescape(client.get("/triage/").get_data(as_text=True))
    for words in (
        "No number",
        "Cannot be texted (landline or abroad)",
        "Did not agree to texts",
        "Texts stopped by the caller",
    ):
        assert words in page, words
