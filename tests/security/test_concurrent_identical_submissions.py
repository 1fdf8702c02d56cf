"""Identical family submissions sent at the same moment (a family pressing Send on two phones, a
tablet retrying) each end as a new concern or a merge into it: never "Your request has not been
sent". On PostgreSQL the requests truly run in parallel, so this is where a lock-order fault or a
stale merge would show; SQLite serialises writers and runs the same test as a check."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import hidden_fields, live_server, valid_answers
from tracker.models import AuditEvent, Concern
from tracker.services.records.audit import verify_chain

IDENTICAL = 60
DISTINCT = 200


def send(base_url: str, answers: dict, start: threading.Barrier) -> int:
    session = requests.Session()
    session.trust_env = False
    hidden = hidden_fields(session.get(f"{base_url}/w/w7", timeout=60).text)
    start.wait(timeout=120)
    response = session.post(f"{base_url}/w/w7", data={**hidden, **answers}, allow_redirects=False, timeout=120)
    return response.status_code


def burst(app, answers: list[dict]) -> list[int]:
    with live_server(app) as base_url:
        start = threading.Barrier(len(answers))
        with ThreadPoolExecutor(max_workers=len(answers)) as pool:
            return list(pool.map(lambda a: send(base_url, a, start), answers))


@pytest.fixture
def no_burst_limits(app, monkeypatch):
    # One test machine is one device and one address: lift the burst limits (they only flag anyway).
    monkeypatch.setitem(app.config, "DEVICE_CONCERN_LIMIT", "10000 per minute")
    monkeypatch.setitem(app.config, "ADDRESS_CONCERN_LIMIT", "10000 per minute")


@pytest.mark.postgres
def test_sixty_identical_and_two_hundred_distinct_submissions_at_once_are_each_a_concern_or_a_merge(
    app, trust, read, no_burst_limits
):
    answers = [valid_answers() for _ in range(IDENTICAL)]
    answers += [valid_answers(worry_details=f"Family {n} is worried about breathing") for n in range(DISTINCT)]
    statuses = burst(app, answers)
    assert statuses == [303] * (IDENTICAL + DISTINCT)
    concerns = read.all(Concern)
    assert len(concerns) == DISTINCT + 1
    merged = next(c for c in concerns if c.worry_details == valid_answers()["worry_details"])
    assert merged.repeat_count == IDENTICAL - 1
    assert read.count(AuditEvent, AuditEvent.action == "repeat_merged") == IDENTICAL - 1
    with app.app_context():
        report = verify_chain()
    assert report.ok, report


def test_forty_identical_submissions_at_once_make_one_concern(app, trust, read, no_burst_limits):
    statuses = burst(app, [valid_answers() for _ in range(40)])
    assert statuses == [303] * 40
    assert read.one(Concern).repeat_count == 39
