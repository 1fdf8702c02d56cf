"""The automatic reply to a caller's text after their call ended is in the language they read the pages
in, with the trust's own emergency instruction in that language where its translators wrote one
(docs/architecture.md#languages)."""

from __future__ import annotations

from sqlalchemy import update

from tests.conftest import FAMILY_MOBILE
from tests.public.test_page_language import POLISH_INSTRUCTION, languages  # noqa: F401 (a fixture)
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, ConcernStatus
from tracker.outbox.inbound import InboundText, receive_text


def _raise_and_close_in(client, family, app, code: str) -> None:
    client.get(f"/w/w7?lang={code}")
    family.submit()
    with app.app_context(), write_intent():
        db.session.execute(update(Concern).values(status=ConcernStatus.CLOSED, closed_at=utcnow()))
        db.session.commit()


def test_a_follow_up_reply_is_in_the_callers_language_with_the_trusts_own_words(app, client, family, languages):  # noqa: F811
    _raise_and_close_in(client, family, app, "pl")
    with app.test_request_context(), write_intent():
        reply = receive_text(InboundText(FAMILY_MOBILE, "Jest gorzej", "SM" + "a" * 32))
        db.session.commit()
    assert reply.text is not None
    assert POLISH_INSTRUCTION[:60] in reply.text
    assert reply.text != reply.text.encode("ascii", "ignore").decode()  # Polish letters, not English


def test_without_the_trusts_words_in_that_language_the_english_instruction_is_used(app, client, family, languages):  # noqa: F811
    _raise_and_close_in(client, family, app, "bn")
    with app.test_request_context(), write_intent():
        reply = receive_text(InboundText(FAMILY_MOBILE, "আরও খারাপ", "SM" + "b" * 32))
        db.session.commit()
    assert reply.text is not None and "Press the red buzzer or ask any nurse now." in reply.text
