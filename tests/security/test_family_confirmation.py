"""The family's confirmation lives on the server: the browser's cookie holds an opaque id only, so
a shared tablet's cookie jar holds nothing personal; the number shows masked; the worker deletes
confirmations after 24 hours."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from tests.conftest import FAMILY_MOBILE, enrol_tablet
from tracker.clock import utcnow
from tracker.models import Concern, Confirmation


def cookie_contents(app, client) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    serializer = app.session_interface.get_signing_serializer(app)
    return str(serializer.loads(cookie.value))


def test_the_session_cookie_holds_neither_the_number_nor_the_reference(app, client, family, read):
    response = family.submit()
    assert response.status_code == 303
    reference = read.one(Concern).reference
    contents = cookie_contents(app, client)
    assert reference not in contents
    assert FAMILY_MOBILE not in contents and "123456" not in contents and "07400" not in contents


def test_the_confirmation_shows_the_reference_and_the_number_masked(client, family, read):
    family.submit()
    page = client.get("/w/w7/sent").get_data(as_text=True)
    assert read.one(Concern).reference in page
    assert "07••• ••• 456" in page
    assert "07400 123456" not in page and "123456" not in page


def test_the_worker_deletes_confirmations_after_24_hours(app, client, family, read):
    from tracker.worker import Worker

    family.submit()
    assert read.count(Confirmation) == 1
    worker = Worker(app)
    with time_machine.travel(utcnow() + timedelta(hours=23), tick=False):
        worker.run_once()
    assert read.count(Confirmation) == 1
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        worker.run_once()
    assert read.count(Confirmation) == 0


def test_a_kiosk_forgets_the_last_confirmation_when_the_form_opens_again(client, family, app, trust):
    enrol_tablet(app, client, trust)
    family.submit()
    assert client.get("/w/w7/sent").status_code == 200
    family.open()
    back = client.get("/w/w7/sent")
    assert back.status_code == 302 and re.search(r"/w/w7", back.headers["Location"])
