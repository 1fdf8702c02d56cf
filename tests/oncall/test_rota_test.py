""" "Test the rota" texts each number on call once, however many places on the rota it holds (a duty phone two
people share, one person in two tiers), and its results page names everyone behind each number. The page refreshes
its rows by itself: a small rows endpoint answers 304 while nothing has changed, and says when every text has its
final result (the page's script then stops asking)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.conftest import sign_in_directly
from tests.oncall.test_oncall_pages import TEAM, on_call, post  # noqa: F401 (a fixture)
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Message, SendState, Shift, ShiftKind, Tier, User
from tracker.worker import Worker

PRIMARY, SECONDARY, LEAD = "+447400100001", "+447400100002", "+447400100003"
NAMES = {"primary": "Asha Patel", "secondary": "Ben Okafor", "lead": "Chris Doyle"}


def rows_of(page: str) -> list[str]:
    """Each result row's text, in order, with its markup, spacing and the phone layout's hidden headings taken out."""
    found = re.findall(r"<tr role=\"row\" class=\"nhsuk-table__row\"[^>]*>(.*?)</tr>", page, re.S)
    found = [re.sub(r'<span class="nhsuk-table-responsive__heading"[^>]*>.*?</span>', " ", row) for row in found]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in found]


@pytest.fixture
def named(app, on_call):  # noqa: F811
    with app.app_context(), write_intent():
        for tier, user_id in on_call["people"].items():
            db.session.get(User, user_id).display_name = NAMES[tier]
        db.session.commit()
    return on_call


def share_the_primarys_phone(app, people):
    with app.app_context(), write_intent():
        db.session.get(User, people["lead"]).mobile = PRIMARY  # the duty phone, handed between them
        db.session.commit()


def primary_also_secondary(app, people):
    with app.app_context(), write_intent():
        primary = db.session.get_one(User, people["primary"])
        db.session.add(
            Shift(
                team_id=primary.teams[0].id,
                tier=Tier.SECONDARY,
                user_id=primary.id,
                kind=ShiftKind.EXTRA,
                starts_at=utcnow() - timedelta(hours=1),
                ends_at=utcnow() + timedelta(hours=8),
            )
        )
        db.session.commit()


@pytest.mark.parametrize(
    ("arrange", "texted", "counts", "shared_row"),
    [
        (
            share_the_primarys_phone,
            [PRIMARY, SECONDARY],
            (3, 2, 1),
            "Asha Patel Chris Doyle Primary Lead 07400 100001 Sending Texted once: this number is on the rota for "
            "Asha Patel (primary) and Chris Doyle (lead).",
        ),
        (
            primary_also_secondary,
            [PRIMARY, SECONDARY, LEAD],
            (4, 3, 1),
            "Asha Patel Primary Secondary 07400 100001 Sending Texted once: this number is on the rota for "
            "Asha Patel (primary and secondary).",
        ),
    ],
    ids=["a duty phone two people share", "one person in two tiers"],
)
def test_each_number_on_call_is_texted_once_and_the_page_says_who_shares_it(
    app, client, read, named, sms, arrange, texted, counts, shared_row
):
    arrange(app, named["people"])
    sign_in_directly(app, client, named["people"]["primary"])
    results_url = post(client, f"{TEAM}/test").headers["Location"]
    rows = rows_of(client.get(results_url).get_data(as_text=True))
    assert len(rows) == len(texted)
    assert rows[0] == shared_row
    assert all("Texted once" not in row for row in rows[1:])
    changes = read.one(AuditEvent, AuditEvent.action == "rota_tested").changes
    assert (changes["places"], changes["texts"], changes["shared_numbers"]) == counts

    Worker(app, sender=sms).run_once()
    assert sorted(text.to for text in sms.sent) == texted  # one text to each number


def test_the_rota_test_still_texts_a_third_number_when_two_people_share_one(app, client, on_call, sms):  # noqa: F811
    share_the_primarys_phone(app, on_call["people"])
    with app.app_context(), write_intent():
        db.session.get(User, on_call["people"]["secondary"]).mobile = "+447400100009"
        db.session.commit()
    sign_in_directly(app, client, on_call["people"]["primary"])
    post(client, f"{TEAM}/test")
    Worker(app, sender=sms).run_once()
    assert sorted(text.to for text in sms.sent) == [PRIMARY, "+447400100009"]


def test_the_rows_refresh_answers_304_until_a_delivery_report_changes_them(app, client, on_call, sms):  # noqa: F811
    sign_in_directly(app, client, on_call["people"]["primary"])
    results_url = post(client, f"{TEAM}/test").headers["Location"]
    page = client.get(results_url).get_data(as_text=True)
    rows_url = html.unescape(re.search(r'data-rows-url="([^"]+)"', page).group(1))
    version = re.search(r'data-version="([^"]+)"', page).group(1)
    assert rows_url == f"{results_url}/rows"

    first = client.get(rows_url, headers={"If-None-Match": f'"{version}"'})
    assert first.status_code == 304 and first.headers["ETag"] == f'"{version}"'

    Worker(app, sender=sms).run_once()  # both accepted: "Sent", not yet delivered
    sent = client.get(rows_url, headers={"If-None-Match": f'"{version}"'})
    assert sent.status_code == 200 and sent.headers["ETag"] != f'"{version}"'
    assert 'data-settled="false"' in sent.get_data(as_text=True)
    assert [row.split(" Sent")[0] for row in rows_of(sent.get_data(as_text=True))] == [
        "Test outreach Primary 07400 100001",
        "Test outreach Secondary 07400 100002",
        "Test outreach Lead 07400 100003",
    ]

    with app.app_context(), write_intent():
        db.session.execute(update(Message).where(Message.to_number == PRIMARY).values(delivery_status="delivered"))
        db.session.execute(
            update(Message)
            .where(Message.to_number != PRIMARY, Message.template_id == "rota_test")
            .values(delivery_status="undelivered", send_state=SendState.ACCEPTED)
        )
        db.session.commit()
    done = client.get(rows_url, headers={"If-None-Match": sent.headers["ETag"]})
    assert done.status_code == 200
    body = done.get_data(as_text=True)
    assert 'data-settled="true"' in body and "Received" in body and "Failed" in body
    assert "Sending" not in body


def test_the_rows_refresh_is_not_activity_and_an_unknown_run_is_404(app, client, on_call):  # noqa: F811
    from tracker.web.authorisation import PASSIVE_ENDPOINTS

    assert "oncall.test_result_rows" in PASSIVE_ENDPOINTS  # polling never keeps an idle session alive
    sign_in_directly(app, client, on_call["people"]["primary"])
    assert client.get(f"{TEAM}/test/0123abcd/rows").status_code == 404
    assert client.get(f"{TEAM}/test/not-a-run/rows").status_code == 404


def test_correcting_a_shared_number_that_failed_corrects_it_for_everyone_still_on_it(app, client, read, named, sms):
    share_the_primarys_phone(app, named["people"])
    sign_in_directly(app, client, named["people"]["secondary"])
    post(client, f"{TEAM}/test")
    with app.app_context(), write_intent():
        db.session.execute(
            update(Message)
            .where(Message.to_number == PRIMARY)
            .values(send_state=SendState.DEAD, error_reason="Unknown number")
        )
        db.session.commit()
    failed = read.one(Message, Message.to_number == PRIMARY)
    assert post(client, f"/on-call/failed-messages/{failed.id}/resend", {"number": "07400 100777"}).status_code == 302
    mobiles = {user_id: read.one(User, User.id == user_id).mobile for user_id in named["people"].values()}
    assert mobiles == {
        named["people"]["primary"]: "+447400100777",
        named["people"]["secondary"]: SECONDARY,
        named["people"]["lead"]: "+447400100777",
    }
    Worker(app, sender=sms).run_once()
    assert [text.to for text in sms.sent].count("+447400100777") == 1
