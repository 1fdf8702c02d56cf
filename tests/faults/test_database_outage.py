"""The database failing under a family's submission (docs/architecture.md#testing): PostgreSQL restarted while the
app serves, and SQLite's file full. Families get the kind 503 that keeps what they typed, never a 500; the app
recovers without a restart; and every concern whose confirmation page showed a reference is stored, once, with
its texts queued."""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from tests.conftest import ON_POSTGRES, build_trust, hidden_fields, live_server, make_config, valid_answers
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, Message
from tracker.services.records import audit
from tracker.services.setup import settings
from tracker.services.setup.settings import forget_settings

REFERENCE = re.compile(r"data-reference>([A-Z0-9-]+)<")
NOT_SENT = "Your request has not been sent"
LIMITS = {"DEVICE_CONCERN_LIMIT": "10000 per minute", "ADDRESS_CONCERN_LIMIT": "10000 per minute"}


@dataclass
class Attempt:
    details: str
    status: int  # the answer to the POST
    reference: str | None = None  # shown on the confirmation page: the family was told it was received
    body: str = ""


def submit(base_url: str, details: str) -> Attempt:
    """One family: open the form, send it, and read the confirmation page if sent there."""
    browser = requests.Session()
    browser.trust_env = False
    form = browser.get(f"{base_url}/w/w7", timeout=30)
    if form.status_code != 200:
        return Attempt(details, form.status_code, body=form.text)
    sent = browser.post(
        f"{base_url}/w/w7",
        data={**hidden_fields(form.text), **valid_answers(worry_details=details)},
        allow_redirects=False,
        timeout=30,
    )
    attempt = Attempt(details, sent.status_code, body=sent.text)
    if sent.status_code == 303:
        page = browser.get(base_url + sent.headers["Location"], timeout=30)
        found = REFERENCE.search(page.text) if page.status_code == 200 else None
        attempt.reference = found.group(1) if found else None
    return attempt


def assert_kind_refusals(attempts: list[Attempt]) -> None:
    """Every answer is a success or the kind 503: never a 500, and a refused form keeps the text typed."""
    for attempt in attempts:
        assert attempt.status in (200, 303, 503), (attempt.status, attempt.body[:2000])
        if attempt.status == 503 and 'name="worry_details"' in attempt.body:
            assert NOT_SENT in attempt.body and attempt.details in attempt.body, attempt.body[:2000]


def stored(app) -> dict[str, tuple[str, int]]:
    """Each stored concern's details: its reference and how many texts it queued."""
    with app.app_context():
        rows = db.session.execute(
            select(Concern.worry_details, Concern.reference, func.count(Message.id))
            .outerjoin(Message, Message.concern_id == Concern.id)
            .group_by(Concern.id)
        ).all()
        db.session.rollback()
    details = [row[0] for row in rows]
    assert len(details) == len(set(details)), "a submission was stored twice"
    return {row[0]: (row[1], row[2]) for row in rows}


def assert_nothing_received_is_lost(app, attempts: list[Attempt]) -> None:
    kept = stored(app)
    for attempt in attempts:
        if attempt.reference is not None:
            assert attempt.details in kept, f"{attempt.details!r} was confirmed as received but is not stored"
            assert kept[attempt.details][0] == attempt.reference
    # No half-written concern: each has its alert and its receipt queued with it.
    assert all(count == 2 for _reference, count in kept.values()), kept
    with app.app_context():
        assert audit.verify_chain().ok


HIDDEN_KEPT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
TEXTAREA = re.compile(r'<textarea[^>]*name="worry_details"[^>]*>([^<]*)</textarea>')


def open_form(base_url: str) -> tuple[requests.Session, dict]:
    browser = requests.Session()
    browser.trust_env = False
    form = browser.get(f"{base_url}/w/w7", timeout=30)
    assert form.status_code == 200
    return browser, hidden_fields(form.text)


def press_send(base_url: str, browser: requests.Session, hidden: dict, details: str) -> str:
    """Send the form while the database is down: the kind 503, with what was typed still there."""
    answer = browser.post(
        f"{base_url}/w/w7", data={**hidden, **valid_answers(worry_details=details)}, allow_redirects=False, timeout=30
    )
    assert answer.status_code == 503, (answer.status_code, answer.text[:2000])
    assert NOT_SENT in answer.text and details in answer.text, answer.text[:3000]
    return answer.text


def send_again(base_url: str, browser: requests.Session, page: str) -> Attempt:
    """Press Send request on the page that kept the answers (retrying until the database is back). The page is
    the family's form itself, filled in (the save failed), or the plain page that keeps the answers (the
    database failed before the form could be drawn)."""
    details = html.unescape(TEXTAREA.search(page).group(1))
    if 'name="caller_route"' in page:  # the form, its answers filled in as they were
        fields = list({**hidden_fields(page), **valid_answers(worry_details=details)}.items())
    else:
        fields = [(name, html.unescape(value)) for name, value in HIDDEN_KEPT.findall(page)]
        fields.append(("worry_details", details))
    for _ in range(100):
        sent = browser.post(f"{base_url}/w/w7", data=fields, allow_redirects=False, timeout=30)
        if sent.status_code != 503:
            break
        time.sleep(0.1)
    assert sent.status_code == 303, (sent.status_code, sent.text[:2000])
    confirmation = browser.get(base_url + sent.headers["Location"], timeout=30)
    return Attempt(details, 303, REFERENCE.search(confirmation.text).group(1))


def received(attempts: list[Attempt], since: int, count: int, timeout: float = 60) -> None:
    """Wait until `count` families since attempt `since` were told their request was received."""
    deadline = time.monotonic() + timeout
    while sum(a.reference is not None for a in attempts[since:]) < count and time.monotonic() < deadline:
        time.sleep(0.05)


# --- PostgreSQL restarted while serving ----------------------------------------------------------------------------


@pytest.mark.postgres  # runs once, in CI's PostgreSQL step, on a cluster of its own (never TEST_DATABASE_URL's)
def test_postgres_restarted_while_families_submit(throwaway_postgres, build_app):
    app = build_app(make_config(throwaway_postgres.url, **LIMITS))
    with app.app_context():
        upgrade()
    with app.app_context(), write_intent():
        build_trust()
    attempts: list[Attempt] = []
    stop = threading.Event()

    def family(number: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            details = f"Family {number} worried {n}"
            try:
                attempts.append(submit(base_url, details))
            except requests.RequestException as error:  # the server dropped the request: as bad as a 500
                attempts.append(Attempt(details, 0, body=repr(error)))
            time.sleep(0.02)

    with live_server(app) as base_url:
        families = [threading.Thread(target=family, args=(k,), daemon=True) for k in range(3)]
        for thread in families:
            thread.start()
        received(attempts, 0, 3)
        before = len(attempts)
        opened = [open_form(base_url) for _ in range(2)]  # families about to press Send
        throwaway_postgres.stop("fast")
        refused = [
            press_send(base_url, browser, hidden, f"Sent in the outage {n}")
            for n, (browser, hidden) in enumerate(opened)
        ]
        time.sleep(0.5)  # the outage: the other families keep pressing Send too
        throwaway_postgres.start()
        restarted = len(attempts)
        # The refused families press Send again on the page that kept their answers: sent, once.
        resent = [send_again(base_url, browser, page) for (browser, _hidden), page in zip(opened, refused, strict=True)]
        received(attempts, restarted, 3)
        stop.set()
        for thread in families:
            thread.join(timeout=60)
    attempts += resent
    assert before > 0 and any(a.reference for a in attempts[:before]), "nothing was sent before the outage"
    assert any(a.status == 503 for a in attempts), ("no request met the outage", [a.status for a in attempts])
    assert_kind_refusals(attempts)
    # Recovered without restarting the app: families are told "received" again.
    assert sum(a.reference is not None for a in attempts[restarted:]) >= 3, [a.status for a in attempts[restarted:]]
    assert_nothing_received_is_lost(app, attempts)


# --- the database failing before the form is read ------------------------------------------------------------------


def test_a_database_failure_before_the_form_is_read_keeps_what_the_family_typed(app, family, monkeypatch):
    """Where the app fails first in an outage: reading the trust's settings (cached for a minute) before the
    form is even parsed. Once a 500 that lost the family's words."""
    hidden = family.open()

    def unreachable():
        raise OperationalError("SELECT settings", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(settings, "_load", unreachable)
    forget_settings()
    refused = family.submit(hidden, worry_details="Typed as the database went down")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 503
    assert (
        NOT_SENT in page and "Typed as the database went down" in page and "020 7946 0101" in page
    )  # the ward's team, as last known
    assert family.client.get("/w/w7").status_code == 503  # the kind page, not a 500

    monkeypatch.undo()
    forget_settings()
    fields = [(name, html.unescape(value)) for name, value in HIDDEN_KEPT.findall(page)]
    kept = MultiDict([*fields, ("worry_details", html.unescape(TEXTAREA.search(page).group(1)))])
    again = family.client.post("/w/w7", data=kept)
    assert again.status_code == 303  # the kept answers, token and submission id send it, once
    assert list(stored(app)) == ["Typed as the database went down"]


# --- SQLite full ---------------------------------------------------------------------------------------------------


@pytest.mark.skipif(
    ON_POSTGRES, reason="SQLite-only test: it runs in the SQLite step (its database is a file of its own)"
)
def test_a_full_sqlite_database_refuses_a_family_kindly_and_keeps_what_they_typed(tmp_path, build_app):
    app = build_app(make_config(f"sqlite:///{tmp_path / 'full.db'}", **LIMITS))
    with app.app_context():
        upgrade()
    with app.app_context(), write_intent():
        build_trust()
    client = app.test_client()

    def send(details: str):
        hidden = hidden_fields(client.get("/w/w7").get_data(as_text=True))
        return client.post("/w/w7", data={**hidden, **valid_answers(worry_details=details)})

    assert send("Sent while there is room").status_code == 303
    with app.app_context():
        engine = db.engine
        pages = db.session.execute(text("PRAGMA page_count")).scalar_one()
        db.session.rollback()
        engine.dispose()

        # Every connection from now on may not grow the file: it is full.
        @event.listens_for(engine, "connect")
        def full(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages)}")

    refused = []
    for n in range(40):  # until the last free pages are used up
        response = send(f"Sent when the disk is full {n}")
        assert response.status_code in (303, 503), response.get_data(as_text=True)[:2000]
        if response.status_code == 503:
            refused.append((n, response.get_data(as_text=True)))
            break
    assert refused, "the database never filled up"
    n, body = refused[0]
    assert NOT_SENT in body and f"Sent when the disk is full {n}" in body
    kept = stored(app)
    assert f"Sent when the disk is full {n}" not in kept
    assert all(count == 2 for _reference, count in kept.values())
