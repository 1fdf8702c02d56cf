"""A HEAD request asks for a page's headers: it never changes anything, whatever body it carries
(docs/architecture.md#security). Flask answers HEAD with the GET view, and views that read "not GET" as "posted"
raised a family's concern, recorded a daily check answer or added details from a HEAD with a form body."""

from __future__ import annotations

from tests.conftest import valid_answers
from tests.daily_check.test_self_answer_pages import GOOD, bed_id, token
from tests.public.test_shorter_first_page import send_first_page
from tracker.models import AuditEvent, Concern, DailyCheckAnswer


def head(client, path: str, data: dict):
    return client.open(path, method="HEAD", data=data)


def test_a_head_with_a_full_form_body_raises_no_concern(family, client, read):
    response = head(client, "/w/w7", {**family.open(), **valid_answers()})
    assert response.status_code == 200 and response.get_data() == b""
    assert read.count(Concern) == 0
    assert read.count(AuditEvent, AuditEvent.action == "concern_raised") == 0


def test_a_head_with_a_daily_check_answer_records_nothing(app, client, trust, read):
    form = {"csrf_token": token(client.get("/w/w8/daily").get_data(as_text=True)), **GOOD}
    response = head(client, "/w/w8/daily", {**form, "bed": str(bed_id(app, trust["beds_ward"]))})
    assert response.status_code == 200 and response.get_data() == b""
    assert read.count(DailyCheckAnswer) == 0


def test_a_head_with_the_second_pages_answers_adds_nothing(client, family, read):
    send_first_page(client, family)
    response = head(client, "/w/w7/more", {"dob_day": "15", "dob_month": "3", "dob_year": "1947"})
    assert response.status_code == 200 and response.get_data() == b""
    assert read.one(Concern).patient_dob is None
    assert read.count(AuditEvent, AuditEvent.action == "family_added_details") == 0
